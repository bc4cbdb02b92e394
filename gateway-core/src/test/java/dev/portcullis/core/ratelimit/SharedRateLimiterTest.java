package dev.portcullis.core.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;


import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The shared limiter with a fake store: bucket keys, the store arithmetic, on_error, and keeping the store. */
class SharedRateLimiterTest {

    private static final Duration MINUTE = Duration.ofMinutes(1);

    /** Records every take and answers with whatever the test queued (a pending future by default). */
    static class FakeStore implements SharedBucketStore {
        final List<String> keys = new ArrayList<>();
        final List<BucketRate> rates = new ArrayList<>();
        final List<Long> ttls = new ArrayList<>();
        CompletableFuture<RateLimitResult> next = new CompletableFuture<>();
        int closed;

        @Override
        public CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttlMillis) {
            keys.add(key);
            rates.add(rate);
            ttls.add(ttlMillis);
            return next;
        }

        @Override
        public void close() {
            closed++;
        }
    }

    private final List<FakeStore> opened = new ArrayList<>();
    private final SharedBucketStore.Factory factory = settings -> {
        FakeStore store = new FakeStore();
        opened.add(store);
        return store;
    };

    @Test
    void aChangedDefinitionHasItsOwnBucketsAndAnUnchangedOneTheSame() {
        String value = "198.51.100.7";
        String key = limiter("per-ip", "client_ip", 10, 5, OnError.ALLOW).bucketKey(value);

        assertThat(limiter("per-ip", "client_ip", 10, 5, OnError.DENY).bucketKey(value)).isEqualTo(key);
        assertThat(limiter("per-ip", "client_ip", 20, 5, OnError.ALLOW).bucketKey(value)).isNotEqualTo(key);
        assertThat(limiter("per-ip", "client_ip", 10, 6, OnError.ALLOW).bucketKey(value)).isNotEqualTo(key);
        assertThat(limiter("per-ip", "header:X-Ip", 10, 5, OnError.ALLOW).bucketKey(value)).isNotEqualTo(key);
    }

    @Test
    void bucketKeysAreNamespacedHashesOfTheKeyValueNeverTheValue() throws Exception {
        SharedRateLimiter limiter = limiter("per-ip", "client_ip", 10, 5, OnError.ALLOW);
        limiter.acquire(request("198.51.100.7", Map.of()));

        String key = opened.get(0).keys.get(0);
        String expected = Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256")
                .digest(("client_ip|10|" + limiter.definition().per().toNanos() + "|5|198.51.100.7")
                        .getBytes(StandardCharsets.UTF_8)));
        assertThat(key).isEqualTo("portcullis:rl:per-ip:" + expected).doesNotContain("198.51.100.7");

        SharedRateLimiter tenants = limiter("per-tenant", "header:X-Tenant", 10, 0, OnError.ALLOW);
        tenants.acquire(request("192.0.2.1", Map.of("X-Tenant", List.of("acme"))));
        tenants.acquire(request("192.0.2.2", Map.of("X-Tenant", List.of("acme"))));
        tenants.acquire(request("192.0.2.1", Map.of()));
        List<String> keys = opened.get(1).keys;
        assertThat(keys.get(0)).startsWith("portcullis:rl:per-tenant:").doesNotContain("acme").isEqualTo(keys.get(1));
        assertThat(keys.get(2)).isNotEqualTo(keys.get(0));
    }

    @Test
    void theStoreCountsInMicrosecondsWithTheSameTokenArithmetic() {
        SharedRateLimiter limiter = limiter("per-user", "subject", 100, 20, OnError.ALLOW);
        limiter.acquire(request("192.0.2.1", Map.of()));

        BucketRate rate = opened.get(0).rates.get(0);
        // 100 per minute: a token costs 600 000 us at one unit per us; capacity 120 tokens
        assertThat(rate.unitNanos()).isEqualTo(1_000);
        assertThat(rate.cost() / rate.refill()).isEqualTo(600_000);
        assertThat(rate.capacity()).isEqualTo(120 * rate.cost());
        // kept for one full refill (72 s) plus a margin
        assertThat(opened.get(0).ttls.get(0)).isEqualTo(72_000 + 1 + 1_000);
        assertThat(limiter.ttlMillis()).isEqualTo(73_001);
    }

    @Test
    void storeAnswersAreTakenAsTheyAre() {
        SharedRateLimiter limiter = limiter("per-user", "subject", 1, 0, OnError.DENY);
        RateLimitResult.Limited limited = new RateLimitResult.Limited(2_500_000_000L);

        assertThat(limiter.settle(RateLimitResult.Admitted.INSTANCE)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.settle(limited)).isSameAs(limited);
        assertThat(((RateLimitResult.Limited) limiter.settle(limited)).retryAfterSeconds()).isEqualTo(3);
        assertThat(limiter.limitedCount()).isEqualTo(2);
        assertThat(limiter.failureCount()).isZero();
    }

    @Test
    void aFailedOrLateAnswerIsDecidedByOnError() {
        SharedRateLimiter allow = limiter("a", "subject", 1, 0, OnError.ALLOW);
        SharedRateLimiter deny = limiter("d", "subject", 1, 0, OnError.DENY);

        assertThat(allow.settle(null)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(allow.failureCount()).isEqualTo(1);
        assertThat(allow.limitedCount()).isZero();
        RateLimitResult denied = deny.settle(null);
        assertThat(denied).isInstanceOf(RateLimitResult.Limited.class);
        assertThat(((RateLimitResult.Limited) denied).retryAfterSeconds()).isEqualTo(1);
        assertThat(deny.failureCount()).isEqualTo(1);
        assertThat(deny.limitedCount()).isEqualTo(1);
    }

    @Test
    void acquireAlwaysAnswersPendingAndAThrowingStoreIsAFailedAnswer() {
        SharedRateLimiter limiter = limiter("per-user", "subject", 1, 0, OnError.ALLOW);
        FakeStore store = opened.get(0);
        RateLimitResult result = limiter.acquire(request("192.0.2.1", Map.of()));
        assertThat(result).isInstanceOf(RateLimitResult.Pending.class);
        assertThat(((RateLimitResult.Pending) result).result()).isSameAs(store.next);

        store.next.completeExceptionally(new TimeoutException("50ms"));
        SharedRateLimiter throwing = new SharedRateLimiter(def("t", "subject", 1, 0),
                new SharedStoreHandle(settings(OnError.ALLOW), new FakeStore() {
                    @Override
                    public CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttl) {
                        throw new IllegalStateException("closed");
                    }
                }));
        RateLimitResult failed = throwing.acquire(request("192.0.2.1", Map.of()));
        assertThat(((RateLimitResult.Pending) failed).result()).isCompletedExceptionally();
    }

    @Test
    void aReloadWithTheSameStoreSettingsKeepsTheStoreAndAChangeReplacesIt() {
        RateLimitDefinition shared = def("per-tenant", "header:X-Tenant", 10, 0);
        RateLimiters first = RateLimiters.build(List.of(shared), null, System::nanoTime, 100,
                settings(OnError.ALLOW), factory);
        SharedRateLimiter limiter = (SharedRateLimiter) Objects.requireNonNull(first.get("per-tenant"));

        RateLimiters second = RateLimiters.build(List.of(shared), first, System::nanoTime, 100,
                settings(OnError.ALLOW), factory);
        assertThat(opened).hasSize(1);
        assertThat(second.get("per-tenant")).isSameAs(limiter);
        first.close();
        assertThat(opened.get(0).closed).isZero();

        RateLimiters third = RateLimiters.build(List.of(shared), second, System::nanoTime, 100,
                settings(OnError.DENY), factory);
        assertThat(opened).hasSize(2);
        assertThat(third.get("per-tenant")).isNotSameAs(limiter);
        assertThat(((SharedRateLimiter) Objects.requireNonNull(third.get("per-tenant"))).onError())
                .isEqualTo(OnError.DENY);
        second.close();
        assertThat(opened.get(0).closed).isEqualTo(1);
        assertThat(opened.get(1).closed).isZero();

        RateLimiters none = RateLimiters.build(List.of(), third, System::nanoTime, 100, null, factory);
        third.close();
        assertThat(opened.get(1).closed).isEqualTo(1);
        assertThat(none.store()).isNull();
    }

    @Test
    void aSharedLimiterNeedsAStoreAndAFailedBuildClosesTheStoreItOpened() {
        assertThatThrownBy(() -> RateLimiters.build(List.of(def("s", "subject", 1, 0)), null, System::nanoTime,
                100, null, factory))
                .hasMessage("rate limiter \"s\" has scope: shared but there is no rate_limit_store (expected: a "
                        + "rate_limit_store, or scope: local)");
        assertThatThrownBy(() -> RateLimiters.build(List.of(def("s", "subject", 1, 0), def("s", "subject", 2, 0)),
                null, System::nanoTime, 100, settings(OnError.ALLOW), factory))
                .hasMessageContaining("defined twice");
        assertThat(opened.get(0).closed).isEqualTo(1);
        RateLimiters withoutClient = RateLimiters.build(List.of(def("s", "subject", 1, 0)), null, System::nanoTime,
                100, settings(OnError.ALLOW), SharedBucketStore.Factory.NONE);
        RateLimitResult answer = Objects.requireNonNull(withoutClient.get("s")).acquire(request("192.0.2.1", Map.of()));
        assertThat(((RateLimitResult.Pending) answer).result()).isCompletedExceptionally();
    }

    @Test
    void parsesStoreUrls() {
        SharedStoreSettings plain = SharedStoreSettings.parse("redis://127.0.0.1", null, MINUTE, OnError.ALLOW);
        assertThat(plain.address()).isEqualTo("redis://127.0.0.1:6379/0");
        assertThat(plain.tls()).isFalse();
        SharedStoreSettings full = SharedStoreSettings.parse("rediss://gateway@[::1]:6380/3", "REDIS_PASSWORD",
                MINUTE, OnError.DENY);
        assertThat(full).isEqualTo(new SharedStoreSettings(true, "::1", 6380, 3, "gateway", "REDIS_PASSWORD",
                MINUTE, OnError.DENY));
        for (String bad : List.of("redis//x", "http://x", "redis://", "redis://x:0", "redis://x:y", "redis://x/db",
                "redis://x?db=1", "redis://::1", "redis://[::1")) {
            assertThatThrownBy(() -> SharedStoreSettings.parse(bad, null, MINUTE, OnError.ALLOW))
                    .as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("\"" + bad + "\" is not a valid Redis URL (expected: ");
        }
        assertThatThrownBy(() -> SharedStoreSettings.parse("redis://::1:6379", null, MINUTE, OnError.ALLOW))
                .hasMessage("\"redis://::1:6379\" is not a valid Redis URL (expected: an IPv6 address in brackets, "
                        + "e.g. redis://[::1]:6379/0)");
    }

    @Test
    void aRefusedUrlIsShownWithoutItsPassword() {
        for (String[] c : new String[][] {
                {"redis://:Hunter2@x", "redis://:***@x"},
                {"redis://gateway:Hunter2@x:6379/0", "redis://gateway:***@x:6379/0"},
                {"redis://gateway:@x:6379/0", "redis://gateway:***@x:6379/0"},
                {"rediss://u:Hunter2@x:99999", "rediss://u:***@x:99999"},
                {"redis://u:Hun@ter2@x", "redis://u:***@x"},
                {"http://u:Hunter2@x", "http://u:***@x"},
                {"u:Hunter2@x", "u:***@x"},
                {"redis://:ab/Hunter2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"},
                {"redis://:a#Hunter2?@x", "redis://:***@x"},
                {"redis:/u:Hunter2@x", "redis:***@x"},
                {"redis://u:Hun://ter2@x", "redis://u:***@x"}}) {
            assertThatThrownBy(() -> SharedStoreSettings.parse(c[0], null, MINUTE, OnError.ALLOW))
                    .as(c[0]).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("\"" + c[1] + "\" is not a valid Redis URL (expected: ")
                    .hasMessageNotContaining("Hunter2");
        }
        // what stands between the first ':' and the last '@' is hidden, even when the ':' was a port's: hiding
        // too much is harmless
        assertThat(SharedStoreSettings.redacted("redis://gateway@x:6379/@")).isEqualTo("redis://gateway@x:***@");
        assertThat(SharedStoreSettings.redacted("redis://gateway@x/@")).isEqualTo("redis://gateway@x/@");
        assertThat(SharedStoreSettings.redacted("redis://gateway@[::1]:6379")).isEqualTo("redis://gateway@[::1]:6379");
        assertThat(SharedStoreSettings.redacted("redis://x:6379")).isEqualTo("redis://x:6379");
    }

    private SharedRateLimiter limiter(String name, String key, long limit, long burst, OnError onError) {
        return new SharedRateLimiter(def(name, key, limit, burst),
                new SharedStoreHandle(settings(onError), factory.open(settings(onError))));
    }

    private static SharedStoreSettings settings(OnError onError) {
        return new SharedStoreSettings(false, "127.0.0.1", 6379, 0, null, null, Duration.ofMillis(50), onError);
    }

    private static RateLimitDefinition def(String name, String key, long limit, long burst) {
        return RateLimitDefinition.parseKey(name, key, limit, MINUTE, burst, Scope.SHARED);
    }

    private static AccessRequest request(String ip, Map<String, List<String>> headers) {
        IpAddress address = IpAddress.parse(ip);
        return new AccessRequest("GET", "/", "example.com", address, address, RequestHeaders.of(headers));
    }
}
