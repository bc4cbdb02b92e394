package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Header;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SPEC 3.7 hop-by-hop headers in both directions, and SPEC 3.6 X-Request-Id / Server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HeadersIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final List<String> HOP_BY_HOP_REQUEST = List.of(
            "x-hop-a", "x-hop-b", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
            "upgrade");

    @Test
    void removesHopByHopRequestHeaders() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        Probe p = new Probe(harness, gw);

        RecordedRequest up = p.allowedAs("GET", "/hop",
                "Connection: keep-alive, X-Hop-A, x-hop-b",
                "X-Hop-A: 1",
                "X-Hop-B: 2",
                "Keep-Alive: timeout=5, max=100",
                "Proxy-Connection: keep-alive",
                "Proxy-Authorization: Basic Zm9vOmJhcg==",
                "TE: trailers",
                "Trailer: X-Checksum",
                "Upgrade: foo/1",
                "X-End-To-End: kept",
                "Accept: text/plain");

        assertThat(Header.names(up.headers())).doesNotContainAnyElementsOf(HOP_BY_HOP_REQUEST);
        assertThat(connectionTokens(up.headerValues("Connection"))).isSubsetOf("keep-alive", "close");
        assertThat(up.header("X-End-To-End")).contains("kept");
        assertThat(up.header("Accept")).contains("text/plain");
    }

    @Test
    void removesHopByHopResponseHeadersAndKeepsTheConnection() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> Reply.fixed(200, "OK", List.of(
                        new Header("Connection", "Foo, X-Hop-R"),
                        new Header("Foo", "bar"),
                        new Header("X-Hop-R", "1"),
                        new Header("Keep-Alive", "timeout=5, max=100"),
                        new Header("Proxy-Connection", "keep-alive"),
                        new Header("Proxy-Authenticate", "Basic realm=\"up\""),
                        new Header("Trailer", "X-Checksum"),
                        new Header("Upgrade", "foo/1"),
                        new Header("TE", "trailers"),
                        new Header("X-End-To-End", "kept"),
                        new Header("Content-Type", "text/plain")),
                "ok".getBytes(StandardCharsets.US_ASCII)));

        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /hop HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok");
            assertThat(Header.names(r.headers())).doesNotContain(
                    "foo", "x-hop-r", "keep-alive", "proxy-connection", "proxy-authenticate", "trailer", "upgrade",
                    "te");
            assertThat(r.connectionTokens()).isSubsetOf("keep-alive", "close");
            assertThat(r.header("X-End-To-End")).contains("kept");

            if (!r.connectionTokens().contains("close")) {
                harness.upstream().reset();
                RawResponse next = raw.send("GET /again HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                assertThat(next.status()).isEqualTo(200);
            }
        }
    }

    @Test
    void passesUpstreamAnswersThroughIncludingTheirServerHeader() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> Reply.fixed(418, "I'm a teapot", List.of(
                        new Header("Server", "it-upstream/1.0"),
                        new Header("Content-Type", "application/problem+json"),
                        new Header("X-Custom", "a"),
                        new Header("X-Custom", "b"),
                        new Header("Set-Cookie", "a=1; Path=/"),
                        new Header("Set-Cookie", "b=2; Path=/")),
                "{\"teapot\":true}".getBytes(StandardCharsets.US_ASCII)));

        RawResponse r = RawHttp.exchange(gw.port(), "GET /tea HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");

        assertThat(r.status()).isEqualTo(418);
        assertThat(r.header("Server")).contains("it-upstream/1.0");
        assertThat(r.header("Content-Type")).contains("application/problem+json");
        assertThat(r.headerValues("Set-Cookie")).containsExactly("a=1; Path=/", "b=2; Path=/");
        assertThat(String.join(",", r.headerValues("X-Custom")).replace(" ", "")).isEqualTo("a,b");
        assertThat(r.bodyText()).isEqualTo("{\"teapot\":true}");
        assertThat(r.header("X-Request-Id")).isPresent();
    }

    @Test
    void addsARequestIdToEveryProxiedResponse() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        HttpResponse<byte[]> a = harness.get(gw, "/one");
        HttpResponse<byte[]> b = harness.get(gw, "/two");

        assertThat(a.statusCode()).isEqualTo(200);
        String idA = a.headers().firstValue("X-Request-Id").orElseThrow();
        String idB = b.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(idA).isNotBlank();
        assertThat(idB).isNotBlank().isNotEqualTo(idA);
        assertThat(a.headers().allValues("X-Request-Id")).hasSize(1);
    }

    @Test
    void echoesASaneClientRequestIdOnProxiedAndGatewayMadeAnswers() throws Exception {
        Gateway allow = harness.start("proxy.yaml");
        HttpResponse<byte[]> proxied = harness.get(allow, "/x", "X-Request-Id", "it-req-0001");
        assertThat(proxied.statusCode()).isEqualTo(200);
        assertThat(proxied.headers().allValues("X-Request-Id")).containsExactly("it-req-0001");

        Gateway deny = harness.start("default-deny.yaml");
        HttpResponse<byte[]> denied = harness.get(deny, "/x", "X-Request-Id", "3f2c9a1e-7b7d-4c0e-9d7a-2f1b0c9e8d7a");
        GatewayAssertions.assertForbidden(denied);
        assertThat(denied.headers().allValues("X-Request-Id")).containsExactly("3f2c9a1e-7b7d-4c0e-9d7a-2f1b0c9e8d7a");

        RawResponse bad = RawHttp.exchange(allow.port(),
                "GET /a;b HTTP/1.1\r\nHost: " + allow.authority() + "\r\nX-Request-Id: it-req-0002\r\n\r\n");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.headerValues("X-Request-Id")).hasSize(1);
    }

    @Test
    void replacesAnInsaneClientRequestId() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String insane = "\"<script>alert(1)</script>\" " + "x".repeat(3000);

        RawResponse r = RawHttp.exchange(gw.port(),
                "GET /x HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Request-Id: " + insane + "\r\n\r\n");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headerValues("X-Request-Id")).hasSize(1);
        assertThat(r.header("X-Request-Id").orElseThrow()).isNotBlank().isNotEqualTo(insane).hasSizeLessThan(200);
    }

    @Test
    void addsARequestIdToGatewayMadeErrors() throws Exception {
        Gateway gw = harness.start("upstream-down.yaml");

        HttpResponse<byte[]> r = harness.get(gw, "/x");

        GatewayAssertions.assertGatewayError(r, 502);
    }

    @Test
    void everyAnswerCarriesADateAndAGatewayMadeOneTheReasonPhraseOfItsBody() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/dated")
                ? Reply.fixed(200, "OK", List.of(new Header("Date", "Sun, 06 Nov 1994 08:49:37 GMT")), new byte[0])
                : Reply.fixed(200, "OK", List.of(new Header("Content-Type", "text/plain")), new byte[0]));
        String dateFormat = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";

        try (RawHttp raw = gw.raw()) {
            RawResponse undated = raw.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
            RawResponse dated = raw.send("GET /dated HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();

            assertThat(undated.headerValues("Date")).as("RFC 9110 6.6.1: a proxy adds a missing Date").hasSize(1);
            assertThat(undated.header("Date").orElseThrow()).matches(dateFormat);
            assertThat(dated.headerValues("Date")).containsExactly("Sun, 06 Nov 1994 08:49:37 GMT");
        }
        try (RawHttp raw = gw.raw()) {
            RawResponse tooLong = raw.send("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();

            assertThat(tooLong.status()).isEqualTo(414);
            assertThat(tooLong.reason()).isEqualTo("URI Too Long");
            assertThat(tooLong.bodyText()).contains("\"error\":\"URI Too Long\"");
            assertThat(tooLong.header("Date").orElseThrow()).matches(dateFormat);
        }
        try (RawHttp raw = gw.raw()) {
            RawResponse tooLarge = raw.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n")
                    .readResponse();

            assertThat(tooLarge.status()).isEqualTo(413);
            assertThat(tooLarge.reason()).isEqualTo("Content Too Large");
            assertThat(tooLarge.bodyText()).contains("\"error\":\"Content Too Large\"");
            assertThat(tooLarge.header("Date").orElseThrow()).matches(dateFormat);
        }
    }

    private static List<String> connectionTokens(List<String> values) {
        return values.stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(t -> t.trim().toLowerCase(Locale.ROOT))
                .filter(t -> !t.isEmpty())
                .toList();
    }
}
