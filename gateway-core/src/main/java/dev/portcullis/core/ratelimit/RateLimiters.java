package dev.portcullis.core.ratelimit;

import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The rate limiters of one config generation by name, built so that a limiter whose definition did not change keeps
 * its buckets across a reload.
 */
public final class RateLimiters implements AutoCloseable {

    private final Map<String, RateLimiter> byName;
    private final @Nullable SharedStoreHandle store;

    private RateLimiters(Map<String, RateLimiter> byName, @Nullable SharedStoreHandle store) {
        this.byName = byName;
        this.store = store;
    }

    /** Builds {@code definitions} with {@link LocalRateLimiter#DEFAULT_MAX_KEYS} keys per limiter. */
    public static RateLimiters build(
            Collection<RateLimitDefinition> definitions, @Nullable RateLimiters previous, LongSupplier nanoTime) {
        return build(definitions, previous, nanoTime, LocalRateLimiter.DEFAULT_MAX_KEYS);
    }

    /**
     * Builds the limiters of a new generation.
     *
     * @param definitions the limiters, with distinct names
     * @param previous the limiters of the generation being replaced, or null: a limiter whose definition (and key
     *     bound) equals its previous one is that same instance, with its buckets and counter; the others start fresh
     * @param nanoTime the monotonic clock for new limiters
     * @param maxKeysPerLimiter how many keys each new limiter tracks at most
     * @throws IllegalArgumentException for a duplicate name, or a {@code scope: shared} limiter (it needs a store)
     */
    public static RateLimiters build(Collection<RateLimitDefinition> definitions, @Nullable RateLimiters previous,
            LongSupplier nanoTime, long maxKeysPerLimiter) {
        return build(definitions, previous, nanoTime, maxKeysPerLimiter, null, SharedBucketStore.Factory.NONE);
    }

    /**
     * Builds the limiters of a new generation, with a shared store for the {@code scope: shared} ones.
     *
     * @param storeSettings {@code rate_limit_store}, or null when not configured
     * @param stores opens the store; called only when {@code previous} has no open store with equal settings (an
     *     equal one is kept: the connection survives the reload). Close the result ({@link #close()}) when its
     *     generation is closed, so that a store no generation uses is closed.
     * @throws IllegalArgumentException also for a {@code scope: shared} limiter without {@code storeSettings}
     */
    public static RateLimiters build(Collection<RateLimitDefinition> definitions, @Nullable RateLimiters previous,
            LongSupplier nanoTime, long maxKeysPerLimiter, @Nullable SharedStoreSettings storeSettings,
            SharedBucketStore.Factory stores) {
        Objects.requireNonNull(nanoTime, "nanoTime");
        Objects.requireNonNull(stores, "stores");
        SharedStoreHandle store = storeSettings == null ? null : storeFor(storeSettings, previous, stores);
        try {
            Map<String, RateLimiter> byName = new LinkedHashMap<>();
            for (RateLimitDefinition definition : definitions) {
                if (byName.containsKey(definition.name())) {
                    throw new IllegalArgumentException("rate limiter \"" + definition.name()
                            + "\" is defined twice (expected: distinct names)");
                }
                RateLimiter kept = previous == null ? null : previous.get(definition.name());
                if (definition.scope() == Scope.SHARED) {
                    if (store == null) {
                        throw new IllegalArgumentException("rate limiter \"" + definition.name()
                                + "\" has scope: shared but there is no rate_limit_store (expected: a "
                                + "rate_limit_store, or scope: local)");
                    }
                    if (kept instanceof SharedRateLimiter shared && shared.definition().equals(definition)
                            && shared.handle() == store) {
                        byName.put(definition.name(), shared);
                    } else {
                        byName.put(definition.name(), new SharedRateLimiter(definition, store));
                    }
                } else if (kept instanceof LocalRateLimiter local && local.definition().equals(definition)
                        && local.maxKeys() == maxKeysPerLimiter) {
                    byName.put(definition.name(), local);
                } else {
                    byName.put(definition.name(), new LocalRateLimiter(definition, nanoTime, maxKeysPerLimiter));
                }
            }
            return new RateLimiters(Collections.unmodifiableMap(byName), store);
        } catch (RuntimeException e) {
            if (store != null) {
                store.release();
            }
            throw e;
        }
    }

    private static SharedStoreHandle storeFor(
            SharedStoreSettings settings, @Nullable RateLimiters previous, SharedBucketStore.Factory stores) {
        SharedStoreHandle before = previous == null ? null : previous.store;
        if (before != null && before.settings().equals(settings) && before.retain()) {
            return before;
        }
        return new SharedStoreHandle(settings, stores.open(settings));
    }

    /** The shared store of this generation, or null. */
    public @Nullable SharedStoreHandle store() {
        return store;
    }

    /** This generation no longer uses its shared store: closes it unless a newer generation kept it. */
    @Override
    public void close() {
        SharedStoreHandle handle = store;
        if (handle != null) {
            handle.release();
        }
    }

    /** No limiters. */
    public static RateLimiters none() {
        return new RateLimiters(Map.of(), null);
    }

    /** The limiter named {@code name}, or null. */
    public @Nullable RateLimiter get(String name) {
        return byName.get(name);
    }

    /** Every limiter, in definition order. */
    public Collection<RateLimiter> all() {
        return byName.values();
    }

    @Override
    public String toString() {
        return "RateLimiters" + byName.values();
    }
}
