package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.PrometheusText.Family;
import dev.portcullis.server.it.support.PrometheusText.Sample;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RedisServer;
import dev.portcullis.server.it.support.StoreMeters;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** SPEC 5 and 6: {@code GET /metrics} on the admin port is valid Prometheus text, and its counters follow the traffic. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MetricsIT {

    /** The start of the configs the reload tests write: a gateway on loopback in front of the test upstream. */
    private static final String LISTEN_AND_UPSTREAM = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            """;
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String SUBJECT = "subject-metrics-4711";

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path keysDir;

    static RSAKey key;
    static String jwksFile;

    @BeforeAll
    static void keys() throws Exception {
        key = JwtMint.rsa("metrics-1");
        jwksFile = JwtMint.writeJwks(keysDir.resolve("jwks.json"), List.of(key));
    }

    @Test
    void scrapeIsPrometheusTextWithEverySpecFamily() throws Exception {
        Gateway gw = harness.start("metrics.yaml", Map.of("JWKS_FILE", jwksFile));

        PrometheusText text = scrape(gw);

        assertThat(text.families().keySet()).contains(
                "portcullis_request_duration_seconds", "portcullis_upstream_duration_seconds",
                "portcullis_config_reloads_total", "portcullis_config_info", "portcullis_jwt_verifications_total",
                "portcullis_jwt_cache_hits_total", "portcullis_jwt_cache_misses_total", "portcullis_jwks_keys",
                "jvm_memory_used_bytes", "jvm_gc_max_data_size_bytes", "jvm_threads_live_threads",
                "jvm_classes_loaded_classes", "process_cpu_usage", "process_uptime_seconds",
                "netty_allocator_memory_used_bytes", "netty_direct_memory_used_bytes",
                "portcullis_client_connections", "portcullis_upstream_connections", "portcullis_websocket_tunnels",
                "portcullis_stalled_client_memory_bytes");
        assertThat(text.families().get("portcullis_request_duration_seconds").type()).isEqualTo("histogram");
        assertThat(text.families().get("portcullis_config_reloads_total").type()).isEqualTo("counter");
        assertThat(text.valueOrZero("portcullis_jwks_keys", Map.of("provider", JwtMint.ISSUER))).isEqualTo(1);
        List<Sample> info = text.samples("portcullis_config_info");
        assertThat(info).hasSize(1);
        assertThat(info.get(0).labels()).isEqualTo(Map.of("version", configVersion(gw)));
        assertThat(info.get(0).value()).isEqualTo(1);

        HttpResponse<byte[]> head = harness.client().send(
                HttpRequest.newBuilder(gw.adminUri("/metrics")).method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("content-type")).hasValue(CONTENT_TYPE);
        assertThat(head.body()).isEmpty();
    }

    /**
     * README Metrics: the connection gauges follow what is open (a soak probe could not see it through the admin API,
     * only with ss): a client connection while it is open and none after it closed, the pooled upstream connection.
     */
    @Test
    void connectionGaugesFollowWhatIsOpen() throws Exception {
        Gateway gw = harness.start("metrics.yaml", Map.of("JWKS_FILE", jwksFile));
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /public/gauges HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(raw.readResponse().status()).isEqualTo(200);
            PrometheusText open = scrape(gw);
            assertThat(open.valueOrZero("portcullis_client_connections", Map.of())).as("the raw connection")
                    .isGreaterThanOrEqualTo(1);
            assertThat(open.valueOrZero("portcullis_upstream_connections", Map.of())).as("the pooled one")
                    .isGreaterThanOrEqualTo(1);
            assertThat(open.valueOrZero("portcullis_websocket_tunnels", Map.of())).isZero();
            assertThat(open.valueOrZero("portcullis_stalled_client_memory_bytes", Map.of())).isZero();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        double clients;
        do {
            Thread.sleep(50);
            clients = scrape(gw).valueOrZero("portcullis_client_connections", Map.of());
        } while (clients > 0 && System.nanoTime() < deadline);
        assertThat(clients).as("client connections once every client closed").isZero();
    }

    @Test
    void countersMoveWithRequestsAndLabelsComeOnlyFromConfig() throws Exception {
        Gateway gw = harness.start("metrics.yaml", Map.of("JWKS_FILE", jwksFile));
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims(SUBJECT).build());
        PrometheusText before = scrape(gw);

        assertThat(harness.get(gw, "/public/probe-a1").statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/public/probe-a1?q=1").statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/secret/probe-s1").statusCode()).isEqualTo(403);
        assertThat(harness.get(gw, "/orders/probe-o1").statusCode()).isEqualTo(401);
        assertThat(harness.get(gw, "/orders/probe-o1", "Authorization", "Bearer " + token).statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/orders/probe-o1", "Authorization", "Bearer " + token).statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/orders/probe-o1", "Authorization", "Bearer " + JwtMint.tamperSignature(token))
                .statusCode()).isEqualTo(401);
        assertThat(harness.get(gw, "/elsewhere/probe-d1").statusCode()).isEqualTo(403);
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /public/probe-r1 HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            assertThat(raw.readResponse().status()).isEqualTo(400);
        }

        Map<Map<String, String>, Double> expected = Map.of(
                labels("public", "allow", "2xx"), 2.0,
                labels("secret", "deny", "4xx"), 1.0,
                labels("orders", "deny", "4xx"), 2.0,
                labels("orders", "allow", "2xx"), 2.0,
                labels("(default)", "deny", "4xx"), 1.0,
                labels("(none)", "deny", "4xx"), 1.0);
        PrometheusText after = scrapeUntil(gw, before, 9);

        assertThat(deltas(before, after, "portcullis_requests_total")).isEqualTo(expected);
        assertThat(deltas(before, after, "portcullis_audit_decisions_total"))
                .isEqualTo(Map.of(Map.of("rule", "trial-block-public", "decision", "deny"), 2.0));
        assertThat(delta(before, after, "portcullis_request_duration_seconds_count", Map.of())).isEqualTo(9);
        assertThat(delta(before, after, "portcullis_upstream_duration_seconds_count", Map.of())).isEqualTo(4);
        assertThat(delta(before, after, "portcullis_jwt_verifications_total", Map.of("result", "valid"))).isEqualTo(2);
        assertThat(delta(before, after, "portcullis_jwt_verifications_total", Map.of("result", "bad_signature")))
                .isEqualTo(1);
        assertThat(deltas(before, after, "portcullis_jwt_verifications_total")).hasSize(2);
        assertThat(delta(before, after, "portcullis_jwt_cache_hits_total", Map.of())).isEqualTo(1);
        assertThat(delta(before, after, "portcullis_jwt_cache_misses_total", Map.of())).isEqualTo(2);
        assertThat(delta(before, after, "portcullis_config_reloads_total", Map.of("result", "success"))).isZero();

        for (Family family : after.families().values()) {
            for (Sample sample : family.samples()) {
                for (String value : sample.labels().values()) {
                    assertThat(value).as("label value of %s", sample.name())
                            .doesNotContain("probe-", "127.0.0.1", SUBJECT, "/public", "/orders");
                }
            }
        }
    }

    /**
     * SPEC 5, README Metrics: {@code portcullis_jwks_keys} has one series per configured provider with its key count
     * right after each reload, and a removed provider's series goes away (it used to follow one reload behind).
     */
    @Test
    void jwksKeysFollowTheProvidersOfEachReloadAtOnce(@TempDir Path dir) throws Exception {
        String jwks = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key, JwtMint.rsa("metrics-2")));
        String none = LISTEN_AND_UPSTREAM + """
                default: allow
                rules: []
                """;
        String withIssuer = none.replace("default: allow", """
                identity:
                  jwt:
                    issuer: "{{ISSUER}}"
                    algorithms: [RS256]
                    jwks_file: "{{JWKS_FILE}}"
                default: allow""");
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(none, Map.of()));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertThat(scrape(gw).samples("portcullis_jwks_keys")).isEmpty();

        for (String issuer : List.of("https://first.test/", "https://second.test/")) {
            Files.writeString(file, harness.fill(withIssuer, Map.of("ISSUER", issuer, "JWKS_FILE", jwks)));
            ConfigAdmin.Answer answer = admin.reload();
            assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);

            assertThat(scrape(gw).samples("portcullis_jwks_keys")).as("after the reload to %s", issuer)
                    .containsExactly(new Sample("portcullis_jwks_keys", Map.of("provider", issuer), 2));
        }

        Files.writeString(file, harness.fill(none, Map.of()));
        assertThat(admin.reload().status()).isEqualTo(200);
        assertThat(scrape(gw).samples("portcullis_jwks_keys")).as("after removing identity").isEmpty();
    }

    /**
     * README "Shared rate limits": the store's series ({@code portcullis_rate_limit_store_up}, {@code _errors_total},
     * {@code _duration_seconds}) exist only while a {@code rate_limit_store} is configured, so that an alert on
     * {@code store_up == 0} does not fire on every gateway without Redis; a reload adds and removes them.
     */
    @Test
    void rateLimitStoreSeriesExistOnlyWhileAStoreIsConfigured(@TempDir Path dir) throws Exception {
        String none = LISTEN_AND_UPSTREAM + """
                rate_limits:
                  per-ip: { key: client_ip, limit: 100, per: 1s }
                default: allow
                rules: []
                """;
        String withStore = none.replace("default: allow", """
                rate_limit_store:
                  redis:
                    url: "{{REDIS_URL}}"
                    timeout: 1s
                default: allow""");
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(none, Map.of()));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertThat(StoreMeters.metricsText(harness, gw)).as("without a store")
                .doesNotContain("portcullis_rate_limit_store");

        try (RedisServer redis = RedisServer.start()) {
            Files.writeString(file, harness.fill(withStore, Map.of("REDIS_URL", redis.url())));
            assertThat(admin.reload().status()).isEqualTo(200);
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(10));
            PrometheusText text = scrape(gw);
            assertThat(text.valueOrZero(StoreMeters.ERRORS, Map.of())).isZero();
            assertThat(text.samples(StoreMeters.ERRORS)).as("errors series").hasSize(1);
            assertThat(text.samples("portcullis_rate_limit_store_duration_seconds_count")).hasSize(1);

            Files.writeString(file, harness.fill(none, Map.of()));
            assertThat(admin.reload().status()).isEqualTo(200);
            assertThat(StoreMeters.metricsText(harness, gw)).as("after the reload that removed the store")
                    .doesNotContain("portcullis_rate_limit_store");
        }
    }

    private static Map<String, String> labels(String rule, String decision, String status) {
        return Map.of("rule", rule, "decision", decision, "status", status);
    }

    /** Per label set, how much {@code name} grew between the scrapes (series that did not move are left out). */
    private static Map<Map<String, String>, Double> deltas(PrometheusText before, PrometheusText after, String name) {
        Map<Map<String, String>, Double> moved = new HashMap<>();
        for (Sample sample : after.samples(name)) {
            double delta = sample.value() - before.valueOrZero(name, sample.labels());
            if (delta != 0) {
                moved.put(sample.labels(), delta);
            }
        }
        return moved;
    }

    private static double delta(PrometheusText before, PrometheusText after, String name, Map<String, String> labels) {
        return after.valueOrZero(name, labels) - before.valueOrZero(name, labels);
    }

    /**
     * Scrapes until {@code requests} more requests have been counted than in {@code before}: a response can reach
     * the client a moment before its exchange is reported finished.
     */
    /**
     * Scrapes until every request is counted: the response reaches the client before the exchange's metrics are
     * recorded (its counter last), so wait for the counters and, to be sure, the duration histogram.
     */
    private static PrometheusText scrapeUntil(Gateway gw, PrometheusText before, int requests) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            PrometheusText text = scrape(gw);
            double counted = deltas(before, text, "portcullis_requests_total").values().stream()
                    .mapToDouble(Double::doubleValue).sum();
            double timed = delta(before, text, "portcullis_request_duration_seconds_count", Map.of());
            if (counted >= requests && timed >= requests || System.nanoTime() > deadline) {
                return text;
            }
            Thread.onSpinWait();
        }
    }

    private static PrometheusText scrape(Gateway gw) throws Exception {
        HttpResponse<String> response = harness.client().send(
                HttpRequest.newBuilder(gw.adminUri("/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue(CONTENT_TYPE);
        return PrometheusText.parse(response.body());
    }

    private static String configVersion(Gateway gw) throws Exception {
        String body = harness.client().send(
                HttpRequest.newBuilder(gw.adminUri("/config")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("\"version\":\"(sha256:[0-9a-f]{64})\"").matcher(body);
        assertThat(m.find()).as("version in %s", body).isTrue();
        return m.group(1);
    }
}
