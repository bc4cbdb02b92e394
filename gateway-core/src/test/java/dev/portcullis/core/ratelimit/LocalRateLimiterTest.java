package dev.portcullis.core.ratelimit;

import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.ratelimit.RateLimitDefinition.KeyKind;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Token-bucket arithmetic on a fake clock, exactness under concurrency, the key bound and key extraction. */
class LocalRateLimiterTest {

    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(1_234_567_890_123L);
    /** What the limiters built by {@link #limiter} read as their clock, when a test replaces it. */
    private @Nullable LongSupplier raceClock;
    private final AccessRequest request = request("192.0.2.1", Identity.ANONYMOUS, Map.of());

    @Test
    void aNewBucketIsFullWithLimitPlusBurstTokens() {
        LocalRateLimiter limiter = limiter(5, Duration.ofSeconds(1), 2);

        assertThat(admittedInARow(limiter, 100)).isEqualTo(7);
        assertThat(limiter.limitedCount()).isEqualTo(1);
    }

    @Test
    void refillsEvenlyNotInAFixedWindow() {
        LocalRateLimiter limiter = limiter(10, Duration.ofSeconds(1), 0);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(10);

        advance(99_999_999);
        assertThat(limiter.acquire(request)).isInstanceOf(RateLimitResult.Limited.class);
        advance(1);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(1);
        advance(300_000_000);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(3);
    }

    @Test
    void burstIsHeldButRefilledAtTheLimitRate() {
        LocalRateLimiter limiter = limiter(10, Duration.ofSeconds(1), 5);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(15);

        advance(SECOND);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(10);
        advance(10 * SECOND);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(15);
    }

    @Test
    void fractionalRefillIsExact() {
        LocalRateLimiter limiter = limiter(3, Duration.ofSeconds(1), 0);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(3);

        advance(333_333_333);
        assertThat(limiter.acquire(request)).isInstanceOf(RateLimitResult.Limited.class);
        advance(1);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(1);

        LocalRateLimiter sevenAMinute = limiter(7, Duration.ofMinutes(1), 0);
        for (int minute = 0; minute < 5; minute++) {
            assertThat(admittedInARow(sevenAMinute, 100)).isEqualTo(7);
            advance(60 * SECOND);
        }
    }

    @Test
    void retryAfterIsTheWaitForOneTokenRoundedUpToWholeSeconds() {
        LocalRateLimiter limiter = limiter(1, Duration.ofMinutes(1), 0);
        assertThat(limiter.acquire(request)).isSameAs(RateLimitResult.Admitted.INSTANCE);

        RateLimitResult.Limited limited = (RateLimitResult.Limited) limiter.acquire(request);
        assertThat(limited.retryAfterNanos()).isEqualTo(60 * SECOND);
        assertThat(limited.retryAfterSeconds()).isEqualTo(60);

        advance(59 * SECOND + SECOND / 2);
        limited = (RateLimitResult.Limited) limiter.acquire(request);
        assertThat(limited.retryAfterNanos()).isEqualTo(SECOND / 2);
        assertThat(limited.retryAfterSeconds()).isEqualTo(1);

        LocalRateLimiter fast = limiter(10, Duration.ofSeconds(1), 0);
        admittedInARow(fast, 100);
        limited = (RateLimitResult.Limited) fast.acquire(request);
        assertThat(limited.retryAfterNanos()).isEqualTo(100_000_000);
        assertThat(limited.retryAfterSeconds()).isEqualTo(1);

        LocalRateLimiter slow = limiter(2, Duration.ofSeconds(3), 0);
        admittedInARow(slow, 100);
        limited = (RateLimitResult.Limited) slow.acquire(request);
        assertThat(limited.retryAfterNanos()).isEqualTo(1_500_000_000);
        assertThat(limited.retryAfterSeconds()).isEqualTo(2);
    }

    @Test
    void aLongIdleRefillsToCapacityWithoutOverflow() {
        // 1 000 003 is prime: scaled time advances by 1 000 003 per nanosecond and wraps a long within hours.
        LocalRateLimiter limiter = limiter(1_000_003, Duration.ofSeconds(1), 0);
        assertThat(admittedInARow(limiter, 2_000_000)).isEqualTo(1_000_003);

        advance(Duration.ofDays(400).toNanos());
        assertThat(admittedInARow(limiter, 2_000_000)).isEqualTo(1_000_003);
        RateLimitResult.Limited limited = (RateLimitResult.Limited) limiter.acquire(request);
        assertThat(limited.retryAfterNanos()).isEqualTo(1_000);
    }

    @Test
    void aClockThatWrapsAroundIsHandledLikeSystemNanoTime() {
        clock.set(Long.MAX_VALUE - SECOND / 2);
        LocalRateLimiter limiter = limiter(4, Duration.ofSeconds(1), 0);
        assertThat(admittedInARow(limiter, 100)).isEqualTo(4);

        advance(SECOND / 2 + SECOND / 4);
        assertThat(clock.get()).isNegative();
        assertThat(admittedInARow(limiter, 100)).isEqualTo(3);
    }

    @Test
    void manyThreadsOnOneKeyWithTheClockFrozenTakeExactlyTheCapacity() throws InterruptedException {
        LocalRateLimiter limiter = limiter(1_000, Duration.ofSeconds(1), 200);
        int threads = 8;
        int attempts = 20_000;
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger limited = new AtomicInteger();
        concurrently(threads, () -> {
            AccessRequest own = request("192.0.2.1", Identity.ANONYMOUS, Map.of());
            for (int i = 0; i < attempts; i++) {
                if (limiter.acquire(own) == RateLimitResult.Admitted.INSTANCE) {
                    admitted.incrementAndGet();
                } else {
                    limited.incrementAndGet();
                }
            }
        });

        assertThat(admitted.get()).isEqualTo(1_200);
        assertThat(limited.get()).isEqualTo(threads * attempts - 1_200);
        assertThat(limiter.limitedCount()).isEqualTo(threads * attempts - 1_200);
    }

    @Test
    void manyThreadsWithAMovingClockNeverExceedCapacityPlusRefill() throws InterruptedException {
        LocalRateLimiter limiter = new LocalRateLimiter(definition(KeyKind.CLIENT_IP, null, 100, Duration.ofSeconds(1),
                50), clock::get);
        int threads = 8;
        int attempts = 5_000;
        AtomicInteger admitted = new AtomicInteger();
        long startNanos = clock.get();
        concurrently(threads, () -> {
            for (int i = 0; i < attempts; i++) {
                clock.addAndGet(1_000);
                if (limiter.acquire(request) == RateLimitResult.Admitted.INSTANCE) {
                    admitted.incrementAndGet();
                }
            }
        });

        // 40 000 requests over 40 ms of fake time: the 150 in the bucket plus the 4 refilled, never more; the 4th
        // is refilled only at the very last tick, which the last request may or may not have read.
        assertThat(clock.get() - startNanos).isEqualTo(40_000_000);
        assertThat(admitted.get()).isBetween(153, 154);
    }

    @Test
    void aRequestOvertakenBetweenItsClockReadingAndItsTokenIsNotRefused() {
        // 10 000 per ms fills in 1 ms: a reading 2 ms older than the bucket's last take used to count as 2 ms of
        // missing tokens, more than the whole bucket (429 with the bucket nearly full).
        LocalRateLimiter limiter = limiter(10_000, Duration.ofMillis(1), 0);
        assertThat(limiter.acquire(request)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        advance(5 * SECOND);
        AtomicBoolean overtake = new AtomicBoolean(true);
        LongSupplier racingClock = () -> {
            long reading = clock.get();
            if (overtake.getAndSet(false)) {
                // another thread reads the clock 2 ms later and takes its token first
                advance(2_000_000);
                assertThat(limiter.acquire(request)).isSameAs(RateLimitResult.Admitted.INSTANCE);
            }
            return reading;
        };
        raceClock = racingClock;

        assertThat(limiter.acquire(request)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(overtake).isFalse();
        assertThat(limiter.limitedCount()).isZero();
    }

    @Test
    void aTakeThatLostItsUpdateToALaterTakeReadsTheClockAgain() {
        BucketRate rate = BucketRate.of(10_000, 0, Duration.ofMillis(1));
        AtomicLong time = new AtomicLong(5_000_000);
        AtomicLong bucket = new AtomicLong(rate.scaled(time.get()));
        AtomicInteger readings = new AtomicInteger();
        LongSupplier racingClock = () -> {
            long reading = time.get();
            if (readings.incrementAndGet() == 1) {
                // between this take's reading and its compare-and-set, another reads 2 ms later and takes first
                time.addAndGet(2_000_000);
                assertThat(LocalRateLimiter.take(bucket, rate, time::get, 0)).isZero();
            }
            return reading;
        };

        assertThat(LocalRateLimiter.take(bucket, rate, racingClock, 0)).as("missing units").isZero();
        assertThat(readings).as("the clock is read again after the lost update").hasValue(2);
        assertThat(bucket.get()).as("two tokens taken at the later time")
                .isEqualTo(rate.scaled(7_000_000) + 2 * rate.cost());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void manyThreadsOnTheRealClockAreNeverRefusedByABucketFarFromEmpty() throws InterruptedException {
        // 2^31 - 1 tokens per ms, full in 1 ms: no thread count takes 1 % of it, so every refusal is wrong. More
        // threads than processors, so that some are descheduled between reading the clock and taking a token.
        LocalRateLimiter limiter = new LocalRateLimiter(definition(KeyKind.CLIENT_IP, null, Integer.MAX_VALUE,
                Duration.ofMillis(1), 0), System::nanoTime);
        int threads = 4 * Runtime.getRuntime().availableProcessors();
        long deadline = System.nanoTime() + 500_000_000;
        AtomicLong admitted = new AtomicLong();
        List<RateLimitResult.Limited> refusals = new CopyOnWriteArrayList<>();
        concurrently(threads, () -> {
            AccessRequest own = request("192.0.2.1", Identity.ANONYMOUS, Map.of());
            while (System.nanoTime() - deadline < 0) {
                if (limiter.acquire(own) instanceof RateLimitResult.Limited limited) {
                    refusals.add(limited);
                } else {
                    admitted.incrementAndGet();
                }
            }
        });

        assertThat(refusals).isEmpty();
        assertThat(admitted.get()).isPositive();
    }

    @Test
    void aFloodOfDistinctKeysStaysBounded() {
        LocalRateLimiter limiter = new LocalRateLimiter(definition(KeyKind.CLIENT_IP, null, 10, Duration.ofSeconds(1),
                0), clock::get, 1_000);
        for (int i = 0; i < 50_000; i++) {
            AccessRequest flood = request("10." + (i >> 16) + "." + ((i >> 8) & 0xff) + "." + (i & 0xff),
                    Identity.ANONYMOUS, Map.of());
            assertThat(limiter.acquire(flood)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        }

        assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(1_000);
    }

    @Test
    void aBucketIsForgottenOnlyOnceItWouldBeFullAgain() {
        LocalRateLimiter limiter = limiter(10, Duration.ofSeconds(1), 10);
        admittedInARow(limiter, 100);
        assertThat(limiter.trackedKeys()).isEqualTo(1);

        advance(2 * SECOND - 1);
        assertThat(limiter.trackedKeys()).isEqualTo(1);
        advance(1);
        assertThat(limiter.trackedKeys()).isZero();
        assertThat(admittedInARow(limiter, 100)).isEqualTo(20);
    }

    @Test
    void subjectKeysCountEachIdentityAndAllAnonymousRequestsTogether() {
        LocalRateLimiter limiter = new LocalRateLimiter(definition(KeyKind.SUBJECT, null, 2, Duration.ofMinutes(1), 0),
                clock::get);
        AccessRequest alice = request("192.0.2.1", identity("alice"), Map.of());
        AccessRequest aliceElsewhere = request("198.51.100.9", identity("alice"), Map.of());
        AccessRequest bob = request("192.0.2.1", identity("bob"), Map.of());

        assertThat(limiter.acquire(alice)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(aliceElsewhere)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(alice)).isInstanceOf(RateLimitResult.Limited.class);
        assertThat(admittedInARow(limiter, bob, 10)).isEqualTo(2);
        assertThat(admittedInARow(limiter, request("192.0.2.1", Identity.ANONYMOUS, Map.of()), 10)).isEqualTo(2);
        assertThat(limiter.acquire(request("203.0.113.5", Identity.ANONYMOUS, Map.of())))
                .isInstanceOf(RateLimitResult.Limited.class);
    }

    @Test
    void clientIpKeysCountEachAddressWithIpv4AndMappedIpv6AsOne() {
        LocalRateLimiter limiter = new LocalRateLimiter(
                definition(KeyKind.CLIENT_IP, null, 2, Duration.ofMinutes(1), 0), clock::get);

        assertThat(limiter.acquire(request("192.0.2.1", identity("alice"), Map.of())))
                .isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(request("::ffff:192.0.2.1", identity("bob"), Map.of())))
                .isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(request("192.0.2.1", Identity.ANONYMOUS, Map.of())))
                .isInstanceOf(RateLimitResult.Limited.class);
        assertThat(admittedInARow(limiter, request("2001:db8::1", Identity.ANONYMOUS, Map.of()), 10)).isEqualTo(2);
    }

    @Test
    void headerKeysCountEachFirstValueAndRequestsWithoutTheHeaderTogether() {
        LocalRateLimiter limiter = new LocalRateLimiter(
                definition(KeyKind.HEADER, "X-Tenant", 2, Duration.ofMinutes(1), 0), clock::get);
        AccessRequest acme = request("192.0.2.1", Identity.ANONYMOUS, Map.of("x-tenant", List.of("acme", "other")));
        AccessRequest acmeElsewhere = request("192.0.2.7", identity("bob"), Map.of("X-TENANT", List.of("acme")));
        AccessRequest other = request("192.0.2.1", Identity.ANONYMOUS, Map.of("X-Tenant", List.of("other")));

        assertThat(limiter.acquire(acme)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(acmeElsewhere)).isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(acme)).isInstanceOf(RateLimitResult.Limited.class);
        assertThat(admittedInARow(limiter, other, 10)).isEqualTo(2);
        assertThat(limiter.acquire(request("192.0.2.1", Identity.ANONYMOUS, Map.of())))
                .isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(request("192.0.2.2", identity("carol"), Map.of("X-Other", List.of("acme")))))
                .isSameAs(RateLimitResult.Admitted.INSTANCE);
        assertThat(limiter.acquire(request("192.0.2.3", Identity.ANONYMOUS, Map.of())))
                .isInstanceOf(RateLimitResult.Limited.class);
    }

    @Test
    void admittingAKnownKeyAllocatesNothing() {
        LocalRateLimiter limiter = limiter(1_000_000_000, Duration.ofSeconds(1), 0);

        assertThat(bytesPerCall(() -> limiter.acquire(request) == RateLimitResult.Admitted.INSTANCE)).isLessThan(1.0);
        assertThat(limiter.acquire(request)).as("still admitting").isSameAs(RateLimitResult.Admitted.INSTANCE);
    }

    @Test
    void refusesASharedDefinitionAndAnEmptyKeyBound() {
        assertThatThrownBy(() -> new LocalRateLimiter(new RateLimitDefinition("tenants", KeyKind.SUBJECT, null, 1,
                Duration.ofSeconds(1), 0, Scope.SHARED), clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate limiter \"tenants\" has scope shared (expected: local for an in-process limiter)");
        assertThatThrownBy(() -> new LocalRateLimiter(definition(KeyKind.SUBJECT, null, 1, Duration.ofSeconds(1), 0),
                clock::get, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxKeys 0 is out of range (expected: 1 or more)");
    }

    private LocalRateLimiter limiter(long limit, Duration per, long burst) {
        return new LocalRateLimiter(definition(KeyKind.CLIENT_IP, null, limit, per, burst), this::readClock);
    }

    private static RateLimitDefinition definition(
            KeyKind key, @Nullable String header, long limit, Duration per, long burst) {
        return new RateLimitDefinition("test", key, header, limit, per, burst, Scope.LOCAL);
    }

    private long readClock() {
        LongSupplier race = raceClock;
        return race != null ? race.getAsLong() : clock.get();
    }

    private void advance(long nanos) {
        clock.addAndGet(nanos);
    }

    private int admittedInARow(RateLimiter limiter, int max) {
        return admittedInARow(limiter, request, max);
    }

    /** Acquires until the first refusal (or {@code max} admissions) and returns how many were admitted. */
    private static int admittedInARow(RateLimiter limiter, AccessRequest request, int max) {
        for (int i = 0; i < max; i++) {
            if (limiter.acquire(request) != RateLimitResult.Admitted.INSTANCE) {
                return i;
            }
        }
        return max;
    }

    private static Identity identity(String subject) {
        return new Identity(subject, Set.of(), Map.of(), IdentitySource.FORWARDED, null);
    }

    private static AccessRequest request(String ip, Identity identity, Map<String, List<String>> headers) {
        IpAddress address = IpAddress.parse(ip);
        return new AccessRequest("GET", "/api/orders", "example.com", address, address, RequestHeaders.of(headers),
                identity, null);
    }

    /** Runs {@code work} on {@code threads} threads released together, and returns once every one has ended. */
    private static void concurrently(int threads, Runnable work) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                awaitQuietly(start);
                work.run();
            });
            worker.start();
            workers.add(worker);
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
