package dev.portcullis.core.decision;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.KeyWait;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.SharedRateLimiter;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * What the decision step made of a request: decided now, waiting for the key fetch its token started, or allowed by
 * its rule and waiting for the shared rate limit store.
 */
public sealed interface Verdict permits Verdict.Decided, Verdict.AwaitingKeys, Verdict.AwaitingRateLimit {

    /**
     * The request is decided.
     *
     * @param decision the policy's decision: proxy (200) or the status to answer
     * @param identity who the request is; {@link Identity#ANONYMOUS} when none or the token was rejected
     * @param tokenRejection why a presented token was rejected (the 401 then says {@code invalid_token}), or null
     * @param retryAfterSeconds for a 429, the whole seconds until the rate limit admits the request again; else 0
     * @param country the client's GeoIP country when GeoIP is configured (for the log), else null
     */
    record Decided(Decision decision, Identity identity, @Nullable RejectReason tokenRejection, int retryAfterSeconds,
            @Nullable String country) implements Verdict {
        /** Rejects null components. */
        public Decided {
            Objects.requireNonNull(decision, "decision");
            Objects.requireNonNull(identity, "identity");
        }
    }

    /**
     * The token's key is not known yet and a fetch is on its way: once {@code keys.landed()} completes, or the
     * caller stops waiting first, pass {@code keys.settle()} to {@link DecisionStep#afterKeys}; a request dropped
     * without a decision (its client gone) is {@linkplain KeyWait#abandon() abandoned}. Either counts the token once.
     *
     * @param keys the token's wait for the key fetch
     */
    record AwaitingKeys(KeyWait keys) implements Verdict {
        /** Rejects a null wait. */
        public AwaitingKeys {
            Objects.requireNonNull(keys, "keys");
        }
    }

    /**
     * The rule allows the request and its limiter's bucket lives in the shared store: once {@code answer}
     * completes, {@link #settle} gives the decision. The store completes {@code answer} within {@code timeout}
     * (exceptionally when it failed or was too slow), so the caller only waits for it, without blocking.
     *
     * @param allowed the verdict if the limiter admits the request
     * @param limiter the limiter asked
     * @param answer the store's answer; may complete on another thread
     */
    record AwaitingRateLimit(Decided allowed, SharedRateLimiter limiter, CompletableFuture<RateLimitResult> answer)
            implements Verdict {
        /** Rejects null components. */
        public AwaitingRateLimit {
            Objects.requireNonNull(allowed, "allowed");
            Objects.requireNonNull(limiter, "limiter");
            Objects.requireNonNull(answer, "answer");
        }

        /** How long the caller may have to wait: the store's {@code timeout}. */
        public Duration timeout() {
            return limiter.timeout();
        }

        /**
         * Stops waiting: completes {@code answer} as a timeout (a store failure, so {@code on_error} decides) unless
         * it is complete already; false then.
         */
        public boolean expire() {
            return answer.completeExceptionally(new TimeoutException("rate_limit_store "
                    + limiter.handle().settings().address() + ": no answer within " + timeout().toMillis() + "ms"));
        }

        /**
         * Stops waiting without a decision (the client went away, or the gateway gave up on the request): cancels
         * {@code answer}, which the store then counts as no failure, since {@code on_error} decided nothing.
         */
        public void abandon() {
            answer.cancel(false);
        }

        /**
         * The decision for the store's {@code result}, or, when the store failed or timed out ({@code result}
         * null), for the limiter's {@code on_error}.
         */
        public Decided settle(@Nullable RateLimitResult result) {
            boolean failed = !(result instanceof RateLimitResult.Admitted) && !(result instanceof RateLimitResult.Limited);
            RateLimitResult settled = limiter.settle(result);
            Decision decision = allowed.decision();
            if (settled instanceof RateLimitResult.Limited limited) {
                String reason = failed
                        ? "rate limit store unavailable for " + limiter.name() + " (on_error: deny)"
                        : "rate limited by " + limiter.name();
                return new Decided(new Decision(Effect.DENY, decision.rule(), reason, 429, decision.audit()),
                        allowed.identity(), allowed.tokenRejection(), limited.retryAfterSeconds(), allowed.country());
            }
            if (failed) {
                return new Decided(new Decision(Effect.ALLOW, decision.rule(), decision.reason()
                        + " (rate limit store unavailable for " + limiter.name() + ", on_error: allow)", 200,
                        decision.audit()), allowed.identity(), allowed.tokenRejection(), 0, allowed.country());
            }
            return allowed;
        }
    }
}
