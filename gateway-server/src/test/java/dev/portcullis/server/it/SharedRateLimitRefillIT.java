package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.StoreMeters;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A shared bucket refills through Redis as the local bucket refills in the process (issue 11: the same arithmetic,
 * capacity {@code limit + burst}, even refill): 2 per 2 s without burst, one token a second, side by side with the
 * same limiter kept locally. Waits are generous; each assertion that depends on how little time passed checks first
 * that little enough did.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitRefillIT extends RedisPerTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aSharedBucketRefillsEvenlyLikeTheLocalOne() throws Exception {
        Gateway gw = harness.start("shared-refill.yaml", Map.of("REDIS_URL", redis.url()));
        StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
        Probe p = new Probe(harness, gw);
        both(p, "warm-up").expect(200, null);

        // full (2 tokens): two admitted, the third limited until the next token, a second away at most
        Step a = both(p, "acme").expect(200, null);
        Step b = both(p, "acme").expect(200, null);
        Step c = both(p, "acme");
        // the bucket refills from the first take on: the third request is limited until a second after it
        assertThat(c.answered - a.sent).as("precondition: the third request within a second of the first")
                .isLessThan(SECOND);
        c.expect(429, "1");

        // half the period later one token is back, not two
        sleepUntil(b.answered + SECOND + SECOND / 5);
        Step d = both(p, "acme").expect(200, null);
        Step e = both(p, "acme");
        assertThat(e.answered - a.sent).as("precondition: the fifth request within 2 s of the first")
                .isLessThan(2 * SECOND);
        e.expect(429, "1");

        // a whole period later the bucket is full again, and holds no more than its capacity
        sleepUntil(Math.max(d.answered, e.answered) + 2 * SECOND + SECOND / 5);
        Step f = both(p, "acme").expect(200, null);
        both(p, "acme").expect(200, null);
        Step h = both(p, "acme");
        assertThat(h.answered - f.sent).as("precondition: the eighth request within a second of the sixth")
                .isLessThan(SECOND);
        h.expect(429, "1");

        assertThat(StoreMeters.value(harness, gw, StoreMeters.ERRORS)).as("every answer came from Redis").isZero();
    }

    @Test
    void aBucketStampedAheadOfRedissClockCountsNoTimeAsElapsed() throws Exception {
        Gateway gw = harness.start("shared-refill.yaml", Map.of("REDIS_URL", redis.url()));
        StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
        Probe p = new Probe(harness, gw);
        long first = System.nanoTime();
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        String key = redis.command("KEYS", "portcullis:rl:in-redis:*");
        long stamp = Long.parseLong(redis.command("HGET", key, "t"));

        // as if Redis's clock stepped back a minute since the take (TIME is the wall clock): the stamp is ahead
        long ahead = stamp + 60_000_000;
        redis.command("HSET", key, "t", Long.toString(ahead));
        RawResponse second = p.send("GET", "/shared/x", "X-Tenant: acme");
        RawResponse third = p.send("GET", "/shared/x", "X-Tenant: acme");

        assertThat(second.status()).as("the token left, not a minute's deficit: %s", second.statusLine())
                .isEqualTo(200);
        assertThat(Long.parseLong(redis.command("HGET", key, "t"))).as("restamped on Redis's clock")
                .isLessThan(ahead);
        assertThat(System.nanoTime() - first).as("precondition: the third request within a second of the first")
                .isLessThan(SECOND);
        assertThat(third.status()).isEqualTo(429);
        assertThat(third.header("Retry-After")).contains("1");
    }

    /** One request for {@code tenant} to the shared limiter, then one to the local one. */
    private static Step both(Probe p, String tenant) throws Exception {
        long sent = System.nanoTime();
        RawResponse shared = p.send("GET", "/shared/x", "X-Tenant: " + tenant);
        RawResponse local = p.send("GET", "/local/x", "X-Tenant: " + tenant);
        return new Step(shared, local, sent, System.nanoTime());
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** The answers of the shared and the local limiter to one step, sent from {@code sent} to {@code answered}. */
    private record Step(RawResponse shared, RawResponse local, long sent, long answered) {
        /** Both answered {@code status}, with {@code retryAfter} (or none). */
        Step expect(int status, @Nullable String retryAfter) {
            for (RawResponse r : new RawResponse[] {shared, local}) {
                assertThat(r.status()).as("shared %s, local %s", shared.statusLine(), local.statusLine())
                        .isEqualTo(status);
                assertThat(r.header("Retry-After").orElse(null)).as("Retry-After").isEqualTo(retryAfter);
            }
            return this;
        }
    }
}
