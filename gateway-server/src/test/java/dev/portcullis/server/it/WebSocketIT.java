package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Header;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import dev.portcullis.server.it.support.WebSocketEchoServer;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WebSocket through the gateway (SPEC 3.7): a real client ({@code java.net.http.WebSocket}) and a real
 * WebSocket upstream (Netty's server protocol handler). An allowed handshake becomes a tunnel that
 * carries frames both ways until either side closes; a denied one gets 401/403 and never reaches the
 * upstream; other upgrades are stripped.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WebSocketIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static WebSocketEchoServer echo;

    @BeforeAll
    static void startEcho() throws Exception {
        echo = WebSocketEchoServer.start();
    }

    @AfterAll
    static void stopEcho() {
        echo.close();
    }

    /**
     * A gateway whose tunnels end only after 30 s of silence: a test that is not about idleness must not lose its
     * tunnel to a pause of its own thread (or of a loaded machine) between two messages.
     */
    private static Gateway gateway(int maxConnections) throws Exception {
        return gateway(maxConnections, "30s");
    }

    /** A gateway whose tunnels end after 1.5 s of silence, for the tests of idleness. */
    private static Gateway shortIdleGateway() throws Exception {
        return gateway(8, "1500ms");
    }

    /** A gateway in front of the harness's scriptable HTTP upstream rather than the echo server. */
    private static Gateway gatewayToHarnessUpstream() throws Exception {
        return harness.start("websocket.yaml", Map.of("MAX_CONNECTIONS", "8", "IDLE_TIMEOUT", "30s"));
    }

    private static Gateway gateway(int maxConnections, String idleTimeout) throws Exception {
        return harness.start("websocket.yaml", Map.of(
                "UPSTREAM_PORT", Integer.toString(echo.port()),
                "MAX_CONNECTIONS", Integer.toString(maxConnections),
                "IDLE_TIMEOUT", idleTimeout));
    }

    @Test
    void echoesTextBinaryAndALargeMessageThenClosesBothSidesOnClientClose() throws Exception {
        Gateway gw = gateway(8);
        int sessionsBefore = echo.sessions().size();
        int handshakesBefore = echo.handshakes().size();
        Collector in = new Collector();
        WebSocket ws = connect(gw, "/ws", in);

        assertThat(in.next()).isEqualTo("welcome");
        ws.sendText("hello through the gateway", true).get(10, TimeUnit.SECONDS);
        assertThat(in.next()).isEqualTo("hello through the gateway");
        ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3, 0, (byte) 0xff}), true).get(10, TimeUnit.SECONDS);
        assertThat((byte[]) in.next()).containsExactly(1, 2, 3, 0, (byte) 0xff);

        byte[] large = PatternBytes.bytes(1024 * 1024);
        ws.sendBinary(ByteBuffer.wrap(large), true).get(20, TimeUnit.SECONDS);
        byte[] back = (byte[]) in.next();
        assertThat(back).hasSize(large.length);
        assertThat(PatternBytes.sha256(back)).isEqualTo(PatternBytes.sha256(large));

        Map<String, String> handshake = echo.handshakes().get(handshakesBefore);
        assertThat(handshake).containsEntry("upgrade", "websocket").containsEntry("connection", "Upgrade");
        assertThat(handshake).containsKeys("sec-websocket-key", "sec-websocket-version", "x-request-id",
                "x-forwarded-for");

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        assertThat(in.closed.get(10, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        assertThat(echo.awaitSessionClosed(sessionsBefore, 10_000)).as("upstream connection closed").isTrue();
    }

    @Test
    void upstreamCloseClosesTheClient() throws Exception {
        Gateway gw = gateway(8);
        Collector in = new Collector();
        WebSocket ws = connect(gw, "/ws", in);
        assertThat(in.next()).isEqualTo("welcome");

        ws.sendText("close-me", true).get(10, TimeUnit.SECONDS);

        assertThat(in.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1001);
    }

    @Test
    void clientDisconnectClosesTheUpstream() throws Exception {
        Gateway gw = gateway(8);
        int sessionsBefore = echo.sessions().size();
        Collector in = new Collector();
        WebSocket ws = connect(gw, "/ws", in);
        assertThat(in.next()).isEqualTo("welcome");

        ws.abort();

        assertThat(echo.awaitSessionClosed(sessionsBefore, 10_000)).as("upstream connection closed").isTrue();
    }

    @Test
    void deniedHandshakeGets403AndNeverReachesTheUpstream() throws Exception {
        Gateway gw = gateway(8);
        int handshakesBefore = echo.handshakes().size();

        assertThat(handshakeStatus(gw, "/denied/ws")).isEqualTo(403);

        Thread.sleep(200);
        assertThat(echo.handshakes()).hasSize(handshakesBefore);
    }

    @Test
    void anonymousHandshakeToAnIdentityRuleGets401() throws Exception {
        Gateway gw = gateway(8);
        int handshakesBefore = echo.handshakes().size();

        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(handshake(gw, "/private/ws")).readResponse();
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.header("WWW-Authenticate")).contains("Bearer realm=\"portcullis\"");
            assertThat(r.hasHeader("Upgrade")).isFalse();
        }
        assertThat(handshakeStatus(gw, "/private/ws")).isEqualTo(401);
        Thread.sleep(200);
        assertThat(echo.handshakes()).hasSize(handshakesBefore);
    }

    @Test
    void h2cUpgradeIsStrippedAndAnsweredAsAnOrdinaryRequest() throws Exception {
        Gateway gw = gatewayToHarnessUpstream();
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /h2c HTTP/1.1\r\nHost: " + gw.authority() + "\r\n"
                    + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
                    .readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.hasHeader("Upgrade")).isFalse();
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.hasHeader("Upgrade")).isFalse();
        assertThat(up.hasHeader("HTTP2-Settings")).isFalse();
        assertThat(up.headerValues("Connection")).allSatisfy(v -> assertThat(v).doesNotContainIgnoringCase("upgrade"));
    }

    @Test
    void webSocketUpgradeOnAPostIsNotTunnelled() throws Exception {
        Gateway gw = gatewayToHarnessUpstream();
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("POST /post-ws HTTP/1.1\r\nHost: " + gw.authority() + "\r\n"
                    + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 2\r\n\r\nhi").readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hi");
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.hasHeader("Upgrade")).isFalse();
    }

    @Test
    void aSwitchingProtocolsAnswerToAnOrdinaryRequestStays502() throws Exception {
        Gateway gw = gatewayToHarnessUpstream();
        harness.upstream().handler(req -> Reply.fixed(101, "Switching Protocols", List.of(
                new Header("Connection", "Upgrade"), new Header("Upgrade", "websocket")), new byte[0]));
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /plain HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.hasHeader("Upgrade")).isFalse();
        }
    }

    @Test
    void aSwitchingProtocolsAnswerWithTheWrongAcceptIs502AndTheUpstreamConnectionIsClosed() throws Exception {
        Gateway gw = gatewayToHarnessUpstream();
        // an upstream that says 101 but goes on speaking HTTP on the connection (WebSocket smuggling)
        harness.upstream().handler(req -> Reply.fixed(101, "Switching Protocols", List.of(
                new Header("Connection", "Upgrade"), new Header("Upgrade", "websocket"),
                new Header("Sec-WebSocket-Accept", "dGhlIHNhbXBsZSBub25jZQ==")), new byte[0]));
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(handshake(gw, "/ws")).readResponse();
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.hasHeader("Upgrade")).isFalse();
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.header("Sec-WebSocket-Key")).contains("dGhlIHNhbXBsZSBub25jZQ==");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (harness.upstream().openConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(harness.upstream().openConnections()).as("the upstream connection is closed, not tunnelled")
                .isZero();
    }

    @Test
    void aWebSocketUpgradeWithoutAKeyIsStrippedAndAnsweredAsAnOrdinaryRequest() throws Exception {
        Gateway gw = gatewayToHarnessUpstream();
        harness.upstream().handler(req -> Reply.fixed(101, "Switching Protocols", List.of(
                new Header("Connection", "Upgrade"), new Header("Upgrade", "websocket")), new byte[0]));
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /no-key HTTP/1.1\r\nHost: " + gw.authority() + "\r\n"
                    + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .readResponse();
            assertThat(r.status()).as("a 101 to a request that asked for no upgrade").isEqualTo(502);
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.hasHeader("Upgrade")).isFalse();
        assertThat(up.headerValues("Connection")).allSatisfy(v -> assertThat(v).doesNotContainIgnoringCase("upgrade"));
    }

    @Test
    void anOpenTunnelHoldsNoConfigGenerationAndDrainClosesItPromptly() throws Exception {
        Gateway gw = gateway(8);
        int sessionsBefore = echo.sessions().size();
        // a raw socket, so that the close is seen on the wire rather than through a client library's state machine
        try (RawHttp raw = RawHttp.connect(gw.port())) {
            raw.send("GET /ws HTTP/1.1\r\nHost: " + gw.authority() + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n");
            assertThat(raw.readHead().status()).isEqualTo(101);
            assertThat(readTextFrame(raw)).isEqualTo("welcome");
            raw.send(maskedTextFrame("still here"));
            assertThat(readTextFrame(raw)).isEqualTo("still here");

            assertThat(gw.server().snapshots().current().users()).as("requests holding the live generation").isZero();

            // well within the tunnel's idle_timeout (30s), which would otherwise end it
            long start = System.nanoTime();
            gw.server().drain(Duration.ofSeconds(30));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("drain with an open tunnel")
                    .isLessThan(Duration.ofMillis(1000));
            assertThat(raw.awaitClosed(Duration.ofSeconds(10))).as("client connection closed").isTrue();
        }
        assertThat(echo.awaitSessionClosed(sessionsBefore, 10_000)).as("upstream connection closed").isTrue();
    }

    /**
     * README "WebSocket": a frame the client sends with its handshake, without waiting for the 101, is tunnelled, not
     * lost: what follows a request asking to switch protocols is decoded only once its answer says it is HTTP.
     * Before, the gateway read such a frame as the next request and dropped it.
     */
    @Test
    void aFrameSentWithTheHandshakeBeforeThe101ReachesTheUpstream() throws Exception {
        Gateway gw = gateway(8);
        try (RawHttp raw = RawHttp.connect(gw.port())) {
            byte[] handshake = handshake(gw, "/ws").getBytes(StandardCharsets.ISO_8859_1);
            byte[] frame = maskedTextFrame("sent early");
            byte[] both = new byte[handshake.length + frame.length];
            System.arraycopy(handshake, 0, both, 0, handshake.length);
            System.arraycopy(frame, 0, both, handshake.length, frame.length);
            raw.send(both);
            assertThat(raw.readHead().status()).isEqualTo(101);
            assertThat(readTextFrame(raw)).isEqualTo("welcome");
            assertThat(readTextFrame(raw)).as("the early frame, echoed").isEqualTo("sent early");
            raw.send(maskedTextFrame("then this"));
            assertThat(readTextFrame(raw)).isEqualTo("then this");
        }
    }

    /**
     * A request pipelined behind a handshake that is not switched (denied by the policy, or answered 200 by the
     * upstream) is decided and answered after it, in order.
     */
    @Test
    void aRequestPipelinedBehindAHandshakeThatIsNotSwitchedIsDecidedAfterIt() throws Exception {
        Gateway gw = gatewayToHarnessUpstream();
        try (RawHttp raw = gw.raw()) {
            raw.send(handshake(gw, "/denied/ws") + "GET /after-denied HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\n\r\n" + handshake(gw, "/ws-answered-200") + "GET /denied/after HTTP/1.1\r\nHost: "
                    + gw.authority() + "\r\n\r\n" + "GET /last HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(raw.readResponse().status()).as("the denied handshake").isEqualTo(403);
            assertThat(raw.readResponse().status()).as("/after-denied").isEqualTo(200);
            RawResponse answered = raw.readResponse();
            assertThat(answered.status()).as("the handshake the upstream answered 200").isEqualTo(200);
            assertThat(answered.hasHeader("Upgrade")).isFalse();
            assertThat(raw.readResponse().status()).as("/denied/after, decided").isEqualTo(403);
            assertThat(raw.readResponse().status()).as("/last").isEqualTo(200);
        }
        assertThat(harness.upstream().awaitRequests(3, Duration.ofSeconds(5))).extracting(RecordedRequest::target)
                .containsExactly("/after-denied", "/ws-answered-200", "/last");
    }

    /** A text frame as a client sends it: masked, here with a zero key, so the payload is sent as is. */
    private static byte[] maskedTextFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(payload, 0, frame, 6, payload.length);
        return frame;
    }

    /** Reads one short unmasked text frame, as the echo server sends them. */
    private static String readTextFrame(RawHttp raw) throws IOException {
        DataInputStream in = new DataInputStream(raw.inputStream());
        assertThat(in.readUnsignedByte()).as("FIN and text opcode").isEqualTo(0x81);
        int length = in.readUnsignedByte();
        assertThat(length).as("an unmasked frame under 126 bytes").isLessThan(126);
        byte[] payload = new byte[length];
        in.readFully(payload);
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Test
    void aTunnelOutlivesTheConnectionTimersAndEndsAfterIdleTimeout() throws Exception {
        Gateway gw = shortIdleGateway(); // header_timeout 1s, idle_timeout 1500ms
        Collector in = new Collector();
        WebSocket ws = connect(gw, "/ws", in);
        assertThat(in.next()).isEqualTo("welcome");

        long start = System.nanoTime();
        for (int i = 0; i < 8; i++) {
            Thread.sleep(400);
            ws.sendText("tick " + i, true).get(10, TimeUnit.SECONDS);
            assertThat(in.next()).isEqualTo("tick " + i);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(3000));
        assertThat(in.ended.isDone()).as("tunnel still open after both timers' periods").isFalse();

        long idleFrom = System.nanoTime();
        in.ended.get(10, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - idleFrom)).isGreaterThan(Duration.ofMillis(1000));
    }

    /**
     * Bytes queued for a client that reads none of them are not activity: a client that sends and never reads its
     * echoes ends the tunnel (and frees its upstream connection) within two idle_timeout periods, like a silent one.
     */
    @Test
    void aTunnelWhoseClientReadsNothingEndsAfterIdleTimeout() throws Exception {
        Gateway gw = shortIdleGateway(); // idle_timeout 1500ms
        int sessionsBefore = echo.sessions().size();
        try (RawHttp raw = RawHttp.connect(gw.port(), 16 * 1024)) {
            raw.send("GET /ws HTTP/1.1\r\nHost: " + gw.authority() + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n");
            assertThat(raw.readHead().status()).isEqualTo(101);
            // binary frames of 60,000 bytes, masked with a zero key; the echoes are never read
            byte[] frame = new byte[8 + 60_000];
            frame[0] = (byte) 0x82;
            frame[1] = (byte) (0x80 | 126);
            frame[2] = (byte) (60_000 >> 8);
            frame[3] = (byte) (60_000 & 0xFF);
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 200; i++) {
                        raw.send(frame);
                    }
                } catch (Exception tunnelEnded) {
                    // the gateway closed the tunnel while this was blocked on a full socket
                }
            });
            long start = System.nanoTime();
            assertThat(echo.awaitSessionClosed(sessionsBefore, 15_000)).as("upstream connection closed").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
            sending.get(15, TimeUnit.SECONDS);
        }
    }

    @Test
    void anUpgradedConnectionIsNeverPooledAndCountsAgainstMaxConnections() throws Exception {
        Gateway gw = gateway(1);
        Collector first = new Collector();
        WebSocket ws = connect(gw, "/ws", first);
        assertThat(first.next()).isEqualTo("welcome");

        assertThat(handshakeStatus(gw, "/ws")).as("the only upstream connection is the tunnel").isEqualTo(502);

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        first.closed.get(10, TimeUnit.SECONDS);
        Collector second = null;
        for (int attempt = 0; attempt < 50 && second == null; attempt++) {
            try {
                Collector c = new Collector();
                connect(gw, "/ws", c);
                second = c;
            } catch (ExecutionException e) {
                Thread.sleep(100); // the slot is freed once the closed tunnel's socket is gone
            }
        }
        assertThat(second).as("a new tunnel once the first one closed").isNotNull();
        assertThat(second.next()).isEqualTo("welcome");
    }

    private static WebSocket connect(Gateway gw, String path, Collector listener) throws Exception {
        return CLIENT.newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://" + gw.authority() + path), listener)
                .get(15, TimeUnit.SECONDS);
    }

    private static int handshakeStatus(Gateway gw, String path) {
        Throwable[] failure = new Throwable[1];
        assertThatThrownBy(() -> connect(gw, path, new Collector()))
                .isInstanceOf(ExecutionException.class)
                .satisfies(e -> failure[0] = e.getCause())
                .hasCauseInstanceOf(WebSocketHandshakeException.class);
        return ((WebSocketHandshakeException) failure[0]).getResponse().statusCode();
    }

    private static String handshake(Gateway gw, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    }

    /** Collects whole messages (String or byte[]) and how the session ended. */
    private static final class Collector implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] part = new byte[data.remaining()];
            data.get(part);
            binary.writeBytes(part);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            ended.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
            ended.complete(null);
        }

        Object next() throws InterruptedException {
            Object message = messages.poll(15, TimeUnit.SECONDS);
            assertThat(message).as("a message within 15 s").isNotNull();
            return message;
        }
    }
}
