package dev.portcullis.core.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.ratelimit.RateLimitDefinition.KeyKind;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Validation and key parsing of {@link RateLimitDefinition}, and the {@code Retry-After} rounding of results. */
class RateLimitDefinitionTest {

    private static final Duration MINUTE = Duration.ofMinutes(1);

    @Test
    void parsesEachKeyAsWrittenInTheConfig() {
        RateLimitDefinition subject = RateLimitDefinition.parseKey("per-user", "subject", 100, MINUTE, 20, Scope.LOCAL);
        RateLimitDefinition ip = RateLimitDefinition.parseKey("per-ip", "client_ip", 20, Duration.ofSeconds(1), 0,
                Scope.LOCAL);
        RateLimitDefinition tenant = RateLimitDefinition.parseKey("per-tenant", "header:X-Tenant", 1000, MINUTE, 0,
                Scope.SHARED);

        assertThat(subject).isEqualTo(
                new RateLimitDefinition("per-user", KeyKind.SUBJECT, null, 100, MINUTE, 20, Scope.LOCAL));
        assertThat(subject.capacity()).isEqualTo(120);
        assertThat(ip.key()).isEqualTo(KeyKind.CLIENT_IP);
        assertThat(ip.header()).isNull();
        assertThat(tenant.key()).isEqualTo(KeyKind.HEADER);
        assertThat(tenant.header()).isEqualTo("X-Tenant");
        assertThat(tenant.scope()).isEqualTo(Scope.SHARED);
        assertThat(subject.keyText()).isEqualTo("subject");
        assertThat(ip.keyText()).isEqualTo("client_ip");
        assertThat(tenant.keyText()).isEqualTo("header:X-Tenant");
    }

    @Test
    void rejectsAKeyThatIsNoneOfTheKinds() {
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "user", 1, MINUTE, 0, Scope.LOCAL))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"user\" is not a valid rate limit key (expected: subject, client_ip or header:<Name>)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "Subject", 1, MINUTE, 0, Scope.LOCAL))
                .hasMessage("\"Subject\" is not a valid rate limit key (expected: subject, client_ip or header:<Name>)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "header:", 1, MINUTE, 0, Scope.LOCAL))
                .hasMessage("\"header:\" is not a valid rate limit key: \"\" is not a valid header name"
                        + " (expected: an HTTP token, e.g. header:X-Tenant)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "header:X Tenant", 1, MINUTE, 0, Scope.LOCAL))
                .hasMessage("\"header:X Tenant\" is not a valid rate limit key: \"X Tenant\" is not a valid header"
                        + " name (expected: an HTTP token, e.g. header:X-Tenant)");
    }

    @Test
    void rejectsNumbersOutOfRangeShowingValueAndExpectation() {
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "subject", 0, MINUTE, 0, Scope.LOCAL))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit 0 is out of range (expected: 1 or more)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "subject", 1, Duration.ZERO, 0, Scope.LOCAL))
                .hasMessage("per PT0S is out of range (expected: a positive duration)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "subject", 1, Duration.ofSeconds(-1), 0,
                Scope.LOCAL))
                .hasMessage("per PT-1S is out of range (expected: a positive duration)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "subject", 1, MINUTE, -1, Scope.LOCAL))
                .hasMessage("burst -1 is out of range (expected: 0 or more)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "subject", Long.MAX_VALUE, MINUTE, 1, Scope.LOCAL))
                .hasMessage("limit 9223372036854775807 + burst 1 per PT1M is too large to count"
                        + " (expected: a smaller limit, burst or per)");
        assertThatThrownBy(() -> RateLimitDefinition.parseKey("l", "subject", 1_000_000_007L,
                Duration.ofDays(365 * 200), 0, Scope.LOCAL))
                .hasMessageContaining("is too large to count");
    }

    @Test
    void requiresAHeaderNameExactlyForHeaderKeys() {
        assertThatThrownBy(() -> new RateLimitDefinition("l", KeyKind.HEADER, null, 1, MINUTE, 0, Scope.LOCAL))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key header has no header name (expected: header:<Name>)");
        assertThatThrownBy(() -> new RateLimitDefinition("l", KeyKind.SUBJECT, "X-Tenant", 1, MINUTE, 0, Scope.LOCAL))
                .hasMessage("key subject has a header name \"X-Tenant\" (expected: a header name only with"
                        + " header:<Name>)");
        assertThatThrownBy(() -> new RateLimitDefinition("l", KeyKind.HEADER, "X:Y", 1, MINUTE, 0, Scope.LOCAL))
                .hasMessage("\"X:Y\" is not a valid header name (expected: an HTTP token, e.g. X-Env)");
        assertThatThrownBy(() -> new RateLimitDefinition(" ", KeyKind.SUBJECT, null, 1, MINUTE, 0, Scope.LOCAL))
                .hasMessage("\" \" is not a valid rate limiter name (expected: a non-empty name)");
    }

    @Test
    void largeButReasonableLimitsAreCountedInCoarserUnits() {
        BucketRate exact = BucketRate.of(7, 0, MINUTE);
        assertThat(exact.unitNanos()).isEqualTo(1);
        assertThat(exact.refill()).isEqualTo(7);
        assertThat(exact.cost()).isEqualTo(60_000_000_000L);

        BucketRate perDay = BucketRate.of(1_000_003, 0, Duration.ofDays(1));
        assertThat(perDay.unitNanos()).isEqualTo(1_000);
        assertThat(perDay.nanosToFill()).isEqualTo(Duration.ofDays(1).toNanos());
    }

    @Test
    void parsesTheScope() {
        assertThat(Scope.parse("local")).isEqualTo(Scope.LOCAL);
        assertThat(Scope.parse("shared")).isEqualTo(Scope.SHARED);
        assertThatThrownBy(() -> Scope.parse("global"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"global\" is not a rate limit scope (expected: local or shared)");
    }

    @Test
    void retryAfterRoundsUpToWholeSecondsAndIsAtLeastOne() {
        assertThat(new RateLimitResult.Limited(0).retryAfterSeconds()).isEqualTo(1);
        assertThat(new RateLimitResult.Limited(1).retryAfterSeconds()).isEqualTo(1);
        assertThat(new RateLimitResult.Limited(1_000_000_000).retryAfterSeconds()).isEqualTo(1);
        assertThat(new RateLimitResult.Limited(1_000_000_001).retryAfterSeconds()).isEqualTo(2);
        assertThat(new RateLimitResult.Limited(59_999_999_999L).retryAfterSeconds()).isEqualTo(60);
        assertThat(new RateLimitResult.Limited(Long.MAX_VALUE).retryAfterSeconds()).isEqualTo(Integer.MAX_VALUE);
        assertThatThrownBy(() -> new RateLimitResult.Limited(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retryAfterNanos -1 is negative (expected: 0 or more)");
    }

    @Test
    void aPendingAnswerCarriesTheFutureResult() {
        CompletableFuture<RateLimitResult> later = new CompletableFuture<>();
        RateLimitResult.Pending pending = new RateLimitResult.Pending(later);
        later.complete(RateLimitResult.admitted());

        assertThat(pending.result().join()).isSameAs(RateLimitResult.Admitted.INSTANCE);
    }
}
