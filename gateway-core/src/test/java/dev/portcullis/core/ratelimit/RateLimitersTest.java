package dev.portcullis.core.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Building the limiters of a generation, and keeping their state across a reload. */
class RateLimitersTest {

    private static final Duration MINUTE = Duration.ofMinutes(1);

    private final AtomicLong clock = new AtomicLong(42);
    private final AccessRequest request = request();

    @Test
    void buildsEachDefinitionByNameInOrder() {
        RateLimiters limiters = RateLimiters.build(List.of(def("per-user", "subject", 100, 20),
                def("per-ip", "client_ip", 20, 0)), null, clock::get);

        assertThat(limiters.all()).extracting(RateLimiter::name).containsExactly("per-user", "per-ip");
        assertThat(Objects.requireNonNull(limiters.get("per-ip")).definition()).isEqualTo(def("per-ip", "client_ip",
                20, 0));
        assertThat(limiters.get("per-tenant")).isNull();
        assertThat(RateLimiters.none().all()).isEmpty();
    }

    @Test
    void anUnchangedLimiterKeepsItsBucketsAndCounterAcrossAReload() {
        RateLimiters first = RateLimiters.build(List.of(def("per-ip", "client_ip", 2, 0)), null, clock::get);
        RateLimiter perIp = Objects.requireNonNull(first.get("per-ip"));
        perIp.acquire(request);
        perIp.acquire(request);
        assertThat(perIp.acquire(request)).isInstanceOf(RateLimitResult.Limited.class);

        RateLimiters second = RateLimiters.build(List.of(def("per-ip", "client_ip", 2, 0),
                def("per-user", "subject", 5, 0)), first, clock::get);

        assertThat(second.get("per-ip")).isSameAs(perIp);
        assertThat(Objects.requireNonNull(second.get("per-ip")).acquire(request))
                .isInstanceOf(RateLimitResult.Limited.class);
        assertThat(Objects.requireNonNull(second.get("per-ip")).limitedCount()).isEqualTo(2);
        assertThat(Objects.requireNonNull(second.get("per-user")).acquire(request))
                .isSameAs(RateLimitResult.Admitted.INSTANCE);
    }

    @Test
    void aChangedLimiterStartsFresh() {
        RateLimiters first = RateLimiters.build(List.of(def("per-ip", "client_ip", 2, 0)), null, clock::get);
        RateLimiter perIp = Objects.requireNonNull(first.get("per-ip"));
        perIp.acquire(request);
        perIp.acquire(request);

        RateLimiters second = RateLimiters.build(List.of(def("per-ip", "client_ip", 2, 1)), first, clock::get);

        RateLimiter changed = Objects.requireNonNull(second.get("per-ip"));
        assertThat(changed).isNotSameAs(perIp);
        assertThat(changed.limitedCount()).isZero();
        assertThat(changed.acquire(request)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(RateLimiters.build(List.of(def("per-ip", "client_ip", 2, 0)), first, clock::get, 10)
                .get("per-ip")).isNotSameAs(perIp);
        assertThat(RateLimiters.build(List.of(), first, clock::get).all()).isEmpty();
    }

    @Test
    void refusesDuplicateNamesAndSharedLimiters() {
        assertThatThrownBy(() -> RateLimiters.build(List.of(def("per-ip", "client_ip", 2, 0),
                def("per-ip", "subject", 2, 0)), null, clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate limiter \"per-ip\" is defined twice (expected: distinct names)");
        assertThatThrownBy(() -> RateLimiters.build(List.of(RateLimitDefinition.parseKey("per-tenant",
                "header:X-Tenant", 1000, MINUTE, 0, Scope.SHARED)), null, clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate limiter \"per-tenant\" has scope: shared but there is no rate_limit_store (expected: a "
                        + "rate_limit_store, or scope: local)");
    }

    private static RateLimitDefinition def(String name, String key, long limit, long burst) {
        return RateLimitDefinition.parseKey(name, key, limit, MINUTE, burst, Scope.LOCAL);
    }

    private static AccessRequest request() {
        IpAddress address = IpAddress.parse("192.0.2.1");
        return new AccessRequest("GET", "/", "example.com", address, address, RequestHeaders.of(Map.of()));
    }
}
