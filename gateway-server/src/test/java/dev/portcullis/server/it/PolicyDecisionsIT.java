package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.GatewayAssertions.FORBIDDEN_BODY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SPEC 3.1 and 3.6: default allow / deny, deny_status, audit mode, and the exact shape of a deny. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PolicyDecisionsIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void defaultDenyAnswersTheExact403() throws Exception {
        Gateway gw = harness.start("default-deny.yaml");

        HttpResponse<byte[]> r = harness.get(gw, "/anything");

        GatewayAssertions.assertForbidden(r);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(FORBIDDEN_BODY);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(r.headers().firstValue("Content-Length"))
                .contains(Integer.toString(FORBIDDEN_BODY.getBytes(StandardCharsets.UTF_8).length));
        assertThat(r.headers().firstValue("Server")).isEmpty();
        assertThat(r.headers().firstValue("X-Request-Id")).hasValueSatisfying(v -> assertThat(v).isNotBlank());
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void defaultDenyAppliesToEveryMethodAndDiscardsTheBody() throws Exception {
        Gateway gw = harness.start("default-deny.yaml");
        Probe p = new Probe(harness, gw);

        p.forbiddenAs("POST", "/x", "Content-Length: 0");
        p.forbiddenAs("DELETE", "/x");
        p.forbiddenAs("OPTIONS", "/x");

        HttpResponse<byte[]> withBody = harness.send(gw, "POST", "/upload",
                HttpRequest.BodyPublishers.ofByteArray(PatternBytes.bytes(256 * 1024)));
        GatewayAssertions.assertForbidden(withBody);

        RawResponse head = RawHttp.exchange(gw.port(), "HEAD /x HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
        assertThat(head.status()).isEqualTo(403);
        assertThat(head.header("X-Request-Id")).isPresent();
        assertThat(head.header("Server")).isEmpty();
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void keepsTheConnectionUsableAfterADenyWithABody() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse denied = raw.send("POST /blocked/x HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Length: 5\r\n\r\nhello").readResponse();
            GatewayAssertions.assertForbidden(denied);
            if (!raw.awaitClosed(Duration.ofMillis(200))) {
                // kept alive: the discarded body must not be read as a request
                RawResponse next = raw.send("GET /after HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                assertThat(next.status()).isEqualTo(200);
                assertThat(harness.upstream().awaitSingleRequest().target()).isEqualTo("/after");
            }
        }
    }

    @Test
    void answersADeniedRequestWhoseLargeBodyIsStillArriving() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            String chunk = "z".repeat(64 * 1024);
            body.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        body.append("0\r\n\r\n");
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /blocked/upload HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            // the body is written by another thread while this one reads, as a client that streams an
            // upload would; the gateway may answer early, but the client must get to read the answer
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                try {
                    raw.send(body.toString());
                } catch (IOException stoppedByGateway) {
                    // closing the upload side after answering is the gateway's right
                }
            });
            RawResponse denied = raw.readResponse();
            GatewayAssertions.assertForbidden(denied);
            upload.get(10, TimeUnit.SECONDS);
            if (raw.await(Duration.ofMillis(300)) == RawHttp.State.OPEN) {
                RawResponse next = raw.send("GET /after HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                assertThat(next.status()).as("the discarded body is not read as a request").isEqualTo(200);
                assertThat(harness.upstream().awaitSingleRequest().target()).isEqualTo("/after");
            }
        }
        harness.upstream().assertHeadsStayAt(harness.upstream().headsReceived(), Probe.QUIET);
        assertThat(harness.upstream().requests()).extracting(r -> r.target()).doesNotContain("/blocked/upload");
    }

    @Test
    void answersADeniedHeadWithoutABody() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse head = raw.send("HEAD /blocked/x HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse(true);
            assertThat(head.status()).isEqualTo(403);
            assertThat(head.header("X-Request-Id")).isPresent();
            assertThat(raw.await(Duration.ofMillis(300)))
                    .as("no body bytes follow the head of an answer to HEAD")
                    .isNotEqualTo(RawHttp.State.DATA);
        }
    }

    @Test
    void defaultAllowProxiesWhatNoRuleDenies() throws Exception {
        Probe p = new Probe(harness, harness.start("default-allow.yaml"));

        p.allowed("/anything");
        p.allowedAs("POST", "/some/where", "Content-Length: 0");
        p.forbidden("/blocked/x");
        p.forbidden("/blocked");
    }

    @Test
    void denyStatus404HidesTheResource() throws Exception {
        Probe p = new Probe(harness, harness.start("default-allow.yaml"));

        RawResponse hidden = p.rejected(404, "GET", "/hidden/x");
        assertThat(hidden.bodyText()).doesNotContain("hidden");
        p.rejected(404, "GET", "/secret/x");
        p.rejected(404, "GET", "/secret/x", "X-Key: k2");
        p.allowed("/secret/x", "X-Key: k1");
    }

    @Test
    void auditModeRuleNeverBlocks() throws Exception {
        Probe p = new Probe(harness, harness.start("default-allow.yaml"));

        assertThat(p.allowed("/audited/x").target()).isEqualTo("/audited/x");
    }

    @Test
    void expectContinueOnADeniedRequestGetsTheFinalStatusNever100() throws Exception {
        Gateway gw = harness.start("default-deny.yaml");
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /upload HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000"
                    + "\r\nExpect: 100-continue\r\n\r\n");
            RawResponse first = raw.readResponse();
            assertThat(first.status()).as("first answer to a denied Expect: 100-continue").isEqualTo(403);
            GatewayAssertions.assertForbidden(first);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void expectContinueOnARequestDeniedWith404GetsTheFinalStatus() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        try (RawHttp raw = gw.raw()) {
            raw.send("PUT /hidden/file HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
            RawResponse first = raw.readResponse();
            assertThat(first.status()).isEqualTo(404);
            GatewayAssertions.assertGatewayError(first, 404);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void publicPortDoesNotServeAdminEndpointsButAppliesThePolicy() throws Exception {
        Probe p = new Probe(harness, harness.start("default-deny.yaml"));

        p.forbidden("/healthz");
        p.forbidden("/readyz");
        p.forbidden("/metrics");
        p.forbidden("/config");
        p.forbiddenAs("POST", "/reload", "Content-Length: 0");
    }
}
