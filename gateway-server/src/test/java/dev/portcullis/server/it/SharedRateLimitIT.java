package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.StoreMeters;
import dev.portcullis.core.runtime.ReloadOutcome;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scope: shared} rate limits against a real redis-server (SPEC 3, {@code rate_limit_store}): exact counting
 * across gateways, Retry-After, key hygiene, Redis down and restarted, script eviction and reloads. A slow Redis and
 * an error answer are in {@link SharedRateLimitStoreFailuresIT}, Redis stopped under load in
 * {@link SharedRateLimitMidLoadIT}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitIT extends RedisPerTest {

    private Gateway gateway(long limit, String per, long burst, String timeout, String onError) throws Exception {
        Map<String, String> vars = new HashMap<>();
        vars.put("REDIS_URL", redis.url());
        vars.put("LIMIT", Long.toString(limit));
        vars.put("PER", per);
        vars.put("BURST", Long.toString(burst));
        vars.put("TIMEOUT", timeout);
        vars.put("ON_ERROR", onError);
        return harness.start("shared-rate-limit.yaml", vars);
    }

    /** Waits until the store is up (the connection is set up in the background at start). */
    private static void awaitConnected(Gateway gw) throws Exception {
        StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(5));
    }

    private static Probe probe(Gateway gw) {
        return new Probe(harness, gw);
    }

    @Test
    void twoGatewaysOnOneRedisAdmitExactlyLimitPlusBurstThenRetryAfterMatchesTheBucket() throws Exception {
        Gateway a = gateway(5, "1h", 3, "1s", "deny");
        Gateway b = gateway(5, "1h", 3, "1s", "deny");
        Probe pa = probe(a);
        Probe pb = probe(b);
        awaitConnected(a);
        awaitConnected(b);

        List<CompletableFuture<Integer>> answers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Probe p = i % 2 == 0 ? pa : pb;
            answers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return p.send("GET", "/shared/x", "X-Tenant: acme").status();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        long admitted = answers.stream().map(CompletableFuture::join).filter(s -> s == 200).count();
        long limited = answers.stream().map(CompletableFuture::join).filter(s -> s == 429).count();
        assertThat(admitted).as("limit + burst across both gateways").isEqualTo(8);
        assertThat(limited).isEqualTo(32);

        // 5 per hour: one token every 12 minutes, the next one is 12 minutes away at most
        RawResponse again = pb.send("GET", "/shared/x", "X-Tenant: acme");
        assertThat(again.status()).isEqualTo(429);
        assertThat(Integer.parseInt(again.header("Retry-After").orElseThrow())).isBetween(700, 720);
        assertThat(pa.send("GET", "/shared/x", "X-Tenant: globex").status()).as("another key").isEqualTo(200);
    }

    @Test
    void keysAreHashedNamespacedAndExpire() throws Exception {
        Gateway gw = gateway(2, "1s", 0, "1s", "deny");
        Probe p = probe(gw);
        awaitConnected(gw);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: secret-tenant-42").status()).isEqualTo(200);

        String keys = redis.command("KEYS", "*");
        assertThat(keys).startsWith("portcullis:rl:per-tenant:").doesNotContain("secret-tenant-42")
                .doesNotContain("\n");
        long ttl = Long.parseLong(redis.command("PTTL", keys));
        assertThat(ttl).as("one refill period (1 s) plus a margin").isBetween(1L, 2_001L);
        String dump = redis.command("HGETALL", keys);
        assertThat(dump).doesNotContain("secret-tenant-42");

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!redis.command("EXISTS", keys).equals("0") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(redis.command("EXISTS", keys)).as("expired").isEqualTo("0");
    }

    @Test
    void redisStoppedMidLoadIsDecidedByOnErrorAllowWithinTheTimeoutAndCountedThenLimitsApplyAgain()
            throws Exception {
        Gateway gw = gateway(3, "1h", 0, "100ms", "allow");
        Probe p = probe(gw);
        awaitConnected(gw);
        for (int i = 0; i < 3; i++) {
            assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        }
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(429);

        redis.stop();
        for (int i = 0; i < 20; i++) {
            long start = System.nanoTime();
            RawResponse r = p.send("GET", "/shared/x", "X-Tenant: acme");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(r.status()).as("on_error: allow").isEqualTo(200);
            assertThat(millis).as("answered within timeout + margin").isLessThan(100 + 400);
        }
        PrometheusText metrics = PrometheusText.parse(StoreMeters.metricsText(harness, gw));
        assertThat(metrics.valueOrZero(StoreMeters.ERRORS, Map.of())).isGreaterThanOrEqualTo(20);
        assertThat(metrics.valueOrZero(StoreMeters.UP, Map.of())).isZero();
        assertThat(harness.client().send(HttpRequest.newBuilder(gw.adminUri("/readyz")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("/readyz unaffected").isEqualTo(200);

        redis.restart();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int limited = 0;
        while (limited == 0 && System.nanoTime() < deadline) {
            if (p.send("GET", "/shared/x", "X-Tenant: acme").status() == 429) {
                limited++;
            }
            Thread.sleep(20);
        }
        assertThat(limited).as("a fresh Redis: 3 admitted, then limited again, no gateway restart").isEqualTo(1);
        assertThat(StoreMeters.value(harness, gw, StoreMeters.UP)).isEqualTo(1);
        assertThat(StoreMeters.metricsText(harness, gw))
                .contains("portcullis_rate_limit_store_duration_seconds_count");
    }

    @Test
    void redisDownWithOnErrorDenyAnswers429WithRetryAfterOne() throws Exception {
        Gateway gw = gateway(3, "1h", 0, "100ms", "deny");
        Probe p = probe(gw);
        awaitConnected(gw);
        redis.stop();
        for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            RawResponse r = p.send("GET", "/shared/x", "X-Tenant: acme");
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.header("Retry-After")).contains("1");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(500);
        }
        assertThat(p.send("GET", "/open/x").status()).as("a rule without a limiter").isEqualTo(200);
    }

    @Test
    void scriptEvictionIsSurvived() throws Exception {
        Gateway gw = gateway(2, "1h", 0, "1s", "deny");
        Probe p = probe(gw);
        awaitConnected(gw);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        assertThat(redis.command("SCRIPT", "FLUSH")).isEqualTo("OK");
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(429);
        assertThat(StoreMeters.value(harness, gw, StoreMeters.ERRORS)).isZero();
    }

    @Test
    void theScriptIsLoadedOnceWhenTheStoreConnectsSoThatCallsAreEvalshaOnly() throws Exception {
        assertThat(redis.command("SCRIPT", "FLUSH")).isEqualTo("OK");
        long evalBefore = commandCalls("eval");
        long loadsBefore = commandCalls("script|load");
        Gateway gw = gateway(100, "1h", 0, "1s", "deny");
        Probe p = probe(gw);
        awaitConnected(gw);
        long evalshaBefore = commandCalls("evalsha");
        for (int i = 0; i < 5; i++) {
            assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        }
        assertThat(commandCalls("script|load") - loadsBefore).as("SCRIPT LOAD at connect").isEqualTo(1);
        assertThat(commandCalls("evalsha") - evalshaBefore).as("one EVALSHA per request").isEqualTo(5);
        assertThat(commandCalls("eval") - evalBefore).as("no full EVAL: the script was loaded").isZero();
    }

    /** Calls of {@code command} (as INFO commandstats names it, e.g. {@code script|load}) since the server started. */
    private long commandCalls(String command) throws Exception {
        String prefix = "cmdstat_" + command + ":calls=";
        return redis.command("INFO", "commandstats").lines().filter(l -> l.startsWith(prefix))
                .mapToLong(l -> Long.parseLong(l.substring(prefix.length(), l.indexOf(',')))).sum();
    }

    @Test
    void aReloadKeepsTheConnectionWhenTheStoreIsUnchangedAndReplacesItWhenItChanges(@TempDir Path dir)
            throws Exception {
        Map<String, String> vars = new HashMap<>(Map.of("REDIS_URL", redis.url(), "LIMIT", "2", "PER", "1h",
                "BURST", "0", "TIMEOUT", "1s", "ON_ERROR", "deny"));
        String template = new String(Objects.requireNonNull(getClass().getResourceAsStream("/it/shared-rate-limit.yaml"))
                .readAllBytes(), StandardCharsets.UTF_8);
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(template, vars));
        Gateway gw = harness.startFile(file);
        Probe p = probe(gw);
        awaitConnected(gw);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        String clientsBefore = clientIds();

        // another rule changes, the store does not: same connection, and the bucket is where it was
        Files.writeString(file, harness.fill(template, vars).replace("/open/**", "/opened/**"));
        reload(gw);
        assertThat(clientIds()).isEqualTo(clientsBefore);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(200);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).isEqualTo(429);

        // the store's settings change: a new connection, the old one closed once its generation is done
        vars.put("ON_ERROR", "allow");
        Files.writeString(file, harness.fill(template, vars));
        reload(gw);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (clientIds().equals(clientsBefore) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (clientIds().split("\n").length != 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(clientIds()).isNotEqualTo(clientsBefore).doesNotContain("\n");
        awaitConnected(gw);
        assertThat(p.send("GET", "/shared/x", "X-Tenant: acme").status()).as("same bucket in Redis").isEqualTo(429);
    }

    private static void reload(Gateway gw) throws Exception {
        assertThat(Objects.requireNonNull(gw.server().reloader()).reload("test").get(10, TimeUnit.SECONDS))
                .isInstanceOf(ReloadOutcome.Applied.class);
    }
}
