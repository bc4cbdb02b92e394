package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC 3.7: requests and bodies are proxied intact, streamed, over keep-alive connections on both sides. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProxyingIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final int KIB = 1024;
    private static final int MIB = 1024 * 1024;

    static Stream<Arguments> methodsAndBodySizes() {
        return Stream.of("POST", "PUT", "DELETE")
                .flatMap(m -> Stream.of(0, KIB, 10 * MIB).map(size -> Arguments.of(m, size)));
    }

    @ParameterizedTest(name = "{0} with a {1}-byte body")
    @MethodSource("methodsAndBodySizes")
    void proxiesRequestBodyToUpstreamAndEchoBackIntact(String method, int size) throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        byte[] body = PatternBytes.bytes(size);
        String sha = PatternBytes.sha256(body);

        HttpResponse<byte[]> r = harness.send(gw, method, "/echo/" + method.toLowerCase(),
                HttpRequest.BodyPublishers.ofByteArray(body));

        assertThat(r.statusCode()).isEqualTo(200);
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.method()).isEqualTo(method);
        assertThat(up.target()).isEqualTo("/echo/" + method.toLowerCase());
        assertThat(up.bodyLength()).as("request body length at the upstream").isEqualTo(size);
        assertThat(up.bodySha256()).as("request body SHA-256 at the upstream").isEqualTo(sha);
        assertThat(r.body().length).as("response body length at the client").isEqualTo(size);
        assertThat(PatternBytes.sha256(r.body())).as("response body SHA-256 at the client").isEqualTo(sha);
    }

    @ParameterizedTest(name = "GET with a {0}-byte response")
    @ValueSource(ints = {0, KIB, 10 * MIB})
    void proxiesGetResponsesIntact(int size) throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        HttpResponse<byte[]> r = harness.get(gw, "/_up/bytes/" + size);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().length).isEqualTo(size);
        assertThat(PatternBytes.sha256(r.body())).isEqualTo(PatternBytes.sha256(size));
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.method()).isEqualTo("GET");
        assertThat(up.bodyLength()).isZero();
    }

    @Test
    void proxiesChunkedUpstreamResponsesIntact() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        int size = 3 * MIB + 17;

        HttpResponse<byte[]> r = harness.get(gw, "/_up/chunked/" + size);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().length).isEqualTo(size);
        assertThat(PatternBytes.sha256(r.body())).isEqualTo(PatternBytes.sha256(size));
    }

    @Test
    void streamsA50MiBResponse() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        long size = 50L * MIB;
        HttpRequest req = HttpRequest.newBuilder(gw.uri("/_up/bytes/" + size)).timeout(Duration.ofSeconds(40)).build();

        HttpResponse<InputStream> r = harness.client().send(req, HttpResponse.BodyHandlers.ofInputStream());

        assertThat(r.statusCode()).isEqualTo(200);
        MessageDigest md = PatternBytes.sha256Digest();
        long total = 0;
        try (InputStream in = r.body()) {
            byte[] buf = new byte[64 * KIB];
            int k;
            while ((k = in.read(buf)) >= 0) {
                md.update(buf, 0, k);
                total += k;
            }
        }
        assertThat(total).isEqualTo(size);
        assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(PatternBytes.sha256(size));
    }

    @Test
    void reusesOneConnectionOnEachSideForTwoRequests() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse first = raw.send("GET /first HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            RawResponse second = raw.send("GET /second HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse();

            assertThat(first.status()).isEqualTo(200);
            assertThat(second.status()).as("second request on the same client connection").isEqualTo(200);
        }
        List<RecordedRequest> ups = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(ups).extracting(RecordedRequest::target).containsExactly("/first", "/second");
        assertThat(ups.get(1).connectionId())
                .as("both requests travel on one pooled upstream connection")
                .isEqualTo(ups.get(0).connectionId());
        assertThat(harness.upstream().connectionsAccepted()).isEqualTo(1);
    }

    @Test
    void reusesPooledUpstreamConnectionsAcrossClientConnections() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        int clientConnections = 8;
        for (int i = 0; i < clientConnections; i++) {
            try (RawHttp raw = gw.raw()) {
                assertThat(raw.send("GET /seq/" + i + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse().status()).isEqualTo(200);
            }
        }
        harness.upstream().awaitRequests(clientConnections, Duration.ofSeconds(5));
        System.out.println("ProxyingIT: " + clientConnections + " sequential client connections used "
                + harness.upstream().connectionsAccepted() + " upstream connection(s)");
        // pools may be per event loop, so not necessarily one connection, but idle ones are reused
        assertThat(harness.upstream().connectionsAccepted())
                .as("upstream connections for %d sequential client connections", clientConnections)
                .isLessThan(clientConnections);
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String host = "Host: " + gw.authority() + "\r\n";
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /p1 HTTP/1.1\r\n" + host + "\r\n"
                    + "POST /p2 HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc"
                    + "GET /p3 HTTP/1.1\r\n" + host + "\r\n");
            RawResponse r1 = raw.readResponse();
            RawResponse r2 = raw.readResponse();
            RawResponse r3 = raw.readResponse();
            assertThat(List.of(r1, r2, r3)).extracting(RawResponse::status).containsExactly(200, 200, 200);
            assertThat(List.of(r1, r2, r3)).extracting(r -> r.header("X-Echo-Target").orElse("?"))
                    .containsExactly("/p1", "/p2", "/p3");
            assertThat(r2.bodyText()).isEqualTo("abc");
        }
    }

    @Test
    void answersPipelinedBodilessRequestsInOrderAndAHeadAmongThemWithoutABody() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String host = "Host: " + gw.authority() + "\r\n";
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /_up/bytes/3 HTTP/1.1\r\n" + host + "\r\n"
                    + "HEAD /_up/bytes/5 HTTP/1.1\r\n" + host + "\r\n"
                    + "DELETE /_up/bytes/7 HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n");
            RawResponse get = raw.readResponse();
            RawResponse head = raw.readResponse(true);
            RawResponse delete = raw.readResponse();
            assertThat(List.of(get, head, delete)).extracting(RawResponse::status).containsExactly(200, 200, 200);
            assertThat(get.body()).isEqualTo(PatternBytes.bytes(3));
            assertThat(head.header("Content-Length")).contains("5");
            assertThat(delete.body()).as("the HEAD answer carried no body into it").isEqualTo(PatternBytes.bytes(7));
        }
        assertThat(harness.upstream().awaitRequests(3, Duration.ofSeconds(5)))
                .extracting(RecordedRequest::method).containsExactly("GET", "HEAD", "DELETE");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 204 No Content\r\nX-Up: 1\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nX-Up: 1\r\nContent-Length: 12\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Up: 1\r\nContent-Length: 0\r\n\r\n"
    })
    void relaysABodilessUpstreamAnswerAndKeepsBothConnections(String answer) throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/empty")
                ? (r, out) -> {
                    out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                    return true;
                }
                : UpstreamServer.Reply.generated(10));
        try (RawHttp raw = gw.raw()) {
            RawResponse empty = raw.send("GET /empty HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            assertThat(empty.status()).isEqualTo(Integer.parseInt(answer.substring(9, 12)));
            assertThat(empty.header("X-Up")).contains("1");
            assertThat(empty.body()).isEmpty();

            RawResponse next = raw.send("GET /ten HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.body()).isEqualTo(PatternBytes.bytes(10));
        }
        assertThat(harness.upstream().connectionsAccepted()).as("the upstream connection was reused").isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD"})
    void retriesABodilessRequestOnceWhenItsReusedUpstreamConnectionWasClosedWhileIdle(String method) throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        Set<Integer> answered = ConcurrentHashMap.newKeySet();
        // each upstream connection answers its first request, then closes on the next as if it had idled out
        harness.upstream().handler(req -> answered.add(req.connectionId())
                ? UpstreamServer.Reply.echo() : UpstreamServer.Reply.closeWithoutAnswer());
        try (RawHttp raw = gw.raw()) {
            RawResponse first = raw.send(method + " /first HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse(method.equals("HEAD"));
            RawResponse second = raw.send(method + " /second HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse(method.equals("HEAD"));

            assertThat(first.status()).isEqualTo(200);
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.header("X-Echo-Target")).contains("/second");
            assertThat(second.header("X-Echo-Method")).contains(method);
        }
        assertThat(harness.upstream().connectionsAccepted()).as("the retry went to a new connection").isEqualTo(2);
        assertThat(harness.upstream().awaitRequests(3, Duration.ofSeconds(5))).extracting(RecordedRequest::target)
                .containsExactly("/first", "/second", "/second");
    }

    @Test
    void proxiesConcurrentRequestsWithoutMixingBodies() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        List<CompletableFuture<HttpResponse<byte[]>>> inFlight = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            byte[] body = new byte[256 * KIB + i];
            PatternBytes.fill(body, 0, body.length, i * 7919L);
            bodies.add(body);
            HttpRequest req = HttpRequest.newBuilder(gw.uri("/concurrent/" + i))
                    .timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            inFlight.add(harness.client().sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (int i = 0; i < inFlight.size(); i++) {
            HttpResponse<byte[]> r = inFlight.get(i).get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Echo-Target")).contains("/concurrent/" + i);
            assertThat(PatternBytes.sha256(r.body())).as("body of request %d", i)
                    .isEqualTo(PatternBytes.sha256(bodies.get(i)));
        }
    }

    @Test
    void keepsServingAfterAClientDisconnectsMidResponse() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = RawHttp.connect(gw.port(), 32 * KIB)) {
            raw.send("GET /_up/bytes/" + (50 * MIB) + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(raw.readHead().status()).isEqualTo(200);
            raw.inputStream().readNBytes(256 * KIB);
        } // closed with ~50 MiB still to come
        HttpResponse<byte[]> next = harness.get(gw, "/_up/bytes/1000");
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(next.body()).isEqualTo(PatternBytes.bytes(1000));
    }

    @Test
    void closesTheClientConnectionWhenTheUpstreamCutsTheBodyShort() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        harness.upstream().handler(req -> req.path().equals("/truncated")
                ? UpstreamServer.Reply.truncated(MIB, 100 * KIB)
                : UpstreamServer.Reply.echo());
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /truncated HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            // the head is already out, so the only honest signal left is closing before Content-Length bytes
            long got = 0;
            byte[] buf = new byte[64 * KIB];
            try {
                int k;
                while ((k = raw.inputStream().read(buf)) >= 0) {
                    got += k;
                }
            } catch (java.net.SocketException reset) {
                // reset is as good as a close
            }
            assertThat(got).as("bytes before the gateway closed the client connection").isLessThan(MIB);
        }
        HttpResponse<byte[]> next = harness.get(gw, "/after");
        assertThat(next.statusCode()).isEqualTo(200);
    }

    @Test
    void closesTheClientConnectionWhenTheClientAsksFor() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /bye HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: close\r\n\r\n")
                    .readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).isTrue();
        }
    }

    @Test
    void closesAnHttp10ConnectionAfterTheResponse() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /old HTTP/1.0\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).isTrue();
        }
    }

    @Test
    void forwardsAnHttp10RequestWithoutHostAsValidHttp11() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /old-no-host HTTP/1.0\r\nAccept: */*\r\n\r\n").readResponse();
            assertThat(r.status()).isEqualTo(200);
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        if (up.version().equals("HTTP/1.1")) {
            // RFC 9112 3.2: an HTTP/1.1 request without Host is invalid; strict upstreams answer 400
            assertThat(up.headerValues("Host")).as("Host on the forwarded HTTP/1.1 request %s", up).hasSize(1);
        }
    }

    @Test
    void acceptsAnExplicitlyEmptyBodyOnGetHeadAndOptions() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        for (String method : List.of("GET", "HEAD", "OPTIONS")) {
            RawResponse r = RawHttp.exchange(gw.port(), method + " /empty HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Length: 0\r\n\r\n");
            assertThat(r.status()).as("%s with Content-Length: 0 has no body", method).isEqualTo(200);
        }
    }

    @Test
    void acceptsTransferCodingNamesCaseInsensitively() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        RawResponse r = RawHttp.exchange(gw.port(), "POST /chunked-case HTTP/1.1\r\nHost: " + gw.authority()
                + "\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("abc");
    }

    @Test
    void proxiesChunkedRequestBodyAndKeepsFramingForTheNextRequest() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        int[] chunkSizes = {1, 100, 8192, 65536, 3, 200_000};
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        wire.writeBytes(("POST /chunked HTTP/1.1\r\nHost: " + gw.authority()
                + "\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        long pos = 0;
        for (int size : chunkSizes) {
            byte[] chunk = new byte[size];
            PatternBytes.fill(chunk, 0, size, pos);
            pos += size;
            wire.writeBytes((Integer.toHexString(size) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            wire.writeBytes(chunk);
            wire.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            body.writeBytes(chunk);
        }
        wire.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        String sha = PatternBytes.sha256(body.toByteArray());

        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(wire.toByteArray()).readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(PatternBytes.sha256(r.body())).as("echoed body").isEqualTo(sha);

            RawResponse next = raw.send("GET /after-chunked HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse();
            assertThat(next.status()).isEqualTo(200);
        }
        List<RecordedRequest> ups = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(ups.get(0).target()).isEqualTo("/chunked");
        assertThat(ups.get(0).bodyLength()).isEqualTo(body.size());
        assertThat(ups.get(0).bodySha256()).isEqualTo(sha);
        assertThat(ups.get(1).target()).isEqualTo("/after-chunked");
        assertThat(ups.get(1).bodyLength()).isZero();
    }

    @Test
    void proxiesChunkedRequestBodySentInSlowPieces() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            raw.send("PUT /slow-chunks HTTP/1.1\r\nHost: " + gw.authority() + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            raw.send("5\r\nhel");
            Thread.sleep(100);
            raw.send("lo\r\n");
            Thread.sleep(100);
            raw.send("6\r\n world\r\n");
            Thread.sleep(100);
            raw.send("0\r\n\r\n");
            RawResponse r = raw.readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello world");
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(new String(up.body(), StandardCharsets.ISO_8859_1)).isEqualTo("hello world");
    }

    @Test
    void passesQueryStringThroughUnchanged() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        String query = "?q=a%2Fb&semi=1;2&enc=%41%2e&plus=a+b&empty=&dup=1&dup=2&slash=/x/../y&pct=%25&q2=%2F%5C%3B";

        RawResponse r = RawHttp.exchange(gw.port(), "GET /search" + query + " HTTP/1.1\r\nHost: " + gw.authority()
                + "\r\n\r\n");

        assertThat(r.status()).isEqualTo(200);
        assertThat(harness.upstream().awaitSingleRequest().target()).isEqualTo("/search" + query);
    }

    @Test
    void proxiesHeadWithoutBodyAndKeepsTheConnectionUsable() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            RawResponse head = raw.send("HEAD /_up/bytes/1000 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).contains("1000");

            RawResponse next = raw.send("GET /_up/bytes/10 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.body()).isEqualTo(PatternBytes.bytes(10));
        }
    }

    @Test
    void expectContinueOnAnAllowedRequestDeliversTheBody() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /expect HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
            raw.readTimeout(Duration.ofSeconds(2));
            RawResponse interim = null;
            try {
                interim = raw.readResponse();
            } catch (java.net.SocketTimeoutException noInterim) {
                // a client may send the body after waiting; RFC 9110 10.1.1
            }
            raw.readTimeout(RawHttp.READ_TIMEOUT);
            if (interim != null) {
                assertThat(interim.status()).as("interim answer to Expect on an allowed request").isEqualTo(100);
                // SPEC 3.6: every response carries X-Request-Id, the gateway's own 100 Continue too
                assertThat(interim.header("X-Request-Id")).as("the 100's request id").isPresent();
            }
            raw.send("hello world");
            RawResponse r = raw.readResponse();
            assertThat(r.status()).isEqualTo(200);
            if (interim != null) {
                assertThat(r.header("X-Request-Id")).as("the same id as the 100's")
                        .isEqualTo(interim.header("X-Request-Id"));
            }
            assertThat(r.bodyText()).isEqualTo("hello world");
        }
        assertThat(harness.upstream().awaitSingleRequest().bodyLength()).isEqualTo(11);
    }

    @Test
    void proxiesGetBodyWhenAllowGetBodyIsTrue() throws Exception {
        Gateway gw = harness.start("get-body.yaml");

        RawResponse r = RawHttp.exchange(gw.port(), "GET /search HTTP/1.1\r\nHost: " + gw.authority()
                + "\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"q\":\"hello\"}");

        assertThat(r.status()).isEqualTo(200);
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.method()).isEqualTo("GET");
        assertThat(new String(up.body(), StandardCharsets.UTF_8)).isEqualTo("{\"q\":\"hello\"}");
    }
}
