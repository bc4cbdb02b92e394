package dev.portcullis.core.ratelimit;

import java.util.concurrent.CompletableFuture;

/**
 * A token-bucket store shared by every replica (SPEC 3, {@code rate_limit_store}): takes one token from a named bucket
 * atomically, on the store's clock.
 *
 * <p>Implementations never block the caller, and complete every answer within the store's {@code timeout}: with
 * {@link RateLimitResult.Admitted} or {@link RateLimitResult.Limited}, or exceptionally when the store failed or
 * was too slow ({@link SharedRateLimiter} then applies {@code on_error}).
 */
public interface SharedBucketStore extends AutoCloseable {

    /**
     * Takes one token from the bucket {@code key}, which starts full.
     *
     * @param key the namespaced bucket key ({@code portcullis:rl:<limiter>:<hash>}), free of raw request values
     * @param rate the bucket's arithmetic ({@link BucketRate#forStore}: microsecond units at least)
     * @param ttlMillis how long an untouched bucket is kept: a full refill period plus a margin
     * @return the answer; a caller that stops waiting without a decision cancels it, which is no store failure
     */
    CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttlMillis);

    /** Closes the connection; answers still pending complete exceptionally. Idempotent. */
    @Override
    void close();

    /** Opens stores; the server provides the Redis one. */
    @FunctionalInterface
    interface Factory {
        /**
         * For processes without a store client ({@code check}, {@code explain}, tests): every answer fails, so
         * {@code on_error} decides.
         */
        Factory NONE = settings -> new SharedBucketStore() {
            @Override
            public CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttlMillis) {
                return CompletableFuture.failedFuture(new IllegalStateException(
                        "no client for rate_limit_store " + settings.address() + " in this process"));
            }

            @Override
            public void close() {
                // nothing was opened
            }
        };

        /** Opens (connects in the background) a store for {@code settings}; never blocks. */
        SharedBucketStore open(SharedStoreSettings settings);
    }
}
