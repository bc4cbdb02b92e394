package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Black-box checks of SPEC 3.7 / README "Proxying": upstream response edge cases relayed to the client,
 * framing toward the client, pooled-connection hygiene and backpressure in both directions.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecProxyCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final int KIB = 1024;
    private static final int MIB = 1024 * 1024;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Reply raw(String bytes, boolean keepOpen) {
        return (r, out) -> {
            out.write(ascii(bytes));
            out.flush();
            return keepOpen;
        };
    }

    private static String get(Gateway gw, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
    }

    /** The client connection is still usable: a next request on it reaches the upstream and is answered. */
    private static void assertNextRequestIsProxied(Gateway gw, RawHttp c) throws IOException {
        RawResponse next = c.send(get(gw, "/next")).readResponse();
        assertThat(next.status()).as("the next request on the same client connection: %s", next).isEqualTo(200);
        assertThat(next.header("X-Echo-Target")).contains("/next");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads a response head as raw bytes (up to and including CRLFCRLF). */
    private static String readRawHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            byte[] a = b.toByteArray();
            int n = a.length;
            if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                break;
            }
            if (n > 64 * KIB) {
                throw new IOException("head too long");
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Waits until {@code counter} has not moved for {@code quiet} (or {@code max} passed); returns its value. */
    private static long awaitStall(LongSupplier counter, Duration quiet, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        long last = counter.getAsLong();
        long lastChange = System.nanoTime();
        while (System.nanoTime() < deadline) {
            sleep(50);
            long now = counter.getAsLong();
            if (now != last) {
                last = now;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange >= quiet.toNanos()) {
                return now;
            }
        }
        return counter.getAsLong();
    }

    // ------------------------------------------------------------------ 1xx interim answers

    @Test
    void earlyHintsBeforeTheFinalAnswerKeepFramingAndArePassedOn() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/hints")
                ? raw("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: 1\r\n\r\nok", true)
                : Reply.echo());
        List<Integer> interim = new ArrayList<>();
        try (RawHttp c = gw.raw()) {
            c.send(get(gw, "/hints"));
            RawResponse r = c.readResponse();
            while (r.status() / 100 == 1) {
                interim.add(r.status());
                // SPEC 3.6: every response carries X-Request-Id, interim ones too (the final answer's id)
                assertThat(r.header("X-Request-Id")).as("the 103's request id").isPresent();
                String hintId = r.header("X-Request-Id").get();
                r = c.readResponse();
                assertThat(r.header("X-Request-Id")).as("the final answer's request id").contains(hintId);
            }
            assertThat(r.status()).as("final answer after a 103").isEqualTo(200);
            assertThat(r.header("X-Final")).contains("1");
            assertThat(r.bodyText()).isEqualTo("ok");
            assertThat(c.await(Duration.ofMillis(300))).as("no stray bytes after the final answer")
                    .isEqualTo(RawHttp.State.OPEN);
            assertNextRequestIsProxied(gw, c);
        }
        assertThat(harness.upstream().awaitRequests(2, Duration.ofSeconds(5)))
                .extracting(RecordedRequest::target).containsExactly("/hints", "/next");
        assertThat(harness.upstream().connectionsAccepted())
                .as("103 + 200 ended exactly at its framing: the upstream connection is reused").isEqualTo(1);
        // RFC 9110 15.2: "A proxy MUST forward 1xx responses unless the proxy itself requested [them]"
        assertThat(interim).as("interim answers relayed to the HTTP/1.1 client").containsExactly(103);
    }

    @Test
    void noInterimAnswerReachesAnHttp10Client() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> raw("HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: 1\r\n\r\nok", true));
        try (RawHttp c = gw.raw()) {
            c.send("GET /hints10 HTTP/1.0\r\nHost: " + gw.authority() + "\r\n\r\n");
            String head = readRawHead(c.inputStream());
            // RFC 9110 15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client."
            assertThat(head).as("first head relayed to the HTTP/1.0 client").matches("(?s)HTTP/1\\.[01] 200 .*");
            assertThat(head.toLowerCase()).contains("x-final: 1");
            assertThat(new String(c.inputStream().readNBytes(2), StandardCharsets.ISO_8859_1)).isEqualTo("ok");
        }
    }

    // ------------------------------------------------------------------ a transfer coding without chunked

    @Test
    void aResponseWhoseTransferCodingIsNotChunkedIsFramedUnambiguouslyForTheClient() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        // RFC 9112 6.3 (4): a response whose Transfer-Encoding does not end in chunked is read until close
        byte[] payload = PatternBytes.bytes(3000);
        harness.upstream().handler(req -> req.path().equals("/gz")
                ? (r, out) -> {
                    out.write(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nX-Up: 1\r\n\r\n"));
                    out.write(payload);
                    out.flush();
                    return false;
                }
                : Reply.echo());
        try (RawHttp c = gw.raw()) {
            c.send(get(gw, "/gz"));
            RawResponse head = c.readHead();
            InputStream in = c.inputStream();
            List<String> te = head.headerValues("Transfer-Encoding");
            String codings = String.join(",", te).toLowerCase().replace(" ", "");
            if (head.status() == 502) {
                return; // refusing it is an acceptable answer too
            }
            assertThat(head.status()).isEqualTo(200);
            byte[] body;
            if (codings.endsWith("chunked")) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                // decode the chunked framing by hand (RawHttp would only do it for a plain "chunked")
                while (true) {
                    String size = new String(readLine(in), StandardCharsets.ISO_8859_1).trim();
                    int n = Integer.parseInt(size.split(";")[0], 16);
                    if (n == 0) {
                        while (readLine(in).length > 0) {
                            // trailer lines
                        }
                        break;
                    }
                    b.write(in.readNBytes(n));
                    assertThat(readLine(in)).isEmpty();
                }
                body = b.toByteArray();
            } else if (head.header("Content-Length").isPresent()) {
                body = in.readNBytes(Integer.parseInt(head.header("Content-Length").get().trim()));
            } else {
                body = in.readAllBytes(); // close-delimited: the gateway must then close
            }
            assertThat(body).as("body relayed with framing %s / %s", te, head.header("Content-Length"))
                    .isEqualTo(payload);
            if (!codings.endsWith("chunked") && head.header("Content-Length").isEmpty()) {
                return; // ended by the close we just read
            }
            assertNextRequestIsProxied(gw, c);
        }
    }

    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int ch;
        while ((ch = in.read()) >= 0 && ch != '\n') {
            if (ch != '\r') {
                b.write(ch);
            }
        }
        return b.toByteArray();
    }

    // ------------------------------------------------------------------ body-less answers with a chunked header

    @ParameterizedTest
    @ValueSource(strings = {"204", "304", "HEAD"})
    void aBodilessAnswerAnnouncingChunkedLeavesNoBytesBeforeTheNextResponse(String kind) throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String answer = switch (kind) {
            case "204" -> "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n";
            case "304" -> "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n";
            default -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n";
        };
        harness.upstream().handler(req -> req.path().equals("/bodiless") ? raw(answer, true) : Reply.generated(10));
        String method = kind.equals("HEAD") ? "HEAD" : "GET";
        try (RawHttp c = gw.raw()) {
            c.send(method + " /bodiless HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse r = c.readResponse(kind.equals("HEAD"));
            assertThat(r.status()).isEqualTo(kind.equals("HEAD") ? 200 : Integer.parseInt(kind));
            assertThat(r.header("X-Up")).contains("1");
            assertThat(c.await(Duration.ofMillis(500)))
                    .as("nothing (such as a last chunk '0\\r\\n\\r\\n') follows a %s answer", kind)
                    .isEqualTo(RawHttp.State.OPEN);
            RawResponse next = c.send(get(gw, "/ten")).readResponse();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.body()).isEqualTo(PatternBytes.bytes(10));
        }
    }

    // ------------------------------------------------------------------ Content-Length + Transfer-Encoding

    @Test
    void anUpstreamAnswerWithContentLengthAndTransferEncodingIsNeverRelayedAmbiguously() throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        // chunked body "abc" (13 bytes on the wire), Content-Length claims 40: a reader trusting Content-Length
        // would swallow the start of the next response
        harness.upstream().handler(req -> req.path().equals("/both")
                ? raw("HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "3\r\nabc\r\n0\r\n\r\n", true)
                : Reply.echo());
        try (RawHttp c = gw.raw()) {
            c.send(get(gw, "/both"));
            String head = readRawHead(c.inputStream());
            String lower = head.toLowerCase();
            assertThat(head).as("response head relayed to the client").startsWith("HTTP/1.1 ");
            boolean hasCl = lower.contains("\r\ncontent-length:");
            boolean hasTe = lower.contains("\r\ntransfer-encoding:");
            // RFC 9112 6.3: an intermediary that forwards it MUST first remove the received Content-Length
            assertThat(hasCl && hasTe).as("both Content-Length and Transfer-Encoding relayed:\n%s", head).isFalse();
            if (head.startsWith("HTTP/1.1 200")) {
                assertThat(lower).as("the 40 from Content-Length must not frame the relayed body")
                        .doesNotContain("content-length: 40");
            } else {
                assertThat(head).startsWith("HTTP/1.1 502");
            }
        }
        // the upstream connection that carried it poisons no later request
        RawResponse after = RawHttp.exchange(gw.port(), get(gw, "/after"));
        assertThat(after.status()).isEqualTo(200);
        assertThat(after.header("X-Echo-Target")).contains("/after");
    }

    // ------------------------------------------------------------------ close-delimited upstream bodies

    private static final int CLOSE_DELIMITED = 100 * KIB + 7;

    private static Reply closeDelimited() {
        return (r, out) -> {
            out.write(ascii("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Up: eof\r\n\r\n"));
            PatternBytes.writeTo(out, CLOSE_DELIMITED);
            out.flush();
            return false; // the end of the body is the end of the connection
        };
    }

    @Test
    void aCloseDelimitedUpstreamBodyIsReframedAsChunkedForAnHttp11ClientWhichStaysAlive() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/eof") ? closeDelimited() : Reply.echo());
        try (RawHttp c = gw.raw()) {
            RawResponse r = c.send(get(gw, "/eof")).readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Up")).contains("eof");
            // README: "An upstream response without framing is re-framed as chunked for HTTP/1.1 clients"
            assertThat(r.header("Transfer-Encoding")).as("framing toward the HTTP/1.1 client:\n%s", r)
                    .hasValueSatisfying(v -> assertThat(v.toLowerCase()).isEqualTo("chunked"));
            assertThat(r.hasHeader("Content-Length")).isFalse();
            assertThat(r.body()).isEqualTo(PatternBytes.bytes(CLOSE_DELIMITED));
            RawResponse next = c.send(get(gw, "/next")).readResponse();
            assertThat(next.status()).as("the client connection is kept alive").isEqualTo(200);
            assertThat(next.header("X-Echo-Target")).contains("/next");
        }
        assertThat(harness.upstream().connectionsAccepted()).as("the closed upstream connection was not reused")
                .isEqualTo(2);
    }

    @Test
    void aCloseDelimitedUpstreamBodyEndsWithTheConnectionForAnHttp10KeepAliveClient() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/eof") ? closeDelimited() : Reply.echo());
        try (RawHttp c = gw.raw()) {
            c.send("GET /eof HTTP/1.0\r\nHost: " + gw.authority() + "\r\nConnection: keep-alive\r\n\r\n");
            RawResponse r = c.readResponse(); // no framing headers: read to EOF
            assertThat(r.status()).isEqualTo(200);
            // RFC 9112 6.1: no Transfer-Encoding toward a client that did not say HTTP/1.1
            assertThat(r.hasHeader("Transfer-Encoding")).as("%s", r).isFalse();
            if (r.header("Content-Length").isEmpty()) {
                assertThat(r.body()).isEqualTo(PatternBytes.bytes(CLOSE_DELIMITED));
            } else {
                assertThat(r.header("Content-Length")).contains(Integer.toString(CLOSE_DELIMITED));
                assertThat(r.body()).isEqualTo(PatternBytes.bytes(CLOSE_DELIMITED));
            }
        }
    }

    @Test
    void aChunkedUpstreamAnswerReachesAnHttp10KeepAliveClientWithoutChunkedFraming() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        int size = 20 * KIB + 3;
        try (RawHttp c = gw.raw()) {
            c.send("GET /_up/chunked/" + size + " HTTP/1.0\r\nHost: " + gw.authority()
                    + "\r\nConnection: keep-alive\r\n\r\n");
            RawResponse head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            // RFC 9112 6.1: "A server MUST NOT send a response containing Transfer-Encoding unless the
            // corresponding request indicates HTTP/1.1"
            assertThat(head.hasHeader("Transfer-Encoding")).as("%s", head).isFalse();
            byte[] body;
            if (head.header("Content-Length").isPresent()) {
                body = c.inputStream().readNBytes(Integer.parseInt(head.header("Content-Length").get().trim()));
                if (c.await(Duration.ofMillis(500)) != RawHttp.State.CLOSED) {
                    // kept alive: an HTTP/1.0 client needs "Connection: keep-alive" to know (RFC 9112 9.3)
                    assertThat(head.connectionTokens()).contains("keep-alive");
                }
            } else {
                body = c.inputStream().readAllBytes();
            }
            assertThat(body).isEqualTo(PatternBytes.bytes(size));
        }
    }

    // ------------------------------------------------------------------ upstream Connection: close

    private static Reply closingAnswer() {
        // the upstream says close but leaves its socket open: only the gateway's respect keeps it unused
        return raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", true);
    }

    @Test
    void anUpstreamConnectionThatAnsweredConnectionCloseIsNeverReused() throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        harness.upstream().handler(req -> req.path().equals("/closing") ? closingAnswer() : Reply.echo());
        try (RawHttp c = gw.raw()) {
            RawResponse r = c.send(get(gw, "/closing")).readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok");
        }
        // let the gateway finish with the connection before the next request: it should close it (the upstream
        // then sees its end); a gateway that pools it instead gets the whole wait to do so, and /fresh shows it
        int closing = harness.upstream().awaitSingleRequest().connectionId();
        harness.upstream().awaitConnectionEnded(closing, Duration.ofSeconds(3));
        RawResponse next = RawHttp.exchange(gw.port(), get(gw, "/fresh"));
        assertThat(next.status()).isEqualTo(200);
        assertThat(next.header("X-Echo-Target")).contains("/fresh");
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        // RFC 9112 9.6: a client that receives "close" MUST NOT send further requests on that connection
        assertThat(seen.get(1).connectionId()).as("upstream connection of the request after a Connection: close answer")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    @Test
    void anUpstreamsConnectionCloseEndsTheUpstreamConnectionNotTheClients() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/closing") ? closingAnswer() : Reply.echo());
        try (RawHttp c = gw.raw()) {
            c.send(get(gw, "/closing") + get(gw, "/pipelined"));
            String relayedHead = readRawHead(c.inputStream());
            assertThat(relayedHead).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("connection: close");
            assertThat(new String(c.inputStream().readNBytes(2), StandardCharsets.ISO_8859_1)).isEqualTo("ok");
            // README "Proxying": Connection is hop-by-hop; as nginx and HAProxy do, the client connection stays
            // open and the pipelined request is decided and forwarded like any other
            RawResponse second = c.readResponse();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.header("X-Echo-Target")).contains("/pipelined");
        }
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("the upstream connection that said close is not reused")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    // ------------------------------------------------------------------ invalid upstream framing

    @ParameterizedTest
    @ValueSource(strings = {
        "Content-Length: 2\r\nContent-Length: 7",
        "Content-Length: 2, 7",
        "Content-Length: +2",
        "Content-Length: 0x2"
    })
    void anUpstreamAnswerWithAnInvalidContentLengthIsA502AndItsConnectionIsDiscarded(String framing)
            throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        harness.upstream().handler(req -> req.path().equals("/badcl")
                ? raw("HTTP/1.1 200 OK\r\n" + framing + "\r\nX-Up: 1\r\n\r\nokHTTP/1.1 200 OK\r\nX-Poison: 1\r\n"
                        + "Content-Length: 0\r\n\r\n", true)
                : Reply.echo());
        try (RawHttp c = gw.raw()) {
            RawResponse r = c.send(get(gw, "/badcl")).readResponse();
            // RFC 9112 6.3 (5): a response received by a proxy with an invalid Content-Length: "the proxy MUST
            // close the connection to the server, discard the received response, and send a 502"
            assertThat(r.status()).as("answer to an upstream response with %s:\n%s", framing, r).isEqualTo(502);
        }
        RawResponse next = RawHttp.exchange(gw.port(), get(gw, "/after"));
        assertThat(next.header("X-Poison")).isEmpty();
        assertThat(next.status()).isEqualTo(200);
        assertThat(next.header("X-Echo-Target")).contains("/after");
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("the connection with invalid framing was discarded")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    @Test
    void anHttp10UpstreamAnswerWithoutKeepAliveEndsThatUpstreamConnection() throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        // HTTP/1.0 without "Connection: keep-alive" is not persistent (RFC 9112 9.3); the socket is left open
        harness.upstream().handler(req -> req.path().equals("/old")
                ? raw("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true)
                : Reply.echo());
        try (RawHttp c = gw.raw()) {
            RawResponse r = c.send(get(gw, "/old")).readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok");
            assertNextRequestIsProxied(gw, c);
        }
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("request after a non-persistent HTTP/1.0 answer")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    // ------------------------------------------------------------------ obs-fold from the upstream

    @Test
    void anObsFoldedUpstreamHeaderIsNeverRelayedFolded() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/fold")
                ? raw("HTTP/1.1 200 OK\r\nX-Folded: first\r\n second\r\nContent-Length: 2\r\n\r\nok", true)
                : Reply.echo());
        try (RawHttp c = gw.raw()) {
            c.send(get(gw, "/fold"));
            String head = readRawHead(c.inputStream());
            // RFC 9112 5.2: a proxy MUST either answer 502 or replace each obs-fold with SP before forwarding
            assertThat(head).as("relayed head:\n%s", head).doesNotContain("\r\n ").doesNotContain("\r\n\t");
            if (head.startsWith("HTTP/1.1 200")) {
                assertThat(head.toLowerCase()).contains("x-folded: first");
                assertThat(new String(c.inputStream().readNBytes(2), StandardCharsets.ISO_8859_1)).isEqualTo("ok");
            } else {
                assertThat(head).startsWith("HTTP/1.1 502");
            }
        }
    }

    // ------------------------------------------------------------------ chunked answers: trailers, stray bytes

    @Test
    void aChunkedAnswerWithTrailersEndsAtItsFramingAndItsConnectionIsReused() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/trailers")
                ? raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                        + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n", true)
                : Reply.echo());
        try (RawHttp c = gw.raw()) {
            RawResponse r = c.send("GET /trailers HTTP/1.1\r\nHost: " + gw.authority() + "\r\nTE: trailers\r\n\r\n")
                    .readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello world");
            assertThat(r.hasHeader("Trailer")).as("Trailer is hop-by-hop (SPEC 3.7)").isFalse();
            assertThat(c.await(Duration.ofMillis(300))).isEqualTo(RawHttp.State.OPEN);
            assertNextRequestIsProxied(gw, c);
        }
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("a chunked answer with trailers ended exactly at its framing")
                .isEqualTo(seen.get(0).connectionId());
    }

    @Test
    void aSecondResponseAfterALastChunkPoisonsNoOtherClient() throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        String stray = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Poison: 1\r\n\r\nstolen";
        harness.upstream().handler(req -> req.path().equals("/chunked-extra")
                ? (r, out) -> {
                    sleep(400);
                    out.write(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                            + stray));
                    out.flush();
                    return true;
                }
                : Reply.echo());
        // first and third client connections share an event loop (see RequestBypassIT): the victim waits for
        // the single pooled connection and would be handed it straight after the dirty answer
        try (RawHttp first = gw.raw(); RawHttp idle = gw.raw(); RawHttp victim = gw.raw()) {
            first.send(get(gw, "/chunked-extra"));
            harness.upstream().awaitHeads(1, Duration.ofSeconds(5));
            victim.send(get(gw, "/victim"));
            RawResponse a = first.readResponse();
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.bodyText()).isEqualTo("ok");
            assertThat(first.await(Duration.ofMillis(300))).as("stray bytes reached the first client")
                    .isNotEqualTo(RawHttp.State.DATA);
            RawResponse v = victim.readResponse();
            assertThat(v.header("X-Poison")).as("the victim got the stray response").isEmpty();
            assertThat(v.status()).isEqualTo(200);
            assertThat(v.header("X-Echo-Target")).contains("/victim");
        }
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("the dirty connection was not reused")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    // ------------------------------------------------------------------ an upstream answering before the body ends

    /** A raw upstream: records every request line on every connection; /early answers at once after the head. */
    private static final class EarlyAnswerUpstream implements AutoCloseable {
        final ServerSocket server;
        final List<String> requestLines = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "spec-proxy-early-upstream");
            t.setDaemon(true);
            return t;
        });

        EarlyAnswerUpstream(boolean closeAfterEarlyAnswer) throws IOException {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
            pool.execute(() -> {
                while (!server.isClosed()) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    pool.execute(() -> serve(s, closeAfterEarlyAnswer));
                }
            });
        }

        private void serve(Socket s, boolean closeAfterEarlyAnswer) {
            try (s) {
                s.setSoTimeout(10_000);
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (true) {
                    String head = readRawHead(in);
                    if (head.isEmpty()) {
                        return;
                    }
                    String line = head.substring(0, Math.max(0, head.indexOf("\r\n")));
                    requestLines.add(line);
                    long len = 0;
                    for (String h : head.split("\r\n")) {
                        if (h.toLowerCase().startsWith("content-length:")) {
                            len = Long.parseLong(h.substring(15).trim());
                        }
                    }
                    if (line.contains(" /early ")) {
                        out.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly"));
                        out.flush();
                        if (closeAfterEarlyAnswer) {
                            return;
                        }
                    }
                    long left = len;
                    while (left > 0) {
                        long k = in.skip(left);
                        if (k <= 0) {
                            if (in.read() < 0) {
                                return;
                            }
                            k = 1;
                        }
                        left -= k;
                    }
                    if (!line.contains(" /early ")) {
                        out.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Seen: " + line.split(" ")[1]
                                + "\r\n\r\nok"));
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // the gateway went away
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            pool.shutdownNow();
        }
    }

    @ParameterizedTest(name = "upstream closes after its early answer: {0}")
    @ValueSource(booleans = {false, true})
    void theRestOfABodyAfterAnEarlyUpstreamAnswerIsNeverReadAsARequest(boolean upstreamCloses) throws Exception {
        try (EarlyAnswerUpstream up = new EarlyAnswerUpstream(upstreamCloses)) {
            Gateway gw = harness.start("proxy.yaml", Map.of("UPSTREAM_PORT", Integer.toString(up.port())));
            String smuggled = "GET /smuggled HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
            String prefix = "x".repeat(100);
            String body = prefix + smuggled;
            List<String> clientSaw = new ArrayList<>();
            try (RawHttp c = gw.raw()) {
                c.send("POST /early HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + prefix);
                RawResponse early = c.readResponse();
                clientSaw.add(early.statusLine() + " " + early.bodyText());
                try {
                    c.send(smuggled); // the rest of the declared body, which looks like a request
                } catch (IOException closed) {
                    // the gateway closed the connection: nothing more can be read as a request
                }
                while (c.await(Duration.ofSeconds(2)) == RawHttp.State.DATA) {
                    RawResponse more = c.readResponse();
                    clientSaw.add(more.statusLine() + " X-Seen=" + more.header("X-Seen").orElse("-"));
                }
            }
            // barrier: a later request through the same gateway to the same upstream; once the upstream has
            // answered it, anything the gateway forwarded from the first connection has been read there too
            RawResponse marker = RawHttp.exchange(gw.port(), get(gw, "/marker"));
            assertThat(marker.header("X-Seen")).as("the marker request, answered by the upstream: %s", marker)
                    .contains("/marker");
            String detail = "client saw " + clientSaw + "; upstream request lines " + up.requestLines;
            assertThat(clientSaw.get(0)).as(detail).contains("early");
            // SPEC 3.7 / RFC 9112 6.3: the declared Content-Length bytes are body, never a request
            assertThat(up.requestLines).as(detail).noneMatch(l -> l.contains("/smuggled"));
            assertThat(clientSaw).as(detail).hasSize(1);
        }
    }

    // ------------------------------------------------------------------ backpressure, upload

    /** A one-shot raw upstream that reads the head, waits for {@code release}, then drains and hashes the body. */
    private static final class StallingUpstream implements AutoCloseable {
        final ServerSocket server;
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch headSeen = new CountDownLatch(1);
        final AtomicLong received = new AtomicLong();
        final AtomicReference<String> sha = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread;

        StallingUpstream(LongSupplier clientWritten, AtomicLong clientWrittenAtHead) throws IOException {
            server = new ServerSocket();
            server.setReceiveBufferSize(64 * KIB);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
            thread = new Thread(() -> {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(30_000);
                    InputStream in = new BufferedInputStream(s.getInputStream(), 8 * KIB);
                    String head = readRawHead(in);
                    clientWrittenAtHead.set(clientWritten.getAsLong());
                    headSeen.countDown();
                    long len = -1;
                    for (String line : head.split("\r\n")) {
                        if (line.toLowerCase().startsWith("content-length:")) {
                            len = Long.parseLong(line.substring(15).trim());
                        }
                    }
                    release.await(30, TimeUnit.SECONDS);
                    MessageDigest md = PatternBytes.sha256Digest();
                    byte[] buf = new byte[64 * KIB];
                    if (len >= 0) {
                        long left = len;
                        while (left > 0) {
                            int k = in.read(buf, 0, (int) Math.min(buf.length, left));
                            if (k < 0) {
                                throw new IOException("EOF with " + left + " body bytes missing");
                            }
                            md.update(buf, 0, k);
                            received.addAndGet(k);
                            left -= k;
                        }
                    } else {
                        throw new IOException("expected a Content-Length upstream, head was:\n" + head);
                    }
                    sha.set(HexFormat.of().formatHex(md.digest()));
                    OutputStream out = s.getOutputStream();
                    out.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone"));
                    out.flush();
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "spec-proxy-stalling-upstream");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            release.countDown();
            server.close();
            thread.join(5_000);
        }
    }

    @Test
    void aLargeUploadStreamsToAStalledUpstreamWithBackpressureAndArrivesIntact() throws Exception {
        long size = 56L * MIB; // under proxy.yaml's 64MiB max_body_size, far above every socket buffer together
        AtomicLong written = new AtomicLong();
        AtomicLong writtenAtHead = new AtomicLong(-1);
        try (StallingUpstream up = new StallingUpstream(written::get, writtenAtHead)) {
            Gateway gw = harness.start("proxy.yaml", Map.of("UPSTREAM_PORT", Integer.toString(up.port())));
            Socket s = new Socket();
            s.setSendBufferSize(64 * KIB);
            s.setSoTimeout(30_000);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), gw.port()), 5_000);
            AtomicReference<Throwable> writeFailure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(ascii("PUT /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: " + size
                            + "\r\nContent-Type: application/octet-stream\r\n\r\n"));
                    byte[] buf = new byte[64 * KIB];
                    long pos = 0;
                    while (pos < size) {
                        int k = (int) Math.min(buf.length, size - pos);
                        PatternBytes.fill(buf, 0, k, pos);
                        out.write(buf, 0, k);
                        pos += k;
                        written.set(pos);
                    }
                    out.flush();
                } catch (Throwable t) {
                    writeFailure.set(t);
                }
            }, "spec-proxy-upload-writer");
            writer.setDaemon(true);
            try (s) {
                writer.start();
                assertThat(up.headSeen.await(10, TimeUnit.SECONDS)).as("the upstream got the request head").isTrue();
                long stalledAt = awaitStall(written::get, Duration.ofMillis(700), Duration.ofSeconds(8));
                System.out.println("SpecProxyCheckIT upload: client had written " + writtenAtHead.get()
                        + " bytes when the head reached the upstream; stalled at " + stalledAt + " of " + size);
                assertThat(writtenAtHead.get()).as("body bytes written by the client when the upstream got the head")
                        .isLessThan(size);
                assertThat(stalledAt).as("the client is held back while the upstream reads nothing "
                        + "(a gateway buffering the body whole takes it all)").isLessThan(size);
                up.release.countDown();
                writer.join(30_000);
                assertThat(writeFailure.get()).isNull();
                assertThat(written.get()).isEqualTo(size);
                InputStream in = new BufferedInputStream(s.getInputStream());
                String head = readRawHead(in);
                assertThat(head).startsWith("HTTP/1.1 200");
                assertThat(new String(in.readNBytes(4), StandardCharsets.ISO_8859_1)).isEqualTo("done");
            }
            up.thread.join(10_000);
            assertThat(up.failure.get()).isNull();
            assertThat(up.received.get()).isEqualTo(size);
            assertThat(up.sha.get()).as("the body as the upstream received it").isEqualTo(PatternBytes.sha256(size));
        }
    }

    // ------------------------------------------------------------------ backpressure, download

    @Test
    void aLargeDownloadToAStalledClientHoldsTheUpstreamBackAndArrivesIntact() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        long size = 96L * MIB;
        AtomicLong upWritten = new AtomicLong();
        harness.upstream().handler(req -> !req.path().equals("/big") ? Reply.echo() : (r, out) -> {
            out.write(ascii("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + size
                    + "\r\n\r\n"));
            byte[] buf = new byte[64 * KIB];
            long pos = 0;
            while (pos < size) {
                int k = (int) Math.min(buf.length, size - pos);
                PatternBytes.fill(buf, 0, k, pos);
                out.write(buf, 0, k);
                pos += k;
                upWritten.set(pos);
            }
            out.flush();
            return true;
        });
        try (RawHttp c = RawHttp.connect(gw.port(), 64 * KIB)) {
            c.readTimeout(Duration.ofSeconds(30));
            c.send(get(gw, "/big"));
            RawResponse head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).contains(Long.toString(size));
            MessageDigest md = PatternBytes.sha256Digest();
            InputStream in = c.inputStream();
            byte[] first = in.readNBytes(MIB);
            md.update(first);
            long stalledAt = awaitStall(upWritten::get, Duration.ofMillis(700), Duration.ofSeconds(8));
            System.out.println("SpecProxyCheckIT download: upstream stalled at " + stalledAt + " of " + size
                    + " while the client had read " + MIB);
            assertThat(stalledAt).as("the upstream is held back while the client reads nothing "
                    + "(a gateway buffering the response whole takes it all)").isLessThan(size);
            long total = first.length;
            byte[] buf = new byte[256 * KIB];
            while (total < size) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, size - total));
                if (k < 0) {
                    break;
                }
                md.update(buf, 0, k);
                total += k;
            }
            assertThat(total).isEqualTo(size);
            assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(PatternBytes.sha256(size));
            RawResponse next = c.send(get(gw, "/after")).readResponse();
            assertThat(next.status()).as("the connection is usable after the large download").isEqualTo(200);
        }
    }
}
