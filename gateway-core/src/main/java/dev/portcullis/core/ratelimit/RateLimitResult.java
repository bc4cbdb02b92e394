package dev.portcullis.core.ratelimit;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link RateLimiter} answers for one request: admitted, limited (429 with {@code Retry-After}), or, for a
 * limiter whose state lives in a remote store, an answer that arrives later without blocking the caller.
 */
public sealed interface RateLimitResult {

    /** The request took a token and may go on; a singleton, so admitting allocates nothing. */
    enum Admitted implements RateLimitResult {
        INSTANCE
    }

    /**
     * The bucket is empty: answer 429.
     *
     * @param retryAfterNanos how long until the bucket holds a token again; at least 0
     */
    record Limited(long retryAfterNanos) implements RateLimitResult {

        private static final long NANOS_PER_SECOND = 1_000_000_000L;

        public Limited {
            if (retryAfterNanos < 0) {
                throw new IllegalArgumentException(
                        "retryAfterNanos " + retryAfterNanos + " is negative (expected: 0 or more)");
            }
        }

        /** The {@code Retry-After} value: the wait rounded up to whole seconds, at least 1 (an HTTP delay-seconds). */
        public int retryAfterSeconds() {
            long seconds = retryAfterNanos / NANOS_PER_SECOND + (retryAfterNanos % NANOS_PER_SECOND == 0 ? 0 : 1);
            return (int) Math.max(1, Math.min(seconds, Integer.MAX_VALUE));
        }
    }

    /**
     * The answer is not known yet: {@code result} completes with {@link Admitted} or {@link Limited} (never another
     * {@code Pending}), or exceptionally when the store failed; the caller then applies its {@code on_error} rule.
     * The local limiter never produces it.
     */
    record Pending(CompletableFuture<RateLimitResult> result) implements RateLimitResult {

        public Pending {
            Objects.requireNonNull(result, "result");
        }
    }

    /** The shared {@link Admitted} answer. */
    static RateLimitResult admitted() {
        return Admitted.INSTANCE;
    }
}
