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
public final class RateLimiters {

    private final Map<String, RateLimiter> byName;

    private RateLimiters(Map<String, RateLimiter> byName) {
        this.byName = byName;
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
     * @throws IllegalArgumentException for a duplicate name, or a {@code scope: shared} limiter (not supported yet)
     */
    public static RateLimiters build(Collection<RateLimitDefinition> definitions, @Nullable RateLimiters previous,
            LongSupplier nanoTime, long maxKeysPerLimiter) {
        Objects.requireNonNull(nanoTime, "nanoTime");
        Map<String, RateLimiter> byName = new LinkedHashMap<>();
        for (RateLimitDefinition definition : definitions) {
            if (byName.containsKey(definition.name())) {
                throw new IllegalArgumentException("rate limiter \"" + definition.name()
                        + "\" is defined twice (expected: distinct names)");
            }
            if (definition.scope() == Scope.SHARED) {
                throw new IllegalArgumentException("rate limiter \"" + definition.name()
                        + "\": scope: shared is not supported yet (expected: scope: local)");
            }
            RateLimiter kept = previous == null ? null : previous.get(definition.name());
            if (kept instanceof LocalRateLimiter local && local.definition().equals(definition)
                    && local.maxKeys() == maxKeysPerLimiter) {
                byName.put(definition.name(), local);
            } else {
                byName.put(definition.name(), new LocalRateLimiter(definition, nanoTime, maxKeysPerLimiter));
            }
        }
        return new RateLimiters(Collections.unmodifiableMap(byName));
    }

    /** No limiters. */
    public static RateLimiters none() {
        return new RateLimiters(Map.of());
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
