package dev.portcullis.core.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.ratelimit.BucketRate;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.RateLimiters;
import dev.portcullis.core.ratelimit.SharedBucketStore;
import dev.portcullis.core.ratelimit.SharedRateLimiter;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** How a shared limiter's answer becomes the request's decision: taken as is, or on_error for a failed one. */
class AwaitingRateLimitTest {

    private static final Verdict.Decided ALLOWED = new Verdict.Decided(
            new Decision(Effect.ALLOW, "api", "allowed by rule api", 200, List.of()), Identity.ANONYMOUS, null, 0,
            null);

    @Test
    void anAdmittedAnswerKeepsTheAllowedVerdict() {
        assertThat(awaiting(OnError.DENY).settle(RateLimitResult.Admitted.INSTANCE)).isSameAs(ALLOWED);
    }

    @Test
    void aLimitedAnswerIs429WithTheBucketsRetryAfter() {
        Verdict.Decided limited = awaiting(OnError.ALLOW).settle(new RateLimitResult.Limited(4_200_000_000L));
        assertThat(limited.decision().status()).isEqualTo(429);
        assertThat(limited.decision().reason()).isEqualTo("rate limited by per-tenant");
        assertThat(limited.decision().rule()).isEqualTo("api");
        assertThat(limited.retryAfterSeconds()).isEqualTo(5);
    }

    @Test
    void aFailedAnswerIsDecidedByOnError() {
        Verdict.Decided allowed = awaiting(OnError.ALLOW).settle(null);
        assertThat(allowed.decision().allowed()).isTrue();
        assertThat(allowed.decision().reason())
                .isEqualTo("allowed by rule api (rate limit store unavailable for per-tenant, on_error: allow)");
        Verdict.Decided denied = awaiting(OnError.DENY).settle(null);
        assertThat(denied.decision().status()).isEqualTo(429);
        assertThat(denied.retryAfterSeconds()).isEqualTo(1);
        assertThat(denied.decision().reason()).isEqualTo("rate limit store unavailable for per-tenant (on_error: deny)");
    }

    @Test
    void expiringCompletesAPendingAnswerAsATimeoutOnceAndLeavesAnAnswerThatIsThere() {
        Verdict.AwaitingRateLimit pending = awaiting(OnError.DENY);
        assertThat(pending.expire()).isTrue();
        assertThat(pending.expire()).isFalse();
        assertThat(pending.answer()).isCompletedExceptionally();
        assertThatThrownBy(() -> pending.answer().join()).hasCauseInstanceOf(TimeoutException.class)
                .hasMessageContaining("rate_limit_store redis://127.0.0.1:6379/0: no answer within 50ms");

        Verdict.AwaitingRateLimit answered = awaiting(OnError.DENY);
        answered.answer().complete(RateLimitResult.Admitted.INSTANCE);
        assertThat(answered.expire()).isFalse();
        assertThat(answered.answer().join()).isSameAs(RateLimitResult.Admitted.INSTANCE);
    }

    private static Verdict.AwaitingRateLimit awaiting(OnError onError) {
        SharedBucketStore.Factory stores = settings -> new SharedBucketStore() {
            @Override
            public CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttlMillis) {
                return new CompletableFuture<>();
            }

            @Override
            public void close() {
                // nothing to close
            }
        };
        RateLimiters limiters = RateLimiters.build(List.of(RateLimitDefinition.parseKey("per-tenant",
                "header:X-Tenant", 10, Duration.ofMinutes(1), 0, Scope.SHARED)), null, System::nanoTime, 10,
                new SharedStoreSettings(false, "127.0.0.1", 6379, 0, null, null, Duration.ofMillis(50), onError),
                stores);
        SharedRateLimiter limiter = (SharedRateLimiter) Objects.requireNonNull(limiters.get("per-tenant"));
        return new Verdict.AwaitingRateLimit(ALLOWED, limiter, new CompletableFuture<>());
    }
}
