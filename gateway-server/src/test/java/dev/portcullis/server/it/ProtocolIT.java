package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SPEC 3.6: smuggling signals, malformed HTTP, TRACE / CONNECT, and the size limits of limits.*. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProtocolIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final String HOST = "Host: gateway.test\r\n";

    /** Requests that must get 400 and a closed connection; "%s" stands for nothing (kept simple). */
    static Stream<Arguments> smugglingSignals() {
        return Stream.of(
                Arguments.of("Content-Length and Transfer-Encoding",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "0\r\n\r\n"),
                Arguments.of("Transfer-Encoding and Content-Length",
                        "POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                                + "0\r\n\r\n"),
                Arguments.of("two different Content-Length headers",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
                Arguments.of("Content-Length repeated with the same value",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
                Arguments.of("Content-Length list",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: 5, 5\r\n\r\nhello"),
                Arguments.of("Content-Length with a sign",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: +5\r\n\r\nhello"),
                Arguments.of("negative Content-Length",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: -1\r\n\r\n"),
                Arguments.of("non-numeric Content-Length",
                        "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: abc\r\n\r\n"),
                Arguments.of("Transfer-Encoding: gzip",
                        "POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: gzip\r\n\r\nhello"),
                Arguments.of("Transfer-Encoding: xchunked",
                        "POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("Transfer-Encoding: chunked, gzip (chunked not final)",
                        "POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
                Arguments.of("Transfer-Encoding: identity",
                        "POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: identity\r\n\r\n"),
                Arguments.of("whitespace before the colon of Transfer-Encoding",
                        "POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n"
                                + "hello"),
                Arguments.of("body on GET (Content-Length)",
                        "GET /x HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\n\r\nhello"),
                Arguments.of("body on GET (chunked)",
                        "GET /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                // Netty's HttpObjectDecoder gives a Hixie-76 handshake an implicit 8-byte body (the key3 bytes)
                Arguments.of("body on GET (Hixie-76 WebSocket handshake, no Content-Length)",
                        "GET /x HTTP/1.1\r\n" + HOST + "Connection: Upgrade\r\nUpgrade: WebSocket\r\n"
                                + "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n"
                                + "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:ds[4U"),
                Arguments.of("body on HEAD",
                        "HEAD /x HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\n\r\nhello"),
                Arguments.of("body on OPTIONS",
                        "OPTIONS /x HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\n\r\nhello"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smugglingSignals")
    void rejectsSmugglingSignalsWith400AndClosesTheConnection(String name, String request) throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        assertBadRequestAndClosed(gw, request);
    }

    static Stream<Arguments> malformedRequests() {
        return Stream.of(
                Arguments.of("missing Host on HTTP/1.1", "GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n"),
                Arguments.of("two Host headers", "GET /x HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n"),
                Arguments.of("garbage request line", "HELLO\r\n\r\n"),
                Arguments.of("header line without colon", "GET /x HTTP/1.1\r\n" + HOST + "NoColonHere\r\n\r\n"),
                Arguments.of("space inside a header name", "GET /x HTTP/1.1\r\n" + HOST + "X Bad: 1\r\n\r\n"),
                Arguments.of("space before the colon", "GET /x HTTP/1.1\r\n" + HOST + "X-Bad : 1\r\n\r\n"),
                Arguments.of("tab before the colon", "GET /x HTTP/1.1\r\n" + HOST + "X-Bad\t: 1\r\n\r\n"),
                // RFC 9112 2.3: HTTP-name = %s"HTTP", case-sensitive (nginx: 400)
                Arguments.of("lower-case HTTP version", "GET /x http/1.1\r\n" + HOST + "\r\n"),
                Arguments.of("mixed-case HTTP version", "GET /x Http/1.1\r\n" + HOST + "\r\n"),
                Arguments.of("two-digit minor version", "GET /x HTTP/1.10\r\n" + HOST + "\r\n"),
                // RFC 9112 3: request-line = method SP ...; Netty would skip the space (nginx: 400)
                Arguments.of("space before the method", " DELETE /x HTTP/1.1\r\n" + HOST + "\r\n"),
                Arguments.of("blank line, then a tab before the method", "\r\n\tGET /x HTTP/1.1\r\n" + HOST + "\r\n"),
                Arguments.of("bad chunk size", "POST /x HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("chunk data longer than its size", "POST /x HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedRequests")
    void rejectsMalformedHttpWith400(String name, String request) throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(request).readResponse();
            assertThat(r.status()).as("answer to %s:%n%s", name, r).isEqualTo(400);
            GatewayAssertions.assertGatewayError(r, 400);
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("connection closed after a 400").isTrue();
        }
        if (name.startsWith("bad chunk") || name.startsWith("chunk data")) {
            // the head may already be streaming to the upstream, but the upstream must never see the
            // request completed, whatever it received of it
            Thread.sleep(Probe.QUIET.toMillis());
            assertThat(harness.upstream().requests())
                    .as("a request with a malformed chunked body must not reach the upstream complete")
                    .isEmpty();
        } else {
            harness.upstream().assertReceivedNothing(Probe.QUIET);
        }
    }

    @Test
    void doesNotTreatTheRejectedBodyAsASecondRequest() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String smuggled = "GET /smuggled HTTP/1.1\r\n" + HOST + "\r\n";
        String request = "POST /x HTTP/1.1\r\n" + HOST + "Content-Length: " + smuggled.length()
                + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled;
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(request).readResponse();
            assertThat(r.status()).isEqualTo(400);
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).isTrue();
        }
        harness.upstream().assertReceivedNothing(Duration.ofMillis(300));
    }

    @Test
    void answersTraceWith405AndAnAllowHeader() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        RawResponse r = RawHttp.exchange(gw.port(), "TRACE /x HTTP/1.1\r\n" + HOST + "\r\n");

        GatewayAssertions.assertGatewayError(r, 405);
        assertAllowHeader(r);
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void answersConnectWith405AndAnAllowHeader() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        RawResponse r = RawHttp.exchange(gw.port(),
                "CONNECT upstream.test:443 HTTP/1.1\r\nHost: upstream.test:443\r\n\r\n");

        assertThat(r.status()).as("CONNECT: 405 (SPEC 3.6; 3.4 tolerates 400)%n%s", r).isIn(405, 400);
        GatewayAssertions.assertGatewayError(r, r.status());
        if (r.status() == 405) {
            assertAllowHeader(r);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void answersConnectWithAnOriginFormTargetWith405() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        RawResponse r = RawHttp.exchange(gw.port(), "CONNECT /x HTTP/1.1\r\n" + HOST + "\r\n");

        assertThat(r.status()).isIn(405, 400);
        if (r.status() == 405) {
            assertAllowHeader(r);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void answers414ForATargetOverMaxUriLength() throws Exception {
        Gateway gw = harness.start("limits.yaml"); // max_uri_length: 1KiB
        Probe p = new Probe(harness, gw);

        p.allowed("/" + "a".repeat(500));
        p.allowed("/q?" + "b".repeat(800));
        p.rejected(414, "GET", "/" + "a".repeat(2048));
        p.rejected(414, "GET", "/q?" + "b".repeat(2048));
    }

    @Test
    void answers431ForHeadersOverMaxHeaderSize() throws Exception {
        Gateway gw = harness.start("limits.yaml"); // max_header_size: 4KiB
        Probe p = new Probe(harness, gw);

        p.allowed("/x", "X-Big: " + "v".repeat(2000));
        p.rejected(431, "GET", "/x", "X-Big: " + "v".repeat(8192));
        String[] many = new String[40];
        for (int i = 0; i < many.length; i++) {
            many[i] = "X-Many-" + i + ": " + "m".repeat(200);
        }
        p.rejected(431, "GET", "/x", many);
    }

    @Test
    void answers413ForAContentLengthOverMaxBodySize() throws Exception {
        Gateway gw = harness.start("limits.yaml"); // max_body_size: 64KiB
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("POST /x HTTP/1.1\r\n" + HOST + "Content-Length: " + (64 * 1024 + 1)
                    + "\r\n\r\n").readResponse();
            GatewayAssertions.assertGatewayError(r, 413);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);

        try (RawHttp raw = gw.raw()) {
            String body = "x".repeat(64 * 1024);
            RawResponse ok = raw.send("POST /x HTTP/1.1\r\n" + HOST + "Content-Length: " + body.length() + "\r\n\r\n"
                    + body).readResponse();
            assertThat(ok.status()).as("a body of exactly max_body_size is fine").isEqualTo(200);
        }
    }

    @Test
    void answers413WithoutContinueForAnOversizedExpectRequest() throws Exception {
        Gateway gw = harness.start("limits.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("PUT /x HTTP/1.1\r\n" + HOST + "Content-Length: 10000000"
                    + "\r\nExpect: 100-continue\r\n\r\n").readResponse();
            assertThat(r.status()).as("first answer").isEqualTo(413);
            GatewayAssertions.assertGatewayError(r, 413);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void answers413ForAChunkedBodyGrowingPastMaxBodySize() throws Exception {
        Gateway gw = harness.start("limits.yaml");
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /x HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n");
            String chunk = "y".repeat(16 * 1024);
            // 80 KiB and no last chunk: the gateway must answer as soon as the body grows past 64 KiB
            for (int i = 0; i < 5; i++) {
                raw.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            }
            RawResponse r = raw.readResponse();
            assertThat(r.status()).as("chunked body of 80 KiB over a 64 KiB limit:%n%s", r).isEqualTo(413);
            GatewayAssertions.assertGatewayError(r, 413);
        }
        assertThat(harness.upstream().requests())
                .as("the upstream never receives a complete oversized body")
                .allSatisfy(req -> assertThat(req.bodyLength()).isLessThanOrEqualTo(64 * 1024));
    }

    private void assertBadRequestAndClosed(Gateway gw, String request) throws Exception {
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(request).readResponse(request.startsWith("HEAD "));
            assertThat(r.status()).as("answer to:%n%s%n---%n%s", request, r).isEqualTo(400);
            if (!request.startsWith("HEAD ")) {
                GatewayAssertions.assertGatewayError(r, 400);
            }
            assertThat(raw.awaitClosed(Duration.ofSeconds(3)))
                    .as("the connection is closed after a smuggling signal")
                    .isTrue();
        }
        harness.upstream().assertReceivedNothing(Duration.ofMillis(300));
    }

    private static void assertAllowHeader(RawResponse r) {
        assertThat(r.header("Allow")).as("Allow header on %s", r).isPresent();
        List<String> allowed = List.of(r.header("Allow").orElseThrow().toUpperCase(Locale.ROOT).split("\\s*,\\s*"));
        assertThat(allowed).isNotEmpty().doesNotContain("TRACE", "CONNECT").contains("GET");
    }
}
