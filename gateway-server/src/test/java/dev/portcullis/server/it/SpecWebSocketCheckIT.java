package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Black-box checks of WebSocket handling against SPEC 3.6/3.7 and the README's "Proxying" WebSocket
 * paragraph, with a raw-socket client (hand-built, masked frames) and a raw-socket upstream, so the exact
 * bytes on both sides are visible.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecWebSocketCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    Path dir;

    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{RAW_PORT}}"
              response_timeout: 5s
              connect_timeout: 1s
              max_connections: 8
            limits:
              header_timeout: 2s
              idle_timeout: 1500ms
            identity:
              forwarded:
                trusted_proxies: ["127.0.0.1/32"]
                user_header: "X-Forwarded-User"
                roles_header: "X-Forwarded-Groups"
              upstream_headers:
                subject: "X-Auth-Subject"
                roles: "X-Auth-Roles"
            default: allow
            rules:
              - name: denied
                match: { paths: ["/denied/**"] }
                action: deny
              - name: private
                match: { paths: ["/private/**"] }
                require: { authenticated: true }
            """;

    private RawUpstream up;
    private LogCapture access;

    @BeforeEach
    void setUp() throws IOException {
        up = RawUpstream.start();
        access = LogCapture.attach("portcullis.access");
    }

    @AfterEach
    void tearDown() {
        access.detach();
        up.close();
    }

    private Gateway gateway() throws Exception {
        Path file = dir.resolve("ws-" + System.nanoTime() + ".yaml");
        Files.writeString(file, harness.fill(CONFIG, Map.of("RAW_PORT", Integer.toString(up.port()))));
        return harness.startFile(file);
    }

    private static String handshake(Gateway gw, String path, String extraHeaders) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n"
                + extraHeaders + "\r\n";
    }

    private static final String SWITCH = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT + "\r\n\r\n";

    /** Sends a handshake for /ws on {@code raw}, lets the upstream switch protocols; returns the upstream side. */
    private UpConn openTunnel(Gateway gw, RawHttp raw, String extraHeaders) throws Exception {
        raw.send(handshake(gw, "/ws", extraHeaders));
        UpConn c = up.next(Duration.ofSeconds(5));
        assertThat(c).as("the handshake reached the upstream").isNotNull();
        c.readHead(Duration.ofSeconds(5));
        c.write(SWITCH);
        assertThat(raw.readHead().status()).isEqualTo(101);
        return c;
    }

    // ---------------------------------------------------------------------------------------------------

    /**
     * README: a denied handshake "gets the usual 401/403/404 and never reaches the upstream". A request
     * pipelined behind it is parsed as HTTP and decided on its own (a 403 does not close the connection per
     * 3.6): it reaches the upstream as a processed request (X-Forwarded-For added, client identity header
     * stripped), never as raw bytes of a tunnel.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/denied/ws", "/private/ws", "//denied/./x/../ws", "/ws/../denied/ws"})
    void aDeniedHandshakeOpensNoTunnelAndAPipelinedRequestIsParsedAsHttp(String path) throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            raw.send(handshake(gw, path, "X-Auth-Subject: mallory\r\n")
                    + "GET /next HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Auth-Subject: mallory\r\n\r\n");
            RawResponse denied = raw.readResponse();
            assertThat(denied.status()).as(denied.toString()).isIn(401, 403);
            assertThat(denied.hasHeader("Upgrade")).as(denied.toString()).isFalse();
            assertThat(denied.connectionTokens()).doesNotContain("upgrade");

            UpConn c = up.next(Duration.ofSeconds(5));
            if (c == null) {
                // the gateway chose to close after the denial: then nothing at all may have been forwarded
                assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("no second answer and no close").isTrue();
                return;
            }
            String head = c.readHead(Duration.ofSeconds(5));
            assertThat(head).as("the pipelined request, processed").startsWith("GET /next HTTP/1.1\r\n");
            assertThat(head.toLowerCase(Locale.ROOT)).contains("\r\nx-forwarded-for: ")
                    .doesNotContain("x-auth-subject").doesNotContain("upgrade").doesNotContain("sec-websocket-key");
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            RawResponse next = raw.readResponse();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.bodyText()).isEqualTo("ok");
        }
        up.assertNothingMore(Duration.ofMillis(300));
    }

    static Stream<Arguments> notWebSocketHandshakes() {
        String common = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n";
        return Stream.of(
                Arguments.of("HTTP/1.0 GET", "GET /ws HTTP/1.0\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + common),
                Arguments.of("Upgrade: websocket, h2c", "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket, h2c\r\n" + common),
                Arguments.of("Upgrade: websocket/13", "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket/13\r\n" + common),
                Arguments.of("Connection without upgrade", "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n" + common),
                Arguments.of("no Connection header", "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n" + common),
                Arguments.of("Connection: upgrade-insecure", "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: upgrade-insecure\r\nUpgrade: websocket\r\n" + common),
                Arguments.of("two Upgrade lines", "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n" + common),
                Arguments.of("HEAD", "HEAD /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + common),
                Arguments.of("DELETE", "DELETE /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + common));
    }

    /**
     * README: only a GET HTTP/1.1 bodiless request with exactly {@code Upgrade: websocket} and Connection
     * naming {@code upgrade} is a WebSocket handshake; "Every other upgrade ... is stripped and the request
     * answered normally; a 101 to any other request is a 502". The upstream here answers 101 (valid
     * accept) and then speaks frames: the client must get 502, the upstream must not have seen Upgrade,
     * and bytes the client sends next must never reach that upstream connection.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("notWebSocketHandshakes")
    void aNonWebSocketUpgradeIsStrippedAndA101ToItIs502(String name, String template) throws Exception {
        Gateway gw = gateway();
        String request = String.format(template, gw.authority()) + "\r\n";
        try (RawHttp raw = gw.raw()) {
            raw.send(request);
            UpConn c = up.next(Duration.ofSeconds(5));
            assertThat(c).as("the request is answered normally, i.e. forwarded").isNotNull();
            String head = c.readHead(Duration.ofSeconds(5));
            String lower = head.toLowerCase(Locale.ROOT);
            assertThat(lower).as("Upgrade stripped: " + head).doesNotContain("\r\nupgrade:");
            for (String line : lower.split("\r\n")) {
                if (line.startsWith("connection:")) {
                    assertThat(line).as("Connection names no upgrade: " + head).doesNotContain("upgrade");
                }
            }
            c.write(SWITCH);
            c.write(frame(0x1, true, "from-upstream".getBytes(StandardCharsets.UTF_8), false));

            RawResponse r = raw.readResponse(request.startsWith("HEAD"));
            assertThat(r.status()).as(r.toString()).isEqualTo(502);
            assertThat(r.hasHeader("Upgrade")).as(r.toString()).isFalse();

            // a frame the client sends now is never tunnelled to the upstream connection
            try {
                raw.send(frame(0x1, true, "smuggled".getBytes(StandardCharsets.UTF_8), true));
            } catch (IOException closedAlready) {
                // fine: the gateway closed the client connection
            }
            assertThat(c.readAvailable(Duration.ofMillis(500))).as("bytes the upstream got after its 101")
                    .isEmpty();
        }
    }

    /**
     * SPEC 3.6: a body on GET is a smuggling signal, 400 and connection closed; README: a handshake is a
     * request "without a body". With Upgrade: websocket the same holds: nothing reaches the upstream.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Content-Length: 5\r\n\r\nhello", "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"})
    void aHandshakeWithABodyIs400AndNeverReachesTheUpstream(String framingAndBody) throws Exception {
        Gateway gw = gateway();
        String h = handshake(gw, "/ws", "");
        String request = h.substring(0, h.length() - 2) + framingAndBody;
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(request).readResponse();
            assertThat(r.status()).as(r.toString()).isEqualTo(400);
            assertThat(r.hasHeader("Upgrade")).isFalse();
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("connection closed after 400").isTrue();
        }
        assertThat(up.next(Duration.ofMillis(500))).as("an upstream connection").isNull();
    }

    /**
     * README: the connections become a tunnel only "when the upstream answers 101 with Upgrade:
     * websocket". An upstream that refuses the handshake (200 / 426) leaves an HTTP connection: the next
     * bytes the client sends are parsed as HTTP and decided by the policy (a request to /denied/** gets 403
     * and never reaches the upstream).
     */
    @ParameterizedTest(name = "upstream answers {0}")
    @ValueSource(ints = {200, 426})
    void anUpstreamThatRefusesTheHandshakeLeavesAnHttpConnection(int status) throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            raw.send(handshake(gw, "/ws", ""));
            UpConn c = up.next(Duration.ofSeconds(5));
            assertThat(c).isNotNull();
            assertThat(c.readHead(Duration.ofSeconds(5))).startsWith("GET /ws HTTP/1.1\r\n");
            c.write("HTTP/1.1 " + status + " Whatever\r\nContent-Length: 4\r\n\r\nnope");
            RawResponse r = raw.readResponse();
            assertThat(r.status()).as(r.toString()).isEqualTo(status);
            assertThat(r.bodyText()).isEqualTo("nope");

            raw.send("GET /denied/after HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse second = raw.readResponse();
            assertThat(second.status()).as("the next request is policy-checked: " + second).isEqualTo(403);
            assertThat(c.readAvailable(Duration.ofMillis(400))).as("forwarded to the old upstream connection")
                    .isEmpty();
        }
        UpConn other = up.next(Duration.ofMillis(200));
        if (other != null) {
            assertThat(other.readAvailable(Duration.ofMillis(300))).as("forwarded on a new connection").isEmpty();
        }
    }

    /**
     * README: tunnel only "when the upstream answers 101 with Upgrade: websocket"; RFC 9110 15.2.2 / 7.8: a
     * 101 names the protocol switched to. A 101 that switches to h2c answers a WebSocket handshake with
     * something else: no tunnel; the client must not get a 101 it would take for a WebSocket.
     */
    @Test
    void a101SwitchingToAnotherProtocolIsNotTunnelled() throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            raw.send(handshake(gw, "/ws", ""));
            UpConn c = up.next(Duration.ofSeconds(5));
            assertThat(c).isNotNull();
            c.readHead(Duration.ofSeconds(5));
            c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + ACCEPT + "\r\n\r\n");
            RawResponse r = raw.readResponse();
            assertThat(r.status()).as(r.toString()).isEqualTo(502);
            try {
                raw.send(frame(0x1, true, "smuggled".getBytes(StandardCharsets.UTF_8), true));
            } catch (IOException closedAlready) {
                // fine
            }
            assertThat(c.readAvailable(Duration.ofMillis(500))).as("bytes tunnelled after a 101 h2c").isEmpty();
        }
    }

    /**
     * README: a tunnel is opened "when the upstream answers 101 with Upgrade: websocket"; RFC 6455 4.1: the
     * Upgrade value is matched ASCII case-insensitively, as are field names and the Connection token (RFC
     * 9110). Such a 101 is a valid WebSocket answer and must be tunnelled, not turned into a 502.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT + "\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-accept: " + ACCEPT + "\r\n\r\n"})
    void a101InAnotherCaseIsStillAWebSocketAnswer(String answer) throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            raw.send(handshake(gw, "/ws", ""));
            UpConn c = up.next(Duration.ofSeconds(5));
            assertThat(c).isNotNull();
            c.readHead(Duration.ofSeconds(5));
            c.write(answer);
            RawResponse r = raw.readHead();
            assertThat(r.status()).as(r.toString()).isEqualTo(101);
            byte[] ping = frame(0x9, true, "p".getBytes(StandardCharsets.UTF_8), true);
            raw.send(ping);
            assertThat(c.readExactlyQuietly(ping.length)).isEqualTo(ping);
            byte[] pong = frame(0xA, true, "p".getBytes(StandardCharsets.UTF_8), false);
            c.write(pong);
            assertThat(readExactly(raw.inputStream(), pong.length)).isEqualTo(pong);
        }
    }

    /**
     * A handshake as the second request of a keep-alive client connection (its upstream connection may be a
     * pooled one) still becomes a tunnel; a 101 head that reaches the gateway in pieces, with a 70 KB frame in
     * the same write as its last piece, loses no byte; when the client goes away the tunnel's upstream
     * connection is closed (README: "until either side closes or fails, which closes the other").
     */
    @Test
    void aHandshakeAfterAKeepAliveRequestTunnelsAndA101InPiecesLosesNoByte() throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            RawResponse first;
            raw.send("GET /a HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            UpConn a = up.next(Duration.ofSeconds(5));
            assertThat(a).isNotNull();
            assertThat(a.readHead(Duration.ofSeconds(5))).startsWith("GET /a HTTP/1.1\r\n");
            a.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            first = raw.readResponse();
            assertThat(first.status()).isEqualTo(200);

            raw.send(handshake(gw, "/ws", ""));
            UpConn c = a;
            String head;
            try {
                head = a.readHead(Duration.ofSeconds(1)); // the pooled connection was reused
            } catch (SocketTimeoutException notReused) {
                c = up.next(Duration.ofSeconds(5));
                assertThat(c).as("the handshake on some upstream connection").isNotNull();
                head = c.readHead(Duration.ofSeconds(5));
            }
            assertThat(head).startsWith("GET /ws HTTP/1.1\r\n");
            byte[] bigFrame = frame(0x2, true, PatternBytes.bytes(70_000), false);
            c.write("HTTP/1.1 101 Switching Protocols\r\nUpgr");
            Thread.sleep(50);
            c.write("ade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
            Thread.sleep(50);
            c.write(concat((ACCEPT + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), bigFrame));

            RawResponse r = raw.readHead();
            assertThat(r.status()).as(r.toString()).isEqualTo(101);
            assertThat(Arrays.equals(readExactly(raw.inputStream(), bigFrame.length), bigFrame))
                    .as("the frame sent with the end of the 101, exact").isTrue();
            byte[] hello = frame(0x1, true, "hello".getBytes(StandardCharsets.UTF_8), true);
            raw.send(hello);
            assertThat(c.readExactlyQuietly(hello.length)).isEqualTo(hello);

            raw.close();
            assertThat(c.awaitEof(Duration.ofSeconds(5))).as("tunnel's upstream connection closed with the client")
                    .isTrue();
        }
    }

    /**
     * README: after 101 "both connections become a byte tunnel (frames are not parsed; backpressure both
     * ways)". Byte-exact: masked client frames (text, fragmented text, ping, 1 MiB binary) arrive at the
     * upstream unchanged; unmasked upstream frames (one in the same write as the 101, pong, 1 MiB binary,
     * close) arrive at the client unchanged; an upstream close closes the client. Case variants of
     * Upgrade/Connection are accepted and normalized to "Upgrade: websocket" / "Connection: Upgrade".
     */
    @Test
    void framesCrossTheTunnelByteExactBothWaysAndUpstreamCloseClosesTheClient() throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /ws HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: keep-alive, UPGRADE\r\n"
                    + "Upgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n");
            UpConn c = up.next(Duration.ofSeconds(5));
            assertThat(c).isNotNull();
            String head = c.readHead(Duration.ofSeconds(5));
            List<String> headLines = List.of(head.split("\r\n"));
            assertThat(valuesOf(headLines, "upgrade")).as(head).containsExactly("websocket");
            assertThat(valuesOf(headLines, "connection")).as(head).containsExactly("Upgrade");
            byte[] greeting = frame(0x1, true, "welcome".getBytes(StandardCharsets.UTF_8), false);
            c.write(concat(SWITCH.getBytes(StandardCharsets.ISO_8859_1), greeting));

            RawResponse r = raw.readHead();
            assertThat(r.status()).as(r.toString()).isEqualTo(101);
            assertThat(r.header("Sec-WebSocket-Accept")).contains(ACCEPT);
            InputStream cin = raw.inputStream();
            assertThat(readExactly(cin, greeting.length)).as("frame in the same packet as the 101").isEqualTo(greeting);

            byte[] big = PatternBytes.bytes(1024 * 1024);
            ByteArrayOutputStream toUp = new ByteArrayOutputStream();
            toUp.writeBytes(frame(0x1, true, "hello".getBytes(StandardCharsets.UTF_8), true));
            toUp.writeBytes(frame(0x1, false, "frag-".getBytes(StandardCharsets.UTF_8), true));
            toUp.writeBytes(frame(0x0, true, "ment".getBytes(StandardCharsets.UTF_8), true));
            toUp.writeBytes(frame(0x9, true, "ping!".getBytes(StandardCharsets.UTF_8), true));
            toUp.writeBytes(frame(0x2, true, big, true));
            byte[] clientBytes = toUp.toByteArray();

            ByteArrayOutputStream toClient = new ByteArrayOutputStream();
            toClient.writeBytes(frame(0xA, true, "ping!".getBytes(StandardCharsets.UTF_8), false));
            toClient.writeBytes(frame(0x2, true, big, false));
            toClient.writeBytes(frame(0x8, true, new byte[] {0x03, (byte) 0xE8, 'b', 'y', 'e'}, false));
            byte[] upstreamBytes = toClient.toByteArray();

            // write both directions concurrently (backpressure both ways), read both exactly
            CompletableFuture<Void> w1 = CompletableFuture.runAsync(() -> sendQuietly(raw, clientBytes));
            CompletableFuture<Void> w2 = CompletableFuture.runAsync(() -> c.writeQuietly(upstreamBytes));
            CompletableFuture<byte[]> atUp = CompletableFuture.supplyAsync(() -> c.readExactlyQuietly(clientBytes.length));
            byte[] atClient = readExactly(cin, upstreamBytes.length);
            w1.get(20, TimeUnit.SECONDS);
            w2.get(20, TimeUnit.SECONDS);
            assertThat(Arrays.equals(atUp.get(20, TimeUnit.SECONDS), clientBytes)).as("client bytes at the upstream, exact").isTrue();
            assertThat(Arrays.equals(atClient, upstreamBytes)).as("upstream bytes at the client, exact").isTrue();

            byte[] closeReply = frame(0x8, true, new byte[] {0x03, (byte) 0xE8}, true);
            raw.send(closeReply);
            assertThat(c.readExactlyQuietly(closeReply.length)).isEqualTo(closeReply);
            c.close();
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).as("client closed after the upstream closed").isTrue();
        }
    }

    /**
     * README/SPEC 3.3/3.5: the handshake is proxied like any request: Sec-WebSocket-* pass both ways,
     * X-Forwarded-For/-Proto/-Host and X-Request-Id are set, client copies of upstream_headers are removed
     * and set from the identity, headers named in Connection are removed; the 101 carries X-Request-Id
     * ("Every response, proxied or not").
     */
    @Test
    void handshakeHeadersPassThroughAndIdentityHeadersAreSetFromTheGatewayOnly() throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /private/ws?room=1 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n"
                    + "Connection: Upgrade, X-Hop\r\nX-Hop: secret\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n"
                    + "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
                    + "Origin: http://app.test\r\nX-Request-Id: ws-req-1\r\n"
                    + "X-Forwarded-User: alice\r\nX-Forwarded-Groups: ops\r\n"
                    + "X-Auth-Subject: mallory\r\nx_auth_roles: admin\r\n\r\n");
            UpConn c = up.next(Duration.ofSeconds(5));
            assertThat(c).isNotNull();
            String head = c.readHead(Duration.ofSeconds(5));
            List<String> lines = List.of(head.split("\r\n"));
            assertThat(lines.get(0)).isEqualTo("GET /private/ws?room=1 HTTP/1.1");
            // field names are case-insensitive (RFC 9110 5.1): compare names folded, values exactly
            assertThat(valuesOf(lines, "sec-websocket-key")).as(head).containsExactly(KEY);
            assertThat(valuesOf(lines, "sec-websocket-version")).as(head).containsExactly("13");
            assertThat(valuesOf(lines, "sec-websocket-protocol")).as(head).containsExactly("chat, superchat");
            assertThat(valuesOf(lines, "sec-websocket-extensions")).as(head).containsExactly("permessage-deflate");
            assertThat(valuesOf(lines, "origin")).as(head).containsExactly("http://app.test");
            assertThat(valuesOf(lines, "x-request-id")).as(head).containsExactly("ws-req-1");
            assertThat(valuesOf(lines, "upgrade")).as(head).containsExactly("websocket");
            assertThat(valuesOf(lines, "connection")).as(head).containsExactly("Upgrade");
            assertThat(valuesOf(lines, "x-auth-subject")).as(head).containsExactly("alice");
            assertThat(valuesOf(lines, "x-auth-roles")).as(head).containsExactly("ops");
            assertThat(valuesOf(lines, "x_auth_roles")).as(head).isEmpty();
            assertThat(valuesOf(lines, "x-hop")).as("header named in Connection: " + head).isEmpty();
            assertThat(valuesOf(lines, "x-forwarded-for")).as(head).containsExactly("127.0.0.1");
            assertThat(valuesOf(lines, "x-forwarded-proto")).as(head).containsExactly("http");
            assertThat(valuesOf(lines, "x-forwarded-host")).as(head).containsExactly(gw.authority());

            c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Up-Hop\r\n"
                    + "X-Up-Hop: internal\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
                    + "Sec-WebSocket-Accept: " + ACCEPT + "\r\nSec-WebSocket-Protocol: chat\r\n"
                    + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
            RawResponse r = raw.readHead();
            assertThat(r.status()).as(r.toString()).isEqualTo(101);
            assertThat(r.header("Upgrade")).as(r.toString()).hasValueSatisfying(v -> assertThat(v).isEqualToIgnoringCase("websocket"));
            assertThat(r.connectionTokens()).as(r.toString()).contains("upgrade");
            assertThat(r.header("Sec-WebSocket-Accept")).contains(ACCEPT);
            assertThat(r.header("Sec-WebSocket-Protocol")).contains("chat");
            assertThat(r.header("Sec-WebSocket-Extensions")).contains("permessage-deflate");
            assertThat(r.header("X-Request-Id")).as(r.toString()).contains("ws-req-1");
            // README: hop-by-hop headers are removed both ways
            assertThat(r.hasHeader("X-Up-Hop")).as("header named in the 101's Connection: " + r).isFalse();
            assertThat(r.hasHeader("Keep-Alive")).as(r.toString()).isFalse();
            assertThat(r.hasHeader("Proxy-Connection")).as(r.toString()).isFalse();
            c.close();
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).isTrue();
        }
    }

    /**
     * README: "The log line is written when the tunnel ends: status 101, bytes_out the bytes sent to the
     * client". No line while the tunnel is open; exactly one afterwards, with the tunnel bytes (as bytes_out
     * counts body bytes for other responses).
     */
    @Test
    void theAccessLineIsWrittenOnceWhenTheTunnelEndsWithStatus101AndItsBytes() throws Exception {
        Gateway gw = gateway();
        byte[] down = frame(0x2, true, PatternBytes.bytes(3000), false);
        try (RawHttp raw = gw.raw()) {
            UpConn c = openTunnel(gw, raw, "X-Request-Id: tunnel-log-1\r\n");
            c.write(down);
            assertThat(readExactly(raw.inputStream(), down.length)).isEqualTo(down);
            byte[] upBytes = frame(0x1, true, "x".getBytes(StandardCharsets.UTF_8), true);
            raw.send(upBytes);
            assertThat(c.readExactlyQuietly(upBytes.length)).isEqualTo(upBytes);

            awaitMarkerLine(gw, "tunnel-log-marker-1");
            assertThat(linesFor("tunnel-log-1")).as("no access line while the tunnel is open").isEmpty();

            raw.close();
            assertThat(c.awaitEof(Duration.ofSeconds(5))).as("upstream closed after the client closed").isTrue();
        }
        JsonNode line = access.jsonLineFor("tunnel-log-1");
        assertThat(line.path("status").asInt()).as(line.toString()).isEqualTo(101);
        assertThat(line.path("bytes_out").asLong()).as("bytes_out: " + line).isEqualTo(down.length);
        awaitMarkerLine(gw, "tunnel-log-marker-2");
        assertThat(linesFor("tunnel-log-1")).as("one line for the tunnel").hasSize(1);

        // SPEC/README metrics: the tunnel is one request, counted once with status class 1xx
        HttpResponse<String> m = harness.client().send(HttpRequest.newBuilder(gw.adminUri("/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        PrometheusText text = PrometheusText.parse(m.body());
        double oneXx = text.samples("portcullis_requests_total").stream()
                .filter(x -> "1xx".equals(x.labels().get("status"))).mapToDouble(x -> x.value()).sum();
        assertThat(oneXx).as("portcullis_requests_total{status=1xx}: " + text.samples("portcullis_requests_total"))
                .isEqualTo(1.0);
        assertThat(text.valueOrZero("portcullis_requests_total",
                Map.of("rule", "(default)", "decision", "allow", "status", "1xx"))).isEqualTo(1.0);
    }

    /**
     * README: "A tunnel ends when no byte moves either way for limits.idle_timeout" (1500 ms here), and then
     * logs error: tunnel_idle. Traffic in only one direction (upstream pushes, then client pushes) keeps it
     * open well past the idle timeout; silence ends it on both sides.
     */
    @Test
    void oneWayTrafficKeepsATunnelOpenAndSilenceEndsBothSidesWithTunnelIdle() throws Exception {
        Gateway gw = gateway();
        try (RawHttp raw = gw.raw()) {
            UpConn c = openTunnel(gw, raw, "X-Request-Id: tunnel-idle-1\r\n");
            InputStream cin = raw.inputStream();

            byte[] push = frame(0x1, true, "tick".getBytes(StandardCharsets.UTF_8), false);
            for (int i = 0; i < 7; i++) { // 2.8 s of upstream-to-client traffic only
                Thread.sleep(400);
                c.write(push);
                assertThat(readExactly(cin, push.length)).as("push " + i).isEqualTo(push);
            }
            byte[] send = frame(0x1, true, "tock".getBytes(StandardCharsets.UTF_8), true);
            for (int i = 0; i < 7; i++) { // 2.8 s of client-to-upstream traffic only
                Thread.sleep(400);
                raw.send(send);
                assertThat(c.readExactlyQuietly(send.length)).as("send " + i).isEqualTo(send);
            }
            long idleFrom = System.nanoTime();
            assertThat(raw.awaitClosed(Duration.ofSeconds(6))).as("client side closed when idle").isTrue();
            long idleMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - idleFrom);
            assertThat(idleMs).as("ended after about idle_timeout").isBetween(1000L, 5000L);
            assertThat(c.awaitEof(Duration.ofSeconds(3))).as("upstream side closed when idle").isTrue();
        }
        JsonNode line = access.jsonLineFor("tunnel-idle-1");
        assertThat(line.path("status").asInt()).as(line.toString()).isEqualTo(101);
        assertThat(line.path("error").asText()).as(line.toString()).isEqualTo("tunnel_idle");
    }

    /**
     * README: "both connections become a byte tunnel (frames are not parsed; backpressure both ways)". While
     * the receiving side reads nothing (small receive buffers on both test ends), 32 MiB written by the other
     * side cannot all be accepted within 1 s (the gateway holds the writer back rather than buffering it);
     * once reading starts everything arrives intact. The stall is shorter than idle_timeout.
     */
    @Test
    void aStalledReaderHoldsTheWriterBackInBothDirections() throws Exception {
        Gateway gw = gateway();
        int chunks = 512;
        byte[] chunk = PatternBytes.bytes(64 * 1024);
        try (RawHttp raw = RawHttp.connect(gw.port(), 64 * 1024)) {
            UpConn c = openTunnel(gw, raw, "");

            AtomicLong toClient = new AtomicLong();
            CompletableFuture<Void> down = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < chunks; i++) {
                    c.writeQuietly(chunk);
                    toClient.addAndGet(chunk.length);
                }
            });
            Thread.sleep(1000); // the claim is about 1 s: the writer must still be held back when it has passed
            assertThat(down.isDone()).as("upstream wrote all 32 MiB to a client that reads nothing (accepted "
                    + toClient.get() + " bytes)").isFalse();
            InputStream cin = raw.inputStream();
            for (int i = 0; i < chunks; i++) {
                assertThat(Arrays.equals(readExactly(cin, chunk.length), chunk)).as("chunk " + i + " at the client").isTrue();
            }
            down.get(30, TimeUnit.SECONDS);

            AtomicLong toUpstream = new AtomicLong();
            CompletableFuture<Void> upward = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < chunks; i++) {
                    sendQuietly(raw, chunk);
                    toUpstream.addAndGet(chunk.length);
                }
            });
            Thread.sleep(1000); // as above, upstream-bound
            assertThat(upward.isDone()).as("client wrote all 32 MiB to an upstream that reads nothing (accepted "
                    + toUpstream.get() + " bytes)").isFalse();
            for (int i = 0; i < chunks; i++) {
                assertThat(Arrays.equals(c.readExactlyQuietly(chunk.length), chunk)).as("chunk " + i + " at the upstream").isTrue();
            }
            upward.get(30, TimeUnit.SECONDS);
        }
    }

    // ---------------------------------------------------------------------------------------------------

    /**
     * Barrier for "no (further) access line": a later request that the gateway denies itself, whose line is
     * awaited. A line for anything that happened before the marker was sent has had the marker's whole round
     * trip to reach the capture.
     */
    private void awaitMarkerLine(Gateway gw, String requestId) throws Exception {
        RawResponse r = RawHttp.exchange(gw.port(), "GET /denied/marker HTTP/1.1\r\nHost: " + gw.authority()
                + "\r\nX-Request-Id: " + requestId + "\r\n\r\n");
        assertThat(r.status()).as("the marker request is denied: %s", r).isEqualTo(403);
        access.jsonLineFor(requestId);
    }

    private List<JsonNode> linesFor(String requestId) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (var e : access.snapshot()) {
            JsonNode n = JSON.readTree(e.getFormattedMessage());
            if (requestId.equals(n.path("request_id").asText(null))) {
                out.add(n);
            }
        }
        return out;
    }

    private static List<String> valuesOf(List<String> lines, String lowerName) {
        List<String> out = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) {
            int colon = l.indexOf(':');
            if (colon > 0 && l.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(lowerName)) {
                out.add(l.substring(colon + 1).trim());
            }
        }
        return out;
    }

    private static void sendQuietly(RawHttp raw, byte[] b) {
        try {
            raw.send(b);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            int k = in.read(b, off, n - off);
            if (k < 0) {
                throw new EOFException("EOF after " + off + " of " + n + " bytes");
            }
            off += k;
        }
        return b;
    }

    /** One RFC 6455 frame; masked (fixed key) when {@code mask}. */
    static byte[] frame(int opcode, boolean fin, byte[] payload, boolean mask) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
        out.write((fin ? 0x80 : 0) | opcode);
        int m = mask ? 0x80 : 0;
        if (payload.length < 126) {
            out.write(m | payload.length);
        } else if (payload.length < 65536) {
            out.write(m | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length & 0xff);
        } else {
            out.write(m | 127);
            long len = payload.length;
            for (int i = 7; i >= 0; i--) {
                out.write((int) (len >>> (8 * i)) & 0xff);
            }
        }
        if (mask) {
            byte[] key = {0x37, (byte) 0xfa, 0x21, 0x3d};
            out.writeBytes(key);
            byte[] masked = new byte[payload.length];
            for (int i = 0; i < payload.length; i++) {
                masked[i] = (byte) (payload[i] ^ key[i & 3]);
            }
            out.writeBytes(masked);
        } else {
            out.writeBytes(payload);
        }
        return out.toByteArray();
    }

    /** A raw TCP upstream: every accepted connection is handed to the test. */
    static final class RawUpstream implements AutoCloseable {
        private final ServerSocket server;
        private final LinkedBlockingQueue<UpConn> accepted = new LinkedBlockingQueue<>();
        private final List<UpConn> all = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        private RawUpstream() throws IOException {
            server = new ServerSocket();
            server.setReceiveBufferSize(64 * 1024); // accepted sockets inherit it: a stalled reader stalls soon
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        UpConn c = new UpConn(s);
                        all.add(c);
                        accepted.add(c);
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "raw-upstream-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        static RawUpstream start() throws IOException {
            return new RawUpstream();
        }

        int port() {
            return server.getLocalPort();
        }

        /** The next accepted connection, or null when none within {@code within}. */
        UpConn next(Duration within) throws InterruptedException {
            return accepted.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** No further connection carries any byte within {@code quiet}. */
        void assertNothingMore(Duration quiet) throws Exception {
            UpConn c = next(quiet);
            if (c != null) {
                assertThat(c.readAvailable(quiet)).as("bytes on an extra upstream connection").isEmpty();
            }
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
            all.forEach(UpConn::close);
        }
    }

    /** One upstream-side connection. */
    static final class UpConn implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        UpConn(Socket s) throws IOException {
            socket = s;
            s.setSoTimeout(10_000);
            in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
            out = s.getOutputStream();
        }

        /** Reads up to and including the blank line; ISO-8859-1. */
        String readHead(Duration within) throws IOException {
            socket.setSoTimeout((int) within.toMillis());
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int state = 0;
            while (state < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new EOFException("EOF inside a request head: " + head.toString(StandardCharsets.ISO_8859_1));
                }
                head.write(b);
                state = (b == '\r' && (state == 0 || state == 2)) ? state + 1
                        : (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            }
            socket.setSoTimeout(10_000);
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        /** Whatever arrives within {@code within} (stops at EOF); empty when nothing. */
        byte[] readAvailable(Duration within) throws IOException {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + within.toNanos();
            byte[] buf = new byte[8192];
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                socket.setSoTimeout((int) left);
                try {
                    int k = in.read(buf);
                    if (k < 0) {
                        break;
                    }
                    got.write(buf, 0, k);
                } catch (SocketTimeoutException e) {
                    break;
                } catch (SocketException e) {
                    break; // reset
                }
            }
            return got.toByteArray();
        }

        boolean awaitEof(Duration within) throws IOException {
            long deadline = System.nanoTime() + within.toNanos();
            byte[] buf = new byte[8192];
            while (System.nanoTime() < deadline) {
                socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                try {
                    if (in.read(buf) < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    return false;
                } catch (SocketException e) {
                    return true;
                }
            }
            return false;
        }

        void write(String s) throws IOException {
            write(s.getBytes(StandardCharsets.ISO_8859_1));
        }

        void write(byte[] b) throws IOException {
            out.write(b);
            out.flush();
        }

        void writeQuietly(byte[] b) {
            try {
                write(b);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        byte[] readExactlyQuietly(int n) {
            try {
                socket.setSoTimeout(10_000);
                return readExactly(in, n);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
