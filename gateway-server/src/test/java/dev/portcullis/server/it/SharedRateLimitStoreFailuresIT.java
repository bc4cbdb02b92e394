package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.StoreMeters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Redis that is up and connected but fails a token request (issue 11, "failure is decided, not suffered"): it
 * answers an error, or answers too late. {@code on_error} decides the request ({@code allow}: proxied;
 * {@code deny}: 429 with {@code Retry-After: 1}), the store counts it in
 * {@code portcullis_rate_limit_store_errors_total}, requests of rules without a shared limiter are answered at
 * once, and the limit is enforced again as soon as Redis answers normally: on the same connection after an error
 * answer, on a new one after a pause longer than max(1 s, 3 x timeout), which the gateway gives up on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitStoreFailuresIT extends RedisPerTest {
    private static final String TENANT = "X-Tenant: acme";
    /** The logger of the store's failure log ({@code StoreFailures} logs as the package-private store class). */
    private static final String STORE_LOGGER = "dev.portcullis.server.ratelimit.RedisBucketStore";

    /** 2 per hour and tenant, shared: one token every 30 minutes. */
    private Gateway gateway(String timeout, String onError) throws Exception {
        Gateway gw = harness.start("shared-rate-limit.yaml", Map.of("REDIS_URL", redis.url(), "LIMIT", "2",
                "PER", "1h", "BURST", "0", "TIMEOUT", timeout, "ON_ERROR", onError));
        StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
        return gw;
    }

    @ParameterizedTest(name = "on_error: {0}")
    @ValueSource(strings = {"allow", "deny"})
    void anErrorAnswerOnALiveConnectionIsDecidedByOnErrorAndCountedAndTheConnectionStaysUsable(String onError)
            throws Exception {
        // a timeout far above an answer's time: a request decided early was decided by the error answer
        Gateway gw = gateway("5s", onError);
        Probe p = new Probe(harness, gw);
        p.allowed("/shared/x", TENANT);
        String key = redis.command("KEYS", "portcullis:rl:*");
        assertThat(key).as("acme's bucket, the only key").startsWith("portcullis:rl:per-tenant:").doesNotContain("\n");
        String connection = clientIds();

        // the bucket is a hash: as a string, the script's HMGET fails and EVALSHA is answered -WRONGTYPE
        assertThat(redis.command("SET", key, "not-a-bucket")).isEqualTo("OK");
        LogCapture log = LogCapture.attach(STORE_LOGGER);
        try {
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                if (onError.equals("allow")) {
                    p.allowed("/shared/x", TENANT);
                } else {
                    RawResponse r = p.rejected(429, "GET", "/shared/x", TENANT);
                    assertThat(r.header("Retry-After")).as("on_error: deny").contains("1");
                }
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                        .as("decided on the error answer, not at the 5 s timeout").isLessThan(2_500);
            }
            StoreMeters.awaitValue(harness, gw, StoreMeters.ERRORS, 3, Duration.ofSeconds(5));
            awaitLogged(log, "error answer: WRONGTYPE");
        } finally {
            log.detach();
        }
        assertThat(StoreMeters.value(harness, gw, StoreMeters.UP)).as("still connected").isEqualTo(1);
        assertThat(clientIds()).as("the same connection to Redis").isEqualTo(connection);

        // a bucket again: the same connection enforces the limit, 2 admitted, then limited by the bucket
        assertThat(redis.command("DEL", key)).isEqualTo("1");
        p.allowed("/shared/x", TENANT);
        p.allowed("/shared/x", TENANT);
        RawResponse limited = p.rejected(429, "GET", "/shared/x", TENANT);
        assertThat(Integer.parseInt(limited.header("Retry-After").orElseThrow())).as("the bucket's wait, 30 min")
                .isBetween(1_700, 1_800);
        assertThat(StoreMeters.value(harness, gw, StoreMeters.ERRORS)).as("no more errors").isEqualTo(3);
        assertThat(clientIds()).isEqualTo(connection);
    }

    @ParameterizedTest(name = "on_error: {0}")
    @ValueSource(strings = {"deny", "allow"})
    void aSlowRedisNeverStallsUnrelatedRequestsAndALateAnswerIsDecidedByOnErrorAtTheTimeout(String onError)
            throws Exception {
        Gateway gw = gateway("200ms", onError);
        Probe p = new Probe(harness, gw);
        // one request down each path first (another tenant's bucket), so that the bounds below time a warm gateway
        p.allowed("/shared/x", "X-Tenant: warm-up");
        for (int i = 0; i < 3; i++) {
            p.allowed("/local/x");
            p.allowed("/open/x");
        }
        String connection = clientIds();
        // Redis holds every command for 2 s (read, not answered) from the moment it answers OK; a DEBUG SLEEP
        // sent from another thread would have no such moment to start the limited request after
        assertThat(redis.command("CLIENT", "PAUSE", "2000", "ALL")).isEqualTo("OK");
        long pausedAt = System.nanoTime();
        CompletableFuture<Timed> waiting = CompletableFuture.supplyAsync(() -> Timed.send(p, "/shared/x", TENANT));
        List<Timed> unrelated = new ArrayList<>();
        for (int i = 0; i < 5 || (!waiting.isDone() && i < 200); i++) {
            Timed local = Timed.send(p, "/local/x");
            Timed open = Timed.send(p, "/open/x");
            assertThat(local.response.status()).isEqualTo(200);
            assertThat(open.response.status()).isEqualTo(200);
            assertThat(open.answered - local.sent).as("unrelated requests").isLessThan(ms(150));
            unrelated.add(new Timed(open.response, local.sent, open.answered));
        }
        Timed late = waiting.get(5, TimeUnit.SECONDS);
        assertThat(unrelated).as("unrelated requests sent and answered while the limited one waited")
                .anyMatch(u -> u.sent >= late.sent && u.answered <= late.answered);
        assertThat(late.answered - pausedAt).as("decided while Redis was paused").isLessThan(ms(2_000));
        if (onError.equals("allow")) {
            assertThat(late.response.status()).as("on_error: allow proxies it").isEqualTo(200);
            assertThat(late.response.header("X-Request-Id")).isPresent();
        } else {
            assertThat(late.response.status()).as("on_error: deny").isEqualTo(429);
            assertThat(late.response.header("Retry-After")).contains("1");
        }
        assertThat(late.answered - late.sent).as("the limited request waited for the 200 ms timeout only (+ 500 ms)")
                .isBetween(ms(150), ms(700));
        StoreMeters.awaitValue(harness, gw, StoreMeters.ERRORS, 1, Duration.ofSeconds(5));

        // PING is held until the pause ends. The call had no answer for longer than max(1 s, 3 x 200 ms), so the
        // gateway dropped that connection (every call on it had been decided at its timeout) and connected again;
        // whether Redis still ran the late EVALSHA (a token taken) depends on when it saw the close
        assertThat(redis.command("PING")).isEqualTo("PONG");
        StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(5));
        assertThat(clientIds()).as("the stalled connection was replaced").isNotEqualTo(connection);
        assertThat(p.send("GET", "/shared/x", TENANT).status()).as("answers again").isEqualTo(200);
        RawResponse limited = p.send("GET", "/shared/x", TENANT);
        if (limited.status() == 200) {
            // the late EVALSHA did not run: that was acme's second token
            limited = p.send("GET", "/shared/x", TENANT);
        }
        assertThat(limited.status()).as("limited by the bucket, not by on_error").isEqualTo(429);
        assertThat(Integer.parseInt(limited.header("Retry-After").orElseThrow())).isBetween(1_700, 1_800);
        assertThat(StoreMeters.value(harness, gw, StoreMeters.ERRORS)).isEqualTo(1);
    }

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** A GET's answer and when it was sent and answered ({@link System#nanoTime}). */
    private record Timed(RawResponse response, long sent, long answered) {
        static Timed send(Probe p, String target, String... headerLines) {
            long sent = System.nanoTime();
            try {
                RawResponse response = p.send("GET", target, headerLines);
                return new Timed(response, sent, System.nanoTime());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Waits until the store logged {@code text} (it logs on its own loop, after the request was answered). */
    private static void awaitLogged(LogCapture log, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!log.text().contains(text) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(log.text()).as("the store's log").contains(text);
    }
}
