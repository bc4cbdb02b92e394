package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwksServer;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * README "The jar" / SPEC 3.6: when {@code drain_timeout} ends with exchanges in flight, the gateway answers each one
 * whose response has not begun ({@code Connection: close}: 503 when it was never forwarded, 504 when the upstream has
 * it) and cuts the others, and the access line
 * says {@code error: drain_timeout}. Before, every such connection was closed without an answer and logged as if
 * the client had gone away (status 499, {@code client_closed}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DrainTimeoutIT {
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(1);

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @Test
    void aRequestWhoseUpstreamAnswersAfterDrainTimeoutGets504AndIsLoggedDrainTimeout() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /_up/delay/10000 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            harness.upstream().awaitHeads(1, Duration.ofSeconds(10));
            long start = System.nanoTime();
            CompletableFuture<?> draining = drain(gw);

            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(r.status()).as("%s", r).isEqualTo(504);
            assertThat(r.connectionTokens()).as("%s", r).contains("close");
            assertThat(took).as("answered when drain_timeout ended").isBetween(Duration.ofMillis(800),
                    Duration.ofMillis(4000));
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).as("closed after the 504").isTrue();
            draining.get(10, TimeUnit.SECONDS);

            JsonNode line = access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
            assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(504);
            assertThat(line.path("error").asText()).as("%s", line).isEqualTo("drain_timeout");
            assertThat(line.path("upstream_status").isNull()).as("%s", line).isTrue();
        }
    }

    @Test
    void aResponseStillStreamingWhenDrainTimeoutEndsIsCutAndLoggedDrainTimeoutWithItsStatus() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        harness.upstream().handler(req -> Reply.slowBody(50, 1024, Duration.ofMillis(200))); // 10 s in all
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            String id = head.header("X-Request-Id").orElseThrow();
            CompletableFuture<?> draining = drain(gw);

            long received = readUntilClosed(raw.inputStream(), Duration.ofSeconds(8));

            assertThat(received).as("body bytes before the cut (of 51200)").isLessThan(50 * 1024);
            draining.get(10, TimeUnit.SECONDS);
            JsonNode line = access.jsonLineFor(id);
            assertThat(line.path("error").asText()).as("%s", line).isEqualTo("drain_timeout");
            assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(200);
            assertThat(line.path("upstream_status").asInt()).as("%s", line).isEqualTo(200);
        }
    }

    /**
     * A request still waiting for an upstream connection (the only one is busy) was never forwarded: 503, while the
     * request holding that connection, which the upstream has, gets 504.
     */
    @Test
    void aRequestWaitingForAnUpstreamConnectionGets503AndTheForwardedOneGets504(@TempDir Path dir) throws Exception {
        Gateway gw = harness.startYaml(dir, ONE_UPSTREAM_CONNECTION, Map.of());
        try (RawHttp forwarded = gw.raw(); RawHttp waiting = gw.raw()) {
            forwarded.send("GET /_up/delay/10000 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            harness.upstream().awaitHeads(1, Duration.ofSeconds(10));
            waiting.send("GET /second HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            Thread.sleep(300); // decided, and queued for the pool's one connection
            CompletableFuture<?> draining = drain(gw);

            RawResponse first = forwarded.readResponse();
            RawResponse second = waiting.readResponse();
            draining.get(10, TimeUnit.SECONDS);

            assertThat(first.status()).as("%s", first).isEqualTo(504);
            assertThat(second.status()).as("%s", second).isEqualTo(503);
            assertThat(harness.upstream().headsReceived()).as("the second never reached the upstream").isEqualTo(1);
            for (RawResponse r : List.of(first, second)) {
                JsonNode line = access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
                assertThat(line.path("error").asText()).as("%s", line).isEqualTo("drain_timeout");
                assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(r.status());
            }
        }
    }

    /** One upstream connection, waited for up to 20 s, so that a second request queues for it. */
    private static final String ONE_UPSTREAM_CONNECTION = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
              connect_timeout: 20s
              max_connections: 1
            default: allow
            """;

    /**
     * A request still waiting for its token's signing keys was never forwarded: it is answered 503 like a request
     * that arrives while draining, not dropped with its connection as client_closed.
     */
    @Test
    void aRequestWaitingForSigningKeysWhenDrainTimeoutEndsGets503() throws Exception {
        RSAKey known = JwtMint.rsa("drain-1");
        RSAKey rotated = JwtMint.rsa("drain-2");
        try (JwksServer jwks = JwksServer.start(List.of(known))) {
            // a key wait (limits.header_timeout) far longer than the drain timeout
            Gateway gw = harness.start("identity-jwks-url-held.yaml",
                    Map.of("JWKS_PORT", Integer.toString(jwks.port()), "HEADER_TIMEOUT", "20s"));
            String host = "Host: " + gw.authority() + "\r\n";
            try (RawHttp raw = gw.raw()) {
                RawResponse first = raw.send("GET /admin/x HTTP/1.1\r\n" + host + bearer(token(known)) + "\r\n\r\n")
                        .readResponse();
                assertThat(first.status()).as("%s", first).isEqualTo(200);
            }
            jwks.addKey(rotated);
            jwks.hold();
            int fetches = jwks.fetches();
            try (RawHttp raw = gw.raw()) {
                raw.send("GET /admin/y HTTP/1.1\r\n" + host + bearer(token(rotated)) + "\r\n\r\n");
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (jwks.fetches() == fetches) {
                    assertThat(System.nanoTime()).as("the unknown kid's refetch began").isLessThan(deadline);
                    Thread.sleep(10);
                }
                CompletableFuture<?> draining = drain(gw);

                RawResponse r = raw.readResponse();

                assertThat(r.status()).as("%s", r).isEqualTo(503);
                assertThat(r.connectionTokens()).as("%s", r).contains("close");
                draining.get(10, TimeUnit.SECONDS);
                JsonNode line = access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
                assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(503);
                assertThat(line.path("error").asText()).as("%s", line).isEqualTo("drain_timeout");
            } finally {
                jwks.release();
            }
        }
        assertThat(harness.upstream().requests()).as("the waiting request never reached the upstream")
                .noneMatch(req -> req.path().equals("/admin/y"));
    }

    private static CompletableFuture<?> drain(Gateway gw) {
        return CompletableFuture.runAsync(() -> gw.server().drain(DRAIN_TIMEOUT));
    }

    private static String token(RSAKey key) {
        return JwtMint.sign(key, JWSAlgorithm.RS256, claims("drain", "admin").build());
    }

    /** Reads until the connection ends; returns the bytes read, or fails when it is still open after {@code max}. */
    private static long readUntilClosed(InputStream in, Duration max) throws IOException {
        long deadline = System.nanoTime() + max.toNanos();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (System.nanoTime() < deadline) {
            int n;
            try {
                n = in.read(buf);
            } catch (SocketException reset) {
                return seen.size();
            }
            if (n < 0) {
                return seen.size();
            }
            seen.write(buf, 0, n);
        }
        throw new AssertionError("the connection was still open after " + max + " (" + seen.size() + " bytes)");
    }
}
