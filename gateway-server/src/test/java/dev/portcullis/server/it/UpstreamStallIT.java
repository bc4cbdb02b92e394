package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An upstream that goes silent in the middle of a response (README "Limits", {@code upstream.response_timeout}; nginx's
 * proxy_read_timeout): once the head was relayed, the upstream must send more of the response within each
 * response_timeout while the gateway reads it, or the exchange is cut ({@code error: upstream_stalled}), both
 * connections closed. Not while the gateway holds the upstream back for a client that reads nothing (that is
 * {@code client_stalled}), nor in a WebSocket tunnel (its own idle timeout).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamStallIT {
    private static final String SCENARIO = "upstream-stall.yaml"; // response_timeout: 1s, idle_timeout: 3s

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    private final ScriptedUpstream upstream = new ScriptedUpstream();

    UpstreamStallIT() throws IOException {
    }

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    @Test
    void anUpstreamSilentAfterPartOfTheBodyIsCutAfterResponseTimeoutAndThePoolStillServes() throws Exception {
        Gateway gw = harness.start(SCENARIO, Map.of("UPSTREAM_PORT", Integer.toString(upstream.port())));
        String id;
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /stall HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            id = head.header("X-Request-Id").orElseThrow();
            assertThat(new String(raw.inputStream().readNBytes(7), StandardCharsets.ISO_8859_1)).isEqualTo("partial");
            long silentFrom = System.nanoTime();

            RawHttp.State state = raw.await(Duration.ofSeconds(10));
            Duration took = Duration.ofNanos(System.nanoTime() - silentFrom);

            assertThat(state).as("the client connection, after %s", took).isEqualTo(RawHttp.State.CLOSED);
            assertThat(took).as("closed about response_timeout after the upstream's last bytes")
                    .isBetween(Duration.ofMillis(700), Duration.ofMillis(3000));
        }
        assertThat(upstream.stalledConnectionClosed.get(5, TimeUnit.SECONDS))
                .as("the gateway closed the stalled upstream connection").isTrue();

        JsonNode line = access.jsonLineFor(id);
        assertThat(line.path("error").asText()).as("%s", line).isEqualTo("upstream_stalled");
        assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(200);
        assertThat(line.path("upstream_status").asInt()).as("%s", line).isEqualTo(200);
        assertThat(line.path("bytes_out").asLong()).as("%s", line).isEqualTo(7);
        assertThat(line.path("duration_ms").asDouble()).as("%s", line).isBetween(700.0, 3000.0);

        try (RawHttp raw = gw.raw()) {
            RawResponse next = raw.send("GET /after HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            assertThat(next.status()).as("a request after the stalled one:%n%s", next).isEqualTo(200);
            assertThat(next.bodyText()).isEqualTo("ok");
        }
        assertThat(upstream.pathsByConnection).as("the stalled connection served nothing more")
                .containsExactly(List.of("/stall"), List.of("/after"));
    }

    @Test
    void anUpstreamSendingItsBodySlowlyButWithinResponseTimeoutBetweenPiecesIsNotCut() throws Exception {
        Gateway gw = harness.start(SCENARIO);
        harness.upstream().handler(req -> Reply.slowBody(8, 1024, Duration.ofMillis(400))); // 3.2 s in all
        try (RawHttp raw = gw.raw()) {
            long start = System.nanoTime();
            RawResponse r = raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();

            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(2500));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).as("the whole body, longer than response_timeout in all")
                    .isEqualTo(PatternBytes.bytes(8 * 1024));
            JsonNode line = access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
            assertThat(line.hasNonNull("error")).as("%s", line).isFalse();
            assertThat(raw.awaitClosed(Duration.ofMillis(200))).as("kept alive").isFalse();
        }
    }

    /**
     * A client that reads nothing of a large response: the gateway stops reading the upstream, which then waits for
     * the client; after response_timeout that is not the upstream's stall, after idle_timeout it is the client's.
     */
    @Test
    void anUpstreamHeldBackByAClientThatReadsNothingIsNotUpstreamStalled() throws Exception {
        Gateway gw = harness.start(SCENARIO);
        try (RawHttp raw = RawHttp.connect(gw.port(), 16 * 1024)) {
            long start = System.nanoTime();
            raw.send("GET /_up/bytes/" + (512L << 20) + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);

            JsonNode line = access.jsonLineFor(head.header("X-Request-Id").orElseThrow());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(line.path("error").asText()).as("%s", line).isEqualTo("client_stalled");
            assertThat(took).as("ended by idle_timeout (3 s), not response_timeout (1 s)")
                    .isGreaterThan(Duration.ofMillis(2500));
        }
    }

    /** A tunnel has no response to wait for: quiet for longer than response_timeout, it stays open. */
    @Test
    void aQuietWebSocketTunnelIsNotCutByResponseTimeout() throws Exception {
        Gateway gw = harness.start(SCENARIO, Map.of("UPSTREAM_PORT", Integer.toString(upstream.port())));
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /ws HTTP/1.1\r\nHost: " + gw.authority() + "\r\nConnection: Upgrade\r\nUpgrade: websocket"
                    + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            assertThat(raw.readHead().status()).isEqualTo(101);

            assertThat(raw.await(Duration.ofMillis(2200))).as("the tunnel, quiet for twice response_timeout")
                    .isEqualTo(RawHttp.State.OPEN);
        }
    }

    /**
     * A raw upstream: {@code /stall} gets a head announcing 100 bytes and 7 of them, then silence until the gateway
     * closes the connection; {@code /ws} a WebSocket switch and silence; anything else {@code ok}, kept alive.
     */
    private static final class ScriptedUpstream implements AutoCloseable {
        final CompletableFuture<Boolean> stalledConnectionClosed = new CompletableFuture<>();
        final List<List<String>> pathsByConnection = new CopyOnWriteArrayList<>();
        private final ServerSocket server = new ServerSocket();
        private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        private final AtomicInteger threadIds = new AtomicInteger();
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "stall-upstream-" + threadIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });

        ScriptedUpstream() throws IOException {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            threads.execute(this::accept);
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    sockets.add(s);
                    threads.execute(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket socket) {
            List<String> paths = new CopyOnWriteArrayList<>();
            pathsByConnection.add(paths);
            try (socket) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                String head;
                while ((head = readHead(in)) != null) {
                    String path = head.split(" ", 3)[1];
                    paths.add(path);
                    if (path.equals("/stall")) {
                        write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
                        stalledConnectionClosed.complete(endsWithoutMore(in));
                        return;
                    }
                    if (path.equals("/ws")) {
                        write(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
                        in.readAllBytes();
                        return;
                    }
                    write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                }
            } catch (IOException e) {
                // the gateway went away
            } finally {
                sockets.remove(socket);
            }
        }

        /** True when the gateway ends the connection (closed or reset) without sending anything more. */
        private static boolean endsWithoutMore(InputStream in) {
            try {
                return in.read() < 0;
            } catch (IOException reset) {
                return true;
            }
        }

        /** The request head (no body is expected), or null at the end of the connection. */
        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            int b;
            while (matched < 4 && (b = in.read()) >= 0) {
                head.write(b);
                matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
            }
            return matched == 4 ? head.toString(StandardCharsets.ISO_8859_1) : null;
        }

        private static void write(OutputStream out, String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            threads.shutdownNow();
        }
    }
}
