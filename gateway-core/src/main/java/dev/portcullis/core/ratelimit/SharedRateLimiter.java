package dev.portcullis.core.ratelimit;

import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * A rate limiter whose buckets live in a {@link SharedBucketStore} that every replica draws on: it names the
 * request's bucket by a hash of its key, asks the store, and decides what a failed or late answer means
 * ({@code on_error}).
 */
public final class SharedRateLimiter implements RateLimiter {

    /*
     * Implementation notes: the bucket key is portcullis:rl:<limiter>:<h>, h the unpadded base64url
     * SHA-256 of the limiter's definition (key kind, limit, per, burst) and the key's value (a subject, an
     * IP, a header value), so the store never holds a raw value; every replica with the same definition
     * computes the same key, and a definition changed by a reload starts with full buckets, as a local
     * limiter does (the old buckets expire). The store's script counts with BucketRate.forStore
     * on the store's clock (TIME), so replicas' clocks do not matter. Limited and failed answers are
     * counted when the caller settles the answer (settle), on whichever thread that is.
     */

    /** The prefix of every bucket key. */
    public static final String KEY_PREFIX = "portcullis:rl:";
    private static final long TTL_MARGIN_MILLIS = 1_000;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final RateLimitDefinition definition;
    private final SharedStoreHandle handle;
    private final BucketRate rate;
    private final String keyPrefix;
    private final byte[] definitionPrefix;
    private final long ttlMillis;
    private final OnError onError;
    private final RateLimitResult onErrorResult;
    private final LongAdder limited = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final ThreadLocal<MessageDigest> sha256 = ThreadLocal.withInitial(SharedRateLimiter::newDigest);

    /**
     * @param definition a {@link Scope#SHARED} definition
     * @param handle the store of this generation
     */
    public SharedRateLimiter(RateLimitDefinition definition, SharedStoreHandle handle) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.handle = Objects.requireNonNull(handle, "handle");
        if (definition.scope() != Scope.SHARED) {
            throw new IllegalArgumentException("rate limiter \"" + definition.name() + "\" has scope "
                    + definition.scope().code() + " (expected: shared for a limiter in the rate limit store)");
        }
        this.rate = BucketRate.forStore(definition.limit(), definition.burst(), definition.per());
        this.keyPrefix = KEY_PREFIX + definition.name() + ":";
        this.definitionPrefix = definitionPrefix(definition);
        long fillMillis = TimeUnit.NANOSECONDS.toMillis(rate.nanosToFill()) + 1;
        this.ttlMillis = fillMillis > Long.MAX_VALUE - TTL_MARGIN_MILLIS ? Long.MAX_VALUE : fillMillis + TTL_MARGIN_MILLIS;
        this.onError = handle.settings().onError();
        this.onErrorResult = onError == OnError.ALLOW
                ? RateLimitResult.Admitted.INSTANCE
                : new RateLimitResult.Limited(NANOS_PER_SECOND);
    }

    @Override
    public String name() {
        return definition.name();
    }

    @Override
    public RateLimitDefinition definition() {
        return definition;
    }

    /** The store this limiter asks. */
    public SharedStoreHandle handle() {
        return handle;
    }

    /** How long a request waits for the store at most. */
    public Duration timeout() {
        return handle.settings().timeout();
    }

    /** What a failed or late answer means. */
    public OnError onError() {
        return onError;
    }

    /** How long an untouched bucket is kept in the store, in milliseconds. */
    public long ttlMillis() {
        return ttlMillis;
    }

    /** Always {@link RateLimitResult.Pending}: the store's answer, settled by {@link #settle}. */
    @Override
    public RateLimitResult acquire(AccessRequest request) {
        CompletableFuture<RateLimitResult> answer;
        try {
            answer = handle.store().take(bucketKey(definition.keyOf(request).toString()), rate, ttlMillis);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return new RateLimitResult.Pending(answer);
    }

    /**
     * What the store's answer means for the request: {@code result} itself, or, when the store failed or did not
     * answer in time ({@code result} null), the {@code on_error} answer: admitted, or limited for one second.
     * Counts limited and failed answers.
     */
    public RateLimitResult settle(@Nullable RateLimitResult result) {
        if (result instanceof RateLimitResult.Admitted) {
            return result;
        }
        if (result instanceof RateLimitResult.Limited) {
            limited.increment();
            return result;
        }
        failures.increment();
        if (onErrorResult instanceof RateLimitResult.Limited) {
            limited.increment();
        }
        return onErrorResult;
    }

    @Override
    public long limitedCount() {
        return limited.sum();
    }

    /** How many answers failed or came too late since this limiter was built. */
    public long failureCount() {
        return failures.sum();
    }

    /** {@code portcullis:rl:<limiter>:<base64url SHA-256 of the definition prefix and the value>}. */
    String bucketKey(String value) {
        MessageDigest digest = sha256.get();
        digest.update(definitionPrefix);
        byte[] hash = digest.digest(value.getBytes(StandardCharsets.UTF_8));
        return keyPrefix + Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    }

    /** What a bucket's tokens mean: {@code <key>|<limit>|<per nanos>|<burst>|}, hashed before each key value. */
    static byte[] definitionPrefix(RateLimitDefinition definition) {
        return (definition.keyText() + "|" + definition.limit() + "|" + definition.per().toNanos() + "|"
                + definition.burst() + "|").getBytes(StandardCharsets.UTF_8);
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "SharedRateLimiter[" + definition.summary() + "]";
    }
}
