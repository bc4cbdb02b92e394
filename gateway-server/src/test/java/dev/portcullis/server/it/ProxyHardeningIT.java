package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Regressions for smuggling, header-trust and pool holes found in review. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProxyHardeningIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void connectionHeaderCannotRemoveContentLengthToSmuggleARequest() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String hidden = "GET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n";
        String request = "POST /ok HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: Content-Length\r\n"
                + "Content-Length: " + hidden.length() + "\r\n\r\n" + hidden;
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(request).readResponse();
            assertThat(r.status()).isEqualTo(400);
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).isTrue();
        }
        Thread.sleep(Probe.QUIET.toMillis());
        assertThat(harness.upstream().requests()).isEmpty();
    }

    @Test
    void connectionHeaderCannotRemoveTransferEncoding() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String request = "POST /ok HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: transfer-encoding\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        try (RawHttp raw = gw.raw()) {
            assertThat(raw.send(request).readResponse().status()).isEqualTo(400);
        }
        Thread.sleep(Probe.QUIET.toMillis());
        assertThat(harness.upstream().requests()).isEmpty();
    }

    @Test
    void untrustedPeerCannotSatisfyARuleWithForwardedHeaders() throws Exception {
        Gateway gw = harness.start("forwarded-proto.yaml");
        Probe p = new Probe(harness, gw);
        p.forbidden("/secure/x", "X-Forwarded-Proto: https");
        RecordedRequest up = p.allowed("/open", "X-Forwarded-Port: 1", "X-Real-IP: 1.2.3.4", "X_Forwarded_For: 9.9.9.9",
                "X-Client-IP: 5.6.7.8", "Forwarded: for=1.2.3.4", "X-Forwarded-Proto: https");
        assertThat(up.hasHeader("X-Forwarded-Port")).isFalse();
        assertThat(up.hasHeader("X-Real-IP")).isFalse();
        assertThat(up.hasHeader("X_Forwarded_For")).isFalse();
        assertThat(up.hasHeader("X-Client-IP")).isFalse();
        assertThat(up.hasHeader("Forwarded")).isFalse();
        assertThat(up.header("X-Forwarded-Proto")).contains("http");
        assertThat(up.headerValues("X-Forwarded-For")).containsExactly("127.0.0.1");
    }

    @Test
    void http10RequestWithoutHostReachesTheUpstreamWithOne() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        RawResponse r = RawHttp.exchange(gw.port(), "GET /old HTTP/1.0\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        RecordedRequest up = harness.upstream().requests().get(0);
        assertThat(up.header("Host")).contains("127.0.0.1:" + harness.upstream().port());
    }

    @Test
    void malformedUpstreamResponseIsNotRelayedAsCompleteNorPooled() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> {
            if (req.path().equals("/badchunk")) {
                return (r, out) -> {
                    out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    return true;
                };
            }
            return Reply.echo();
        });
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /badchunk HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            // the chunk that was valid is relayed, never a last chunk: the client sees a truncated response
            String rest = new String(raw.inputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(rest).as("a response broken mid-body ends the client connection").isEqualTo("5\r\nhello\r\n");
        }
        for (int i = 0; i < 3; i++) {
            assertThat(harness.get(gw, "/after-" + i).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void oneConnectionPoolServesClientsOnEveryEventLoop() throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        for (int i = 0; i < 8; i++) {
            // a fresh client connection each time lands on alternating event loops
            RawResponse r = RawHttp.exchange(gw.port(), "GET /n" + i + " HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(r.status()).as("request %d", i).isEqualTo(200);
        }
    }

    @Test
    void twoAuthorizationHeadersAreRejected() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        RawResponse r = RawHttp.exchange(gw.port(), "GET /x HTTP/1.1\r\nHost: " + gw.authority()
                + "\r\nAuthorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\n\r\n");
        assertThat(r.status()).isEqualTo(400);
        Thread.sleep(Probe.QUIET.toMillis());
        assertThat(harness.upstream().requests()).isEmpty();
    }
}
