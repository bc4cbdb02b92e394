package dev.portcullis.core.ratelimit;

import dev.portcullis.core.policy.AccessRequest;

/**
 * A named rate limiter that a rule refers to ({@code rate_limit}): it takes one token from the bucket of a request's
 * key and says whether the request may go on.
 *
 * <p>Implementations are thread-safe and never block: one whose state lives in a remote store answers
 * {@link RateLimitResult.Pending} and completes it later.
 */
public interface RateLimiter {

    /** The limiter's name in {@code rate_limits}. */
    String name();

    /** What the limiter was built from; two limiters with equal definitions count the same way. */
    RateLimitDefinition definition();

    /**
     * Takes one token for the request's key ({@link RateLimitDefinition#key()}); requests without the key share one
     * bucket. Called only for a request the policy allows.
     */
    RateLimitResult acquire(AccessRequest request);

    /** How many requests this limiter has limited since it was built (for {@code portcullis_rate_limited_total}). */
    long limitedCount();
}
