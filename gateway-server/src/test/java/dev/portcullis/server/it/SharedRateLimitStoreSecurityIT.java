package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.RedisServer;
import dev.portcullis.server.it.support.UpstreamServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared rate limit store's AUTH ({@code password_env}) and TLS ({@code rediss://}) against a real
 * redis-server, with the packaged gateway as child processes (their own environment, and the JDK's trust store
 * system properties): the right password and a trusted certificate for the right host work; a wrong or missing
 * password, an untrusted certificate and a host name the certificate does not name are store errors that
 * {@code on_error} decides at once, counted, never a hang.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitStoreSecurityIT {
    private static final String PASSWORD = "s3cret-for-the-it";
    private static final long TIMEOUT_MILLIS = 200;
    /** A request decided by on_error is answered within the store's timeout plus this (a loaded CI machine). */
    private static final long MARGIN_MILLIS = 1_300;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @Test
    void theRightPasswordWorksAndAWrongOrMissingOneIsAStoreErrorDecidedByOnError(@TempDir Path dir)
            throws Exception {
        try (RedisServer redis = RedisServer.withPassword(PASSWORD); UpstreamServer upstream = UpstreamServer.start()) {
            Map<String, String> env = Map.of("IT_REDIS_PASSWORD", PASSWORD, "IT_WRONG_PASSWORD", "not-it");
            try (GatewayProcess right = GatewayProcess.start(
                            config(dir, "right", redis.url(), "IT_REDIS_PASSWORD", "deny", upstream), env, List.of());
                    GatewayProcess wrong = GatewayProcess.start(
                            config(dir, "wrong", redis.url(), "IT_WRONG_PASSWORD", "deny", upstream), env, List.of());
                    GatewayProcess missing = GatewayProcess.start(
                            config(dir, "missing", redis.url(), null, "allow", upstream), env, List.of())) {
                int warmUps = assertStoreWorks(right.awaitListening());

                assertDecidedByOnError(wrong.awaitListening(), 429, "AUTH failed: WRONGPASS");
                assertThat(wrong.output()).doesNotContain("not-it").doesNotContain(PASSWORD);

                assertDecidedByOnError(missing.awaitListening(), 200, "NOAUTH");
                String keys = redis.command("KEYS", "*");
                assertThat(keys).as("only the right gateway's buckets (its warm-ups, acme)")
                        .startsWith("portcullis:rl:per-tenant:");
                assertThat(keys.lines().count()).isBetween(2L, warmUps + 1L);
            }
        }
    }

    @Test
    void redissWorksWithATrustedCertificateForItsHostAndFailsClosedOtherwise(@TempDir Path dir) throws Exception {
        Path ca = openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=Portcullis IT CA");
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("san.cnf"), "subjectAltName=DNS:localhost\n");
        Path cert = openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.cnf");
        Path trustStore = dir.resolve("trust.p12");
        run(dir, Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt",
                "-alias", "portcullis-it-ca", "-file", ca.toString(), "-keystore", trustStore.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit");
        List<String> trusting = List.of("-Djavax.net.ssl.trustStore=" + trustStore,
                "-Djavax.net.ssl.trustStorePassword=changeit", "-Djavax.net.ssl.trustStoreType=PKCS12");

        int tlsPort = GatewayHarness.deadPort();
        try (RedisServer redis = RedisServer.withTls(tlsPort, cert, dir.resolve("server.key"), ca);
                UpstreamServer upstream = UpstreamServer.start()) {
            String byName = "rediss://localhost:" + tlsPort + "/0";
            String byIp = "rediss://127.0.0.1:" + tlsPort + "/0";
            try (GatewayProcess trusted = GatewayProcess.start(
                            config(dir, "trusted", byName, null, "deny", upstream), Map.of(), trusting);
                    GatewayProcess untrusted = GatewayProcess.start(
                            config(dir, "untrusted", byName, null, "deny", upstream), Map.of(), List.of());
                    GatewayProcess otherHost = GatewayProcess.start(
                            config(dir, "other-host", byIp, null, "deny", upstream), Map.of(), trusting)) {
                assertStoreWorks(trusted.awaitListening());
                assertThat(redis.command("KEYS", "*")).startsWith("portcullis:rl:per-tenant:");

                assertDecidedByOnError(untrusted.awaitListening(), 429, "PKIX");
                assertDecidedByOnError(otherHost.awaitListening(), 429, "127.0.0.1");
                assertThat(otherHost.output()).contains("SSLHandshakeException");
            }
        }
    }

    /**
     * The store answers: a fresh key is admitted, then one key is limited after limit (2) requests, with no store
     * error once it is up. Requests sent while the first (TLS) connection is still being set up may be decided by
     * on_error and counted: on a cold JVM a handshake can outlast the 200 ms timeout. Each attempt uses a key of its
     * own, because a call that timed out still reaches Redis once the connection is up (it was queued behind the
     * handshake) and takes its token. Returns the number of keys used so.
     */
    private static int assertStoreWorks(GatewayProcess gateway) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int warmUps = 1;
        while (send(gateway, "warm-up-" + warmUps).status() != 200) {
            assertThat(System.nanoTime()).as("the store connects: " + gateway.output()).isLessThan(deadline);
            Thread.sleep(50);
            warmUps++;
        }
        double errorsWhileConnecting = metric(gateway, "portcullis_rate_limit_store_errors_total");
        assertThat(send(gateway, "acme").status()).isEqualTo(200);
        assertThat(send(gateway, "acme").status()).isEqualTo(200);
        RawResponse limited = send(gateway, "acme");
        assertThat(limited.status()).as("limited by the bucket in Redis").isEqualTo(429);
        assertThat(Integer.parseInt(limited.header("Retry-After").orElseThrow())).isGreaterThan(1_000);
        assertThat(metric(gateway, "portcullis_rate_limit_store_up")).isEqualTo(1);
        assertThat(metric(gateway, "portcullis_rate_limit_store_errors_total")).as("no store error once up")
                .isEqualTo(errorsWhileConnecting);
        return warmUps;
    }

    /**
     * Every request is answered with {@code status} (on_error) within the timeout and a margin, until the gateway
     * has logged {@code cause}; the failures are counted and the store is not up.
     */
    private static void assertDecidedByOnError(GatewayProcess gateway, int status, String cause) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int sent = 0;
        while (!gateway.output().contains(cause) || sent < 5) {
            assertThat(System.nanoTime()).as("the gateway logs " + cause + ": " + gateway.output())
                    .isLessThan(deadline);
            long start = System.nanoTime();
            RawResponse r = send(gateway, "acme");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(r.status()).as("on_error").isEqualTo(status);
            if (status == 429) {
                assertThat(r.header("Retry-After")).contains("1");
            }
            assertThat(millis).as("answered within timeout + margin").isLessThan(TIMEOUT_MILLIS + MARGIN_MILLIS);
            sent++;
            Thread.sleep(50);
        }
        assertThat(metric(gateway, "portcullis_rate_limit_store_errors_total")).isGreaterThanOrEqualTo(sent);
        assertThat(metric(gateway, "portcullis_rate_limit_store_up")).isZero();
    }

    private static RawResponse send(GatewayProcess gateway, String tenant) throws IOException {
        try (RawHttp raw = RawHttp.connect(gateway.port())) {
            raw.send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tenant: " + tenant + "\r\nConnection: close\r\n\r\n");
            return raw.readResponse();
        }
    }

    private static double metric(GatewayProcess gateway, String name) throws Exception {
        String text = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return PrometheusText.parse(text).valueOrZero(name, Map.of());
    }

    private static Path config(Path dir, String name, String url, @Nullable String passwordEnv, String onError,
            UpstreamServer upstream) throws IOException {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin: { listen: \"127.0.0.1:0\" }",
                "upstream: { url: \"http://127.0.0.1:" + upstream.port() + "\" }",
                "rate_limits:",
                "  per-tenant: { key: \"header:X-Tenant\", limit: 2, per: 1h, scope: shared }",
                "rate_limit_store:",
                "  redis: { url: \"" + url + "\", timeout: " + TIMEOUT_MILLIS + "ms, on_error: " + onError
                        + (passwordEnv == null ? "" : ", password_env: " + passwordEnv) + " }",
                "default: deny",
                "rules:",
                "  - name: shared",
                "    match: { paths: [\"/**\"] }",
                "    rate_limit: per-tenant",
                ""), StandardCharsets.UTF_8);
        return file;
    }

    /** Runs openssl in {@code dir}; returns the file after {@code -out}. */
    private static Path openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        run(dir, command.toArray(String[]::new));
        return dir.resolve(args[List.of(args).indexOf("-out") + 1]);
    }

    private static void run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
