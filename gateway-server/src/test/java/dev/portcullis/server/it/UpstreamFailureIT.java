package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SPEC 3.6: 502 when the upstream is unreachable or broken, 504 when it is too slow. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamFailureIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void answers502WhenNothingListensOnTheUpstreamPort() throws Exception {
        Gateway gw = harness.start("upstream-down.yaml");

        long start = System.nanoTime();
        HttpResponse<byte[]> r = harness.get(gw, "/x");
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        GatewayAssertions.assertGatewayError(r, 502);
        assertThat(took).as("connection refused is answered promptly").isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void answers502ForEveryRequestOnAKeptAliveConnectionWhileTheUpstreamIsDown() throws Exception {
        Gateway gw = harness.start("upstream-down.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse first = raw.send("GET /a HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            GatewayAssertions.assertGatewayError(first, 502);
            if (!raw.awaitClosed(Duration.ofMillis(100))) {
                RawResponse second = raw.send("GET /b HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                GatewayAssertions.assertGatewayError(second, 502);
            }
        }
    }

    @Test
    void keepsTheConnectionAliveAfterA502ForABodilessRequestWhenTheUpstreamRefuses() throws Exception {
        Gateway gw = harness.start("upstream-down.yaml");
        try (RawHttp raw = gw.raw()) {
            for (String path : new String[] {"/a", "/b"}) {
                RawResponse r = raw.send("GET " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                GatewayAssertions.assertGatewayError(r, 502);
                assertThat(r.connectionTokens()).as("502 for GET %s", path).doesNotContain("close");
                assertThat(raw.await(Duration.ofMillis(300)))
                        .as("the connection stays open after the 502 for GET %s", path)
                        .isEqualTo(RawHttp.State.OPEN);
            }
        }
    }

    @Test
    void keepsTheConnectionAliveAfterA502WhenTheRequestBodyWasReadWhole() throws Exception {
        Gateway gw = harness.start("upstream-down.yaml");
        try (RawHttp raw = gw.raw()) {
            for (String path : new String[] {"/a", "/b"}) {
                // head and body in one write: the body is read whole by the time the refusal is answered
                RawResponse r = raw.send("POST " + path + " HTTP/1.1\r\nHost: " + gw.authority()
                                + "\r\nContent-Length: 10\r\n\r\n0123456789")
                        .readResponse();
                GatewayAssertions.assertGatewayError(r, 502);
                assertThat(r.connectionTokens()).as("502 for POST %s", path).doesNotContain("close");
                assertThat(raw.await(Duration.ofMillis(300)))
                        .as("the connection stays open after the 502 for POST %s", path)
                        .isEqualTo(RawHttp.State.OPEN);
            }
        }
    }

    @Test
    void answers502WhenTheUpstreamClosesWithoutAnswering() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        HttpResponse<byte[]> r = harness.get(gw, "/_up/close");

        GatewayAssertions.assertGatewayError(r, 502);
        harness.upstream().awaitSingleRequest();
    }

    @Test
    void answers504WhenTheUpstreamIsSlowerThanResponseTimeout() throws Exception {
        Gateway gw = harness.start("upstream-timeouts.yaml"); // response_timeout: 500ms

        long start = System.nanoTime();
        HttpResponse<byte[]> r = harness.get(gw, "/_up/delay/4000");
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        GatewayAssertions.assertGatewayError(r, 504);
        assertThat(took).as("504 arrives after about response_timeout").isBetween(
                Duration.ofMillis(400), Duration.ofMillis(3000));
        harness.upstream().awaitSingleRequest();
    }

    @Test
    void servesNormallyAfterA504() throws Exception {
        Gateway gw = harness.start("upstream-timeouts.yaml");

        GatewayAssertions.assertGatewayError(harness.get(gw, "/_up/delay/3000"), 504);
        HttpResponse<byte[]> ok = harness.get(gw, "/_up/delay/50");

        assertThat(ok.statusCode()).isEqualTo(200);
    }

    @Test
    void proxiesAnAnswerThatArrivesWithinResponseTimeout() throws Exception {
        Gateway gw = harness.start("upstream-timeouts.yaml");

        HttpResponse<byte[]> r = harness.get(gw, "/_up/delay/100");

        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void responseTimeoutCoversOnlyTheHeadNotASlowBody() throws Exception {
        Gateway gw = harness.start("upstream-timeouts.yaml"); // response_timeout: 500ms
        harness.upstream().handler(req -> Reply.slowBody(8, 1024, Duration.ofMillis(200)));

        HttpResponse<byte[]> r = harness.get(gw, "/slow-body");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).as("a body streaming for ~1.6 s is not cut off").isEqualTo(PatternBytes.bytes(8 * 1024));
    }
}
