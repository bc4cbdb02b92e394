package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.portcullis.server.it.support.FakeRedis;
import dev.portcullis.server.it.support.FakeRedis.Mode;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.StoreMeters;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A store connection that fails in ways a real Redis shows rarely, against a {@link FakeRedis}: one that stops
 * answering (or never answers its handshake) is dropped and replaced, one that is closed mid-answer is retried with
 * backoff, a huge answer is refused at once, a read-only node is left for the primary, every failure is in the log
 * within about a second, and a request whose client went away is no store error.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitStoreLivenessIT {
    private static final String TENANT = "X-Tenant: acme";
    private static final String STORE_LOGGER = "dev.portcullis.server.ratelimit.RedisBucketStore";
    private static final Pattern FAILURE_LINE = Pattern.compile("\\((\\d+) more failures in the last second\\)");

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @AfterEach
    void closeGateways() {
        harness.closeGateways();
    }

    /** 100 a second per tenant, shared, in {@code redis}. */
    private static Gateway gateway(FakeRedis redis, String timeout, String onError) throws Exception {
        return harness.start("shared-rate-limit.yaml", Map.of("REDIS_URL", redis.url(), "LIMIT", "100", "PER", "1s",
                "BURST", "0", "TIMEOUT", timeout, "ON_ERROR", onError));
    }

    /** Sends acme's request every 50 ms until one is limited by the store (a 429 with its 5 s wait); its time. */
    private static long untilLimitedByTheStore(Probe p, long deadlineNanos) throws Exception {
        while (System.nanoTime() < deadlineNanos) {
            long sent = System.nanoTime();
            RawResponse r = p.send("GET", "/shared/x", TENANT);
            assertThat(System.nanoTime() - sent).as("every request answered within its bound").isLessThan(ms(1_000));
            if (r.status() == 429 && r.header("Retry-After").orElse("").equals("5")) {
                return System.nanoTime();
            }
            assertThat(r.status()).as("on_error: allow meanwhile").isEqualTo(200);
            Thread.sleep(50);
        }
        throw new AssertionError("no request limited by a new connection's answer in time");
    }

    @Test
    void aConnectionThatStopsAnsweringIsDroppedAndReplacedWithinAboutASecond() throws Exception {
        try (FakeRedis redis = FakeRedis.start(n -> n == 1 ? Mode.SILENT_AFTER_HANDSHAKE : Mode.DENY)) {
            Gateway gw = gateway(redis, "50ms", "allow");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            long start = System.nanoTime();
            long limited = untilLimitedByTheStore(new Probe(harness, gw), start + ms(6_000));
            // dropped once its oldest call waited max(1 s, 3 x 50 ms) (checked every 250 ms), reconnected 100 ms later
            assertThat(limited - start).as("replaced within about 1.35 s").isLessThan(ms(3_000));
            assertThat(redis.connections()).isEqualTo(2);
            assertThat(StoreMeters.value(harness, gw, StoreMeters.UP)).isEqualTo(1);
        }
    }

    @Test
    void aHandshakeNeverAnsweredIsGivenUpAndRetried() throws Exception {
        try (FakeRedis redis = FakeRedis.start(n -> n == 1 ? Mode.SILENT : Mode.DENY)) {
            long start = System.nanoTime();
            Gateway gw = gateway(redis, "50ms", "allow");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(5));
            assertThat(System.nanoTime() - start).as("up on the second connection").isLessThan(ms(4_000));
            assertThat(redis.connections()).isEqualTo(2);
            new Probe(harness, gw).rejected(429, "GET", "/shared/x", TENANT);
        }
    }

    @Test
    void aStoreThatClosesEveryConnectionMidAnswerIsRetriedWithBackoffAndNotLoggedAsConnectedEachTime()
            throws Exception {
        LogCapture log = LogCapture.attach(STORE_LOGGER);
        try (FakeRedis redis = FakeRedis.start(n -> Mode.CLOSE_MID_ANSWER)) {
            Gateway gw = gateway(redis, "50ms", "allow");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            Probe p = new Probe(harness, gw);
            long end = System.nanoTime() + ms(5_000);
            while (System.nanoTime() < end) {
                p.allowed("/shared/x", TENANT);
                Thread.sleep(20);
            }
            // 100 ms doubling to 2 s: connections at 0, 0.1, 0.3, 0.7, 1.5, 3.1 s (and 5.1 s), not 10 a second
            assertThat(redis.connections()).as("connections in 5 s").isBetween(3, 8);
            long connectedAtInfo = log.snapshot().stream().filter(e -> e.getLevel() == Level.INFO)
                    .filter(e -> e.getFormattedMessage().contains(" connected")).count();
            assertThat(connectedAtInfo).as("\"connected\" lines at INFO").isEqualTo(1);
        } finally {
            log.detach();
        }
    }

    @Test
    void aHugeAnswerIsRefusedAtOnceNotGathered() throws Exception {
        try (FakeRedis redis = FakeRedis.start(n -> Mode.HUGE_ANSWER)) {
            Gateway gw = gateway(redis, "5s", "deny");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            long sent = System.nanoTime();
            RawResponse r = new Probe(harness, gw).rejected(429, "GET", "/shared/x", TENANT);
            assertThat(r.header("Retry-After")).as("on_error: deny").contains("1");
            assertThat(System.nanoTime() - sent).as("refused, not timed out after 5 s").isLessThan(ms(2_500));
            StoreMeters.awaitValue(harness, gw, StoreMeters.ERRORS, 1, Duration.ofSeconds(5));
            // the fake writes until the gateway's close stops it (or 64 MB): only socket buffers' worth got out
            long written = -1;
            while (written != redis.hugeBytesWritten()) {
                written = redis.hugeBytesWritten();
                Thread.sleep(300);
            }
            assertThat(written).as("bytes of the 300 MB answer written before the gateway closed")
                    .isLessThan(16L << 20);
        }
    }

    @Test
    void aReadOnlyAnswerMakesTheGatewayReconnectToFindThePrimary() throws Exception {
        try (FakeRedis redis = FakeRedis.start(n -> n == 1 ? Mode.READONLY : Mode.DENY)) {
            Gateway gw = gateway(redis, "200ms", "allow");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            long start = System.nanoTime();
            untilLimitedByTheStore(new Probe(harness, gw), start + ms(4_000));
            assertThat(redis.connections()).isEqualTo(2);
        }
    }

    @Test
    void everyFailureIsInTheLogWithinAboutASecondEvenWhenNoOtherFollows() throws Exception {
        LogCapture log = LogCapture.attach(STORE_LOGGER);
        try (FakeRedis redis = FakeRedis.start(n -> Mode.ERROR)) {
            Gateway gw = gateway(redis, "1s", "allow");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            Probe p = new Probe(harness, gw);
            for (int i = 0; i < 10; i++) {
                p.allowed("/shared/x", TENANT);
            }
            StoreMeters.awaitValue(harness, gw, StoreMeters.ERRORS, 10, Duration.ofSeconds(5));
            long deadline = System.nanoTime() + ms(2_500);
            while (loggedFailures(log) < 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(loggedFailures(log)).as("failures the WARN lines account for, 2.5 s after the last").isEqualTo(10);
        } finally {
            log.detach();
        }
    }

    /** The failures the store's WARN lines account for: each line's own and its "N more". */
    private static long loggedFailures(LogCapture log) {
        long sum = 0;
        for (var event : log.snapshot()) {
            Matcher m = FAILURE_LINE.matcher(event.getFormattedMessage());
            if (event.getLevel() == Level.WARN && m.find()) {
                sum += 1 + Long.parseLong(m.group(1));
            }
        }
        return sum;
    }

    @Test
    void aRequestWhoseClientWentAwayWhileWaitingIsNoStoreError() throws Exception {
        try (FakeRedis redis = FakeRedis.start(n -> Mode.SILENT_AFTER_HANDSHAKE)) {
            Gateway gw = gateway(redis, "1s", "allow");
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), gw.port())) {
                OutputStream out = client.getOutputStream();
                out.write(new Probe(harness, gw).request("GET", "/shared/x", TENANT).getBytes(StandardCharsets.UTF_8));
                out.flush();
                Thread.sleep(200);
            }
            // past the store's timeout for that request, which nobody waits for any more
            Thread.sleep(1_300);
            assertThat(StoreMeters.value(harness, gw, StoreMeters.ERRORS)).as("on_error decided nothing").isZero();

            long sent = System.nanoTime();
            new Probe(harness, gw).allowed("/shared/x", TENANT);
            assertThat(System.nanoTime() - sent).as("decided by on_error at the timeout").isGreaterThan(ms(900));
            StoreMeters.awaitValue(harness, gw, StoreMeters.ERRORS, 1, Duration.ofSeconds(5));
        }
    }

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }
}
