package dev.portcullis.server.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.PacedInputStream;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import dev.portcullis.server.it.support.WebSocketEchoServer;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Black-box checks, from SPEC.md 3.7 and the README ("Proxying", "Limits", "Status codes", "Logs", "The jar"), of
 * clients and upstreams that are slow but steady, or stop, around large bodies: a slow reader is never taken for a
 * stalled one (each bit of progress starts {@code limits.idle_timeout} again), a reader that takes nothing for a whole
 * {@code idle_timeout} is cut as {@code client_stalled} and frees its upstream connection, slow uploads and slow
 * upstreams are relayed whole, SIGTERM lets a slow reader finish within {@code drain_timeout} (and cuts it there),
 * and a WebSocket tunnel with a slow peer is not cut. Loopback only; every exchange is bounded.
 */
@Timeout(value = 40, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecSlowClientCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @TempDir
    Path dir;

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final int CLIENT_RCVBUF = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ExecutorService BACKGROUND = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "slow-client");
        t.setDaemon(true);
        return t;
    });

    /** In-process gateway: short idle timeout (the thing under test), generous everything else. */
    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              connect_timeout: 2s
              response_timeout: 20s
            limits:
              max_body_size: 64MiB
              header_timeout: 5s
              idle_timeout: {{IDLE}}
            default: allow
            rules: []
            """;

    /** The packaged jar, for SIGTERM: same, with a drain_timeout. */
    private static final String PROCESS_CONFIG = CONFIG + "drain_timeout: {{DRAIN}}\n";

    private final List<AutoCloseable> opened = new ArrayList<>();
    private Gateway gw;

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
        opened.clear();
    }

    // ------------------------------------------------------------------ slow but steady readers

    /**
     * README "Proxying": "while it is still reading [the last response], however slowly, each bit of progress starts
     * idle_timeout again, so neither the tail of a large response nor a request pipelined behind it is cut off".
     * Multi-megabyte responses read at a few hundred KB/s (64 KiB receive buffer) for several idle periods; framed by
     * Content-Length, chunked, or not at all (the upstream closes; README: "re-framed as chunked for HTTP/1.1 clients").
     */
    @ParameterizedTest(name = "{0} bytes, {1}, {2} B/s, idle_timeout {3}, pipelined: {4}")
    @CsvSource({
            "4194304, bytes,   512000, 1s, false",
            "3145728, chunked, 400000, 1s, true",
            "2097152, unframed, 400000, 1s, true",
    })
    void aSlowButSteadyReaderGetsEveryByteOfALargeResponseAndThePipelinedOneBehindIt(long size, String route,
            long rate, String idle, boolean pipelined) throws Exception {
        readsEveryByteSlowly(size, route, rate, idle, pipelined);
    }

    /**
     * The same promise at lower rates: a client that takes 16 KiB every ~140 ms (120 KB/s) or every ~270 ms (60 KB/s)
     * never goes a whole idle_timeout without progress. On loopback a segment is 64 KiB, so the client's receive
     * window (64 KiB buffer) opens in steps of up to 64 KiB and the gateway sees progress only every ~0.5-1 s at these
     * rates: idle_timeout is kept at 3-4x that gap (at 1 s, a busy CI machine once let a gap pass it).
     */
    @ParameterizedTest(name = "{0} bytes, {1}, {2} B/s, idle_timeout {3}, pipelined: {4}")
    @CsvSource({
            "1048576, bytes, 120000, 3s, true",
            "524288,  bytes, 60000,  4s, false",
    })
    void aReaderSlowerThanAFewHundredKBPerSecondButNeverPausingIsNotTakenForStalled(long size, String route,
            long rate, String idle, boolean pipelined) throws Exception {
        readsEveryByteSlowly(size, route, rate, idle, pipelined);
    }

    private void readsEveryByteSlowly(long size, String route, long rate, String idle, boolean pipelined)
            throws Exception {
        start(idle);
        if (route.equals("unframed")) {
            harness.upstream().handler(req -> !req.path().startsWith("/_up/unframed/") ? Reply.echo() : (rq, out) -> {
                out.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n".getBytes(ISO_8859_1));
                PatternBytes.writeTo(out, size);
                return false; // the body ends with the connection
            });
        }
        RawHttp c = connect(CLIENT_RCVBUF);
        String next = pipelined ? get("/second", "steady-next") : "";
        c.send(get("/_up/" + route + "/" + size, "steady") + next);
        RawResponse head = c.readHead();
        assertThat(head.status()).as("%s", head).isEqualTo(200);

        long start = System.nanoTime();
        Body body = readBody(head, new PacedInputStream(c.inputStream(), rate), Long.MAX_VALUE);
        Duration took = since(start);

        JsonNode line = access.jsonLineFor("steady");
        assertThat(body.length).as("bytes of the response read before it ended (after %s; idle_timeout %s); log: %s",
                took, idle, line).isEqualTo(size);
        assertThat(body.complete).as("the response ended at its framing").isTrue();
        assertThat(body.sha256).as("the response is intact").isEqualTo(PatternBytes.sha256(size));
        assertThat(took).as("the read really spanned several idle periods").isGreaterThan(Duration.ofSeconds(3));
        if (pipelined) {
            RawResponse second = c.readResponse();
            assertThat(second.status()).as("the pipelined request is answered: %s", second).isEqualTo(200);
            assertThat(second.header("X-Echo-Target")).contains("/second");
        }
        assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(200);
        assertThat(errorOf(line)).as("no error on a slow-but-steady read: %s", line).isEmpty();
        assertThat(line.path("bytes_out").asLong()).as("bytes_out: %s", line).isGreaterThanOrEqualTo(size);
    }

    /**
     * README "Logs" ({@code client_stalled}: "it took none of the response for limits.idle_timeout (any progress starts
     * the period again) ... both connections are closed") and "Proxying" (the next pipelined request only "once the
     * client can take more"): a client that reads 1 MiB steadily for longer than idle_timeout, then stops, is cut
     * about idle_timeout after it stopped, not before; its upstream connection is closed and the request pipelined
     * behind never reaches the upstream.
     */
    @Test
    void aReaderThatStopsMidResponseIsCutAboutIdleTimeoutLaterAsClientStalledAndHoldsNoUpstream() throws Exception {
        start("1500ms");
        RawHttp c = connect(CLIENT_RCVBUF);
        long size = 64 * MIB;
        c.send(get("/_up/bytes/" + size, "stops") + get("/never-forwarded", "stops-next"));
        RawResponse head = c.readHead();
        assertThat(head.status()).isEqualTo(200);
        int upstreamConnection = Integer.parseInt(head.header("X-Upstream-Connection").orElseThrow());

        PacedInputStream paced = new PacedInputStream(c.inputStream(), 400_000);
        Body first = readBody(head, paced, MIB); // ~2.6 s: longer than idle_timeout, steadily
        assertThat(first.length).as("the steady part was not cut").isEqualTo(MIB);
        long stoppedAt = System.nanoTime();

        JsonNode line = access.jsonLineFor("stops"); // logged when the exchange ends
        Duration cutAfter = since(stoppedAt);
        assertThat(errorOf(line)).as("%s", line).contains("client_stalled");
        assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(200);
        assertThat(line.path("bytes_out").asLong()).as("bytes_out of a cut response: %s", line)
                .isGreaterThanOrEqualTo(MIB).isLessThan(size);
        assertThat(cutAfter).as("cut about idle_timeout (1.5 s) after the client stopped reading, not before")
                .isBetween(Duration.ofMillis(1200), Duration.ofSeconds(6));
        assertThat(harness.upstream().awaitConnectionEnded(upstreamConnection, Duration.ofSeconds(4)))
                .as("README: both connections are closed, so that it cannot hold the upstream pool").isTrue();

        long rest = drainToEnd(c, Duration.ofSeconds(5));
        assertThat(rest).as("the client connection is closed").isGreaterThanOrEqualTo(0);
        assertThat(first.length + rest).as("a cut response is never delivered whole").isLessThan(size);
        harness.upstream().assertHeadsStayAt(1, Duration.ofMillis(300));
        assertThat(paths()).as("the request pipelined behind a stalled one is never forwarded")
                .doesNotContain("/never-forwarded");
        assertFreshClientServed();
    }

    // ------------------------------------------------------------------ slow but steady uploads

    /**
     * README "Proxying": "a client that drips its body keeps its upstream connection (no minimum rate)"; "Status
     * codes": 408 only for "a request body that stalls for limits.idle_timeout". Uploads that take several idle
     * periods but never pause for one are proxied whole.
     */
    @ParameterizedTest(name = "{0}: {1} x {2} B every {3} ms, idle_timeout {4}")
    @CsvSource({
            "Content-Length, 80, 8192,  50,  1s",
            "chunked,        80, 8192,  50,  1s",
            "chunked,         6, 65536, 900, 2s",
            "Content-Length, 20, 1,     200, 1s",
    })
    void aSlowButSteadyUploadLongerThanIdleTimeoutIsProxiedWhole(String framing, int pieces, int pieceSize,
            long pauseMillis, String idle) throws Exception {
        start(idle);
        RawHttp c = connect();
        long size = (long) pieces * pieceSize;
        boolean chunked = framing.equals("chunked");
        c.send(h("POST /upload HTTP/1.1\r\nHost: {H}\r\nX-Request-Id: upload\r\n"
                + (chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + size) + "\r\n\r\n"));
        long start = System.nanoTime();
        byte[] piece = new byte[pieceSize];
        for (int i = 0; i < pieces; i++) {
            PatternBytes.fill(piece, 0, pieceSize, (long) i * pieceSize);
            if (chunked) {
                c.send((Integer.toHexString(pieceSize) + "\r\n").getBytes(ISO_8859_1));
                c.send(piece);
                c.send("\r\n");
            } else {
                c.send(piece);
            }
            if (i < pieces - 1) {
                Thread.sleep(pauseMillis);
            }
        }
        if (chunked) {
            c.send("0\r\n\r\n");
        }
        Duration took = since(start);
        RawResponse r = c.readResponse();
        assertThat(r.status()).as("an upload of %s that never paused for idle_timeout (%s):%n%s", took, idle, r)
                .isEqualTo(200);
        assertThat(took).as("the upload really spanned more than idle_timeout").isGreaterThan(Duration.ofMillis(2500));
        assertThat(r.header("X-Echo-Body-Sha256")).contains(PatternBytes.sha256(size));
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.bodyLength()).as("body bytes the upstream received").isEqualTo(size);
        assertThat(up.bodySha256()).as("the body the upstream received is intact").isEqualTo(PatternBytes.sha256(size));
        assertThat(errorOf(access.jsonLineFor("upload"))).isEmpty();
    }

    /**
     * README "Proxying": "While the gateway holds a request body back for an upstream that reads it slowly, the body's
     * idle_timeout (408) does not run", and only an upstream "that takes none of it for idle_timeout" ends the
     * exchange (504). An upstream reading 1.5 MiB at ~256 KB/s (about 6 s, idle_timeout 1 s) gets all of it.
     */
    @Test
    void anUploadToAnUpstreamThatReadsSlowlyButSteadilyIsProxiedWhole() throws Exception {
        start("1s");
        harness.upstream().throttleBodyReads(256 * KIB);
        RawHttp c = connect();
        long size = 1536 * KIB;
        c.send(h("POST /slow-reader-upstream HTTP/1.1\r\nHost: {H}\r\nX-Request-Id: throttled\r\nContent-Length: "
                + size + "\r\n\r\n"));
        CompletableFuture<Boolean> sent = background(() -> {
            byte[] buf = new byte[64 * 1024];
            for (long pos = 0; pos < size; pos += buf.length) {
                PatternBytes.fill(buf, 0, buf.length, pos);
                c.send(buf); // blocks while the gateway holds the client back
            }
            return true;
        });
        long start = System.nanoTime();
        c.readTimeout(Duration.ofSeconds(20));
        RawResponse r = c.readResponse();
        assertThat(r.status()).as("after %s:%n%s", since(start), r).isEqualTo(200);
        assertThat(sent.get(5, TimeUnit.SECONDS)).as("the whole body was sent").isTrue();
        assertThat(since(start)).as("the upstream really read for several idle periods")
                .isGreaterThan(Duration.ofSeconds(3));
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.bodyLength()).isEqualTo(size);
        assertThat(up.bodySha256()).isEqualTo(PatternBytes.sha256(size));
        assertThat(r.header("X-Echo-Body-Sha256")).contains(PatternBytes.sha256(size));
    }

    /**
     * README "Proxying": an upstream that answers before it has read the body, then stops reading it until its answer
     * is taken, while the client sends its body and reads none of the answer: the two wait for each other, and the
     * exchange ends about idle_timeout later as {@code client_stalled} (the client is the one that stopped), not as the
     * upstream's {@code upstream_timeout}; a fresh client is served afterwards.
     */
    @Test
    void aClientThatSendsItsBodyAndReadsNoneOfAnEarlyAnswerIsCutAsClientStalled() throws Exception {
        long size = 64 * MIB;
        try (ServerSocket early = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Boolean> answered = background(() -> answerEarlyAndReadNoMore(early, size));
            gw = harness.startYaml(dir, CONFIG,
                    Map.of("IDLE", "1s", "UPSTREAM_PORT", Integer.toString(early.getLocalPort())));
            RawHttp c = connect(CLIENT_RCVBUF);
            c.send(h("POST /early HTTP/1.1\r\nHost: {H}\r\nX-Request-Id: early\r\nContent-Length: " + size
                    + "\r\n\r\n"));
            CompletableFuture<Long> sent = background(() -> {
                byte[] buf = new byte[64 * 1024];
                long total = 0;
                try {
                    while (total < size) {
                        c.send(buf); // blocks while the gateway holds the body back
                        total += buf.length;
                    }
                } catch (IOException cut) {
                    // the gateway closed the connection
                }
                return total;
            });

            JsonNode line = access.jsonLineFor("early");
            assertThat(errorOf(line)).as("%s", line).contains("client_stalled");
            assertThat(answered.get(10, TimeUnit.SECONDS)).as("the upstream's early answer began").isTrue();
            assertThat(sent.get(10, TimeUnit.SECONDS)).as("the body was not sent whole").isLessThan(size);
        }
    }

    /** A raw upstream: reads one request head, answers 200 with {@code size} bytes, never reads the body. */
    private static boolean answerEarlyAndReadNoMore(ServerSocket server, long size) throws IOException {
        try (Socket s = server.accept()) {
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    return false;
                }
                matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(ISO_8859_1));
            byte[] buf = new byte[64 * 1024];
            try {
                for (long written = 0; written < size; written += buf.length) {
                    out.write(buf); // blocks once the gateway stops reading it
                }
            } catch (IOException cut) {
                // the gateway closed the connection
            }
            return true;
        }
    }

    // ------------------------------------------------------------------ slow upstream responses

    /**
     * SPEC 3.7 ("bodies streamed both ways with backpressure") and README "Proxying": a 2.25 MiB response that the
     * upstream trickles out over ~5 s (48 KiB every 100 ms, idle_timeout 2 s) reaches a fast reader, and a reader
     * slower than the upstream, whole.
     */
    @ParameterizedTest(name = "client reads at {0} B/s (0: as fast as it can)")
    @ValueSource(longs = {0, 300_000})
    void aLargeResponseFromASlowButSteadyUpstreamIsRelayedWhole(long clientRate) throws Exception {
        // 2 s, still well under the ~5 s the response takes: with 1 s, a second-long stall of the test JVM on a loaded
        // machine once let the paced reader look idle (a flake, not the behaviour under test)
        start("2s");
        int pieces = 48;
        int pieceSize = 48 * 1024;
        long size = (long) pieces * pieceSize;
        harness.upstream().handler(req -> req.path().equals("/slow-upstream-body")
                ? Reply.slowBody(pieces, pieceSize, Duration.ofMillis(100)) : Reply.echo());
        RawHttp c = connect(CLIENT_RCVBUF);
        c.send(get("/slow-upstream-body", "slow-up"));
        RawResponse head = c.readHead();
        assertThat(head.status()).isEqualTo(200);
        long start = System.nanoTime();
        InputStream in = clientRate > 0 ? new PacedInputStream(c.inputStream(), clientRate) : c.inputStream();
        Body body = readBody(head, in, Long.MAX_VALUE);
        assertThat(body.length).as("bytes relayed before the response ended (after %s)", since(start)).isEqualTo(size);
        assertThat(body.sha256).isEqualTo(PatternBytes.sha256(size));
        assertThat(since(start)).isGreaterThan(Duration.ofSeconds(3));
        JsonNode line = access.jsonLineFor("slow-up");
        assertThat(errorOf(line)).as("%s", line).isEmpty();
        // the connection is kept alive and serves the next request
        assertThat(c.send(get("/after", "slow-up-next")).readResponse().status()).isEqualTo(200);
    }

    /**
     * README "Proxying": "A connection counts as idle only once its client has taken the last response"; idle_timeout
     * is about a client with no request, a stalled body or a client that reads none of a response (README "Limits"),
     * and response_timeout about the head only. An upstream that stops for 2.5 s in the middle of a body (idle_timeout
     * 1 s, response_timeout 20 s) and then finishes it is relayed whole.
     */
    @Test
    void anUpstreamThatPausesLongerThanIdleTimeoutMidBodyIsRelayedWhole() throws Exception {
        start("1s");
        int half = 256 * 1024;
        harness.upstream().handler(req -> (rq, out) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + 2 * half
                    + "\r\n\r\n").getBytes(ISO_8859_1));
            byte[] buf = new byte[half];
            PatternBytes.fill(buf, 0, half, 0);
            out.write(buf);
            out.flush();
            try {
                Thread.sleep(2500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            PatternBytes.fill(buf, 0, half, half);
            out.write(buf);
            out.flush();
            return true;
        });
        RawHttp c = connect();
        c.send(get("/pausing-upstream", "pause"));
        RawResponse r = c.readResponse();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().length).as("bytes relayed").isEqualTo(2 * half);
        assertThat(r.body()).isEqualTo(PatternBytes.bytes(2 * half));
        assertThat(errorOf(access.jsonLineFor("pause"))).isEmpty();
    }

    // ------------------------------------------------------------------ SIGTERM with a slow reader

    /**
     * README "The jar": on SIGTERM it "stops accepting, closes idle keep-alive connections, closes the others after
     * their current response, answers a request that still arrives on one of them with 503" and exits 0 "once
     * in-flight requests have finished (at most drain_timeout)". A client reading 2 MiB at ~400 KB/s when SIGTERM
     * comes (drain_timeout 20 s) gets every byte; the idle keep-alive connection beside it is closed at once; the
     * request it pipelined is never forwarded; the process exits 0 soon after the response is done.
     */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void sigtermLetsASlowReaderFinishItsLargeResponseAndClosesTheIdleConnectionBesideIt() throws Exception {
        try (GatewayProcess gateway = startProcess("20s")) {
            int port = gateway.port();
            String host = "127.0.0.1:" + port;
            long size = 2 * MIB;
            RawHttp idle = RawHttp.connect(port);
            opened.add(idle);
            RawResponse warm = idle.send(raw("GET /warm", host, "drain-warm")).readResponse();
            assertThat(warm.status()).isEqualTo(200);
            RawHttp slow = RawHttp.connect(port, CLIENT_RCVBUF);
            opened.add(slow);
            slow.send(raw("GET /_up/bytes/" + size, host, "drain-slow") + raw("GET /after-sigterm", host, "drain-next"));
            RawResponse head = slow.readHead();
            assertThat(head.status()).isEqualTo(200);
            PacedInputStream paced = new PacedInputStream(slow.inputStream(), 400_000);
            MessageDigest md = PatternBytes.sha256Digest();
            long read = readInto(paced, 256 * KIB, md);

            long t0 = System.nanoTime();
            gateway.signal("TERM");
            CompletableFuture<Long> rest = background(() -> readInto(paced, size - read, md));

            assertThat(idle.awaitClosed(Duration.ofSeconds(3))).as("the idle keep-alive connection is closed").isTrue();
            long restRead = rest.get(20, TimeUnit.SECONDS);
            long readDone = System.nanoTime();
            assertThat(read + restRead).as("bytes of the response the slow reader got after SIGTERM (after %s)",
                    Duration.ofNanos(readDone - t0)).isEqualTo(size);
            assertThat(HexFormat.of().formatHex(md.digest())).as("intact").isEqualTo(PatternBytes.sha256(size));

            RawHttp.State next = slow.await(Duration.ofSeconds(3));
            if (next == RawHttp.State.DATA) {
                assertThat(slow.readResponse().status()).as("a request arriving while draining").isEqualTo(503);
                next = slow.await(Duration.ofSeconds(3));
            }
            assertThat(next).as("closed after its current response").isEqualTo(RawHttp.State.CLOSED);
            assertThat(paths()).as("nothing is forwarded after SIGTERM").doesNotContain("/after-sigterm");

            assertThat(gateway.process().waitFor(10, TimeUnit.SECONDS)).as("exits once drained").isTrue();
            assertThat(gateway.process().exitValue()).as("output:%n%s", gateway.output()).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - readDone)).as("exit soon after the last response ended")
                    .isLessThan(Duration.ofSeconds(6));
            JsonNode line = processLine(gateway, "drain-slow");
            assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(200);
            assertThat(errorOf(line)).as("%s", line).isEmpty();
        }
    }

    /**
     * README "The jar" / SPEC 3 ({@code drain_timeout}: "finish in-flight requests"): a chunked upload dripping in over
     * ~4 s (8 KiB every 50 ms) when SIGTERM comes 1 s into it is still proxied whole and answered; its connection is
     * closed after that response and the process exits 0.
     */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void sigtermDuringASlowButSteadyUploadLetsItFinishAndBeAnswered() throws Exception {
        try (GatewayProcess gateway = startProcess("20s")) {
            int port = gateway.port();
            RawHttp c = RawHttp.connect(port);
            opened.add(c);
            c.readTimeout(Duration.ofSeconds(20));
            int pieces = 80;
            int pieceSize = 8 * 1024;
            long size = (long) pieces * pieceSize;
            c.send("POST /upload-while-draining HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nX-Request-Id: drain-upload\r\nTransfer-Encoding: chunked\r\n\r\n");
            CompletableFuture<Boolean> sent = background(() -> {
                byte[] piece = new byte[pieceSize];
                for (int i = 0; i < pieces; i++) {
                    PatternBytes.fill(piece, 0, pieceSize, (long) i * pieceSize);
                    c.send((Integer.toHexString(pieceSize) + "\r\n").getBytes(ISO_8859_1));
                    c.send(piece);
                    c.send("\r\n");
                    Thread.sleep(50);
                }
                c.send("0\r\n\r\n");
                return true;
            });
            harness.upstream().awaitHeads(1, Duration.ofSeconds(10)); // streamed: the upload is in flight upstream
            Thread.sleep(1000);
            assertThat(sent).as("still uploading when SIGTERM comes").isNotDone();
            gateway.signal("TERM");

            RawResponse r = c.readResponse();
            assertThat(r.status()).as("an upload in flight at SIGTERM:%n%s", r).isEqualTo(200);
            assertThat(sent.get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(r.header("X-Echo-Body-Sha256")).contains(PatternBytes.sha256(size));
            RecordedRequest up = harness.upstream().awaitSingleRequest();
            assertThat(up.bodyLength()).isEqualTo(size);
            assertThat(up.bodySha256()).isEqualTo(PatternBytes.sha256(size));
            assertThat(c.await(Duration.ofSeconds(3))).as("closed after its response while draining")
                    .isEqualTo(RawHttp.State.CLOSED);
            assertThat(gateway.process().waitFor(10, TimeUnit.SECONDS)).as("exits once drained").isTrue();
            assertThat(gateway.process().exitValue()).as("output:%n%s", gateway.output()).isZero();
        }
    }

    /**
     * README "The jar": the process exits "once in-flight requests have finished (at most drain_timeout)". A client
     * that would need ~30 s to read an 8 MiB response keeps getting bytes during the 3 s drain, is cut at its end
     * (not left hanging, and not handed the whole response), and the process exits 0.
     */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void sigtermCutsAReaderSlowerThanDrainTimeoutAtDrainTimeoutAndExitsZero() throws Exception {
        try (GatewayProcess gateway = startProcess("3s")) {
            int port = gateway.port();
            String host = "127.0.0.1:" + port;
            long size = 8 * MIB;
            RawHttp slow = RawHttp.connect(port, CLIENT_RCVBUF);
            opened.add(slow);
            slow.send(raw("GET /_up/bytes/" + size, host, "drain-cut"));
            RawResponse head = slow.readHead();
            assertThat(head.status()).isEqualTo(200);
            PacedInputStream paced = new PacedInputStream(slow.inputStream(), 250_000);
            MessageDigest md = PatternBytes.sha256Digest();
            long before = readInto(paced, 128 * KIB, md);

            long t0 = System.nanoTime();
            gateway.signal("TERM");
            AtomicLong afterSigterm = new AtomicLong();
            CompletableFuture<Long> endedAt = background(() -> {
                byte[] buf = new byte[16 * 1024];
                try {
                    for (int k; (k = paced.read(buf, 0, buf.length)) >= 0; ) {
                        afterSigterm.addAndGet(k);
                    }
                } catch (SocketTimeoutException e) {
                    return -1L; // left hanging
                } catch (IOException reset) {
                    // cut
                }
                return System.nanoTime();
            });
            Thread.sleep(1500);
            assertThat(gateway.process().isAlive()).as("still draining 1.5 s into a 3 s drain_timeout").isTrue();
            assertThat(gateway.process().waitFor(10, TimeUnit.SECONDS)).as("exits by drain_timeout plus a margin")
                    .isTrue();
            Duration exitedAfter = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(gateway.process().exitValue()).as("output:%n%s", gateway.output()).isZero();
            assertThat(exitedAfter).as("SIGTERM to exit with drain_timeout 3 s").isLessThan(Duration.ofSeconds(9));
            long end = endedAt.get(15, TimeUnit.SECONDS);
            assertThat(end).as("the cut client's connection ends (EOF or reset), it is not left waiting")
                    .isPositive();
            assertThat(afterSigterm.get()).as("bytes the slow reader still got during the drain (more than any buffer)")
                    .isGreaterThan(448 * KIB);
            assertThat(before + afterSigterm.get()).as("a cut response is never delivered whole").isLessThan(size);
        }
    }

    // ------------------------------------------------------------------ WebSocket tunnels

    /**
     * README "Proxying" (WebSocket): "A tunnel ends when no byte moves either way for limits.idle_timeout"; bytes a slow
     * client takes are movement. An upstream that sends 3 MiB down a tunnel to a client reading ~500 KB/s (6 s,
     * idle_timeout 1500 ms) gets all of it across, and the tunnel is not ended as tunnel_idle meanwhile.
     */
    @Test
    void aTunnelWhoseClientReadsSlowlyButSteadilyIsNotCut() throws Exception {
        start("1500ms");
        long size = 3 * MIB;
        CountDownLatch release = new CountDownLatch(1);
        opened.add(release::countDown);
        harness.upstream().handler(req -> (rq, out) -> {
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(ISO_8859_1));
            out.flush();
            PatternBytes.writeTo(out, size); // frames are not parsed: any bytes go through the tunnel
            out.flush();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        });
        RawHttp c = connect(CLIENT_RCVBUF);
        c.send(h("GET /ws HTTP/1.1\r\nHost: {H}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Request-Id: ws-slow\r\n\r\n"));
        RawResponse head = c.readHead();
        assertThat(head.status()).as("%s", head).isEqualTo(101);
        long start = System.nanoTime();
        MessageDigest md = PatternBytes.sha256Digest();
        long got = readInto(new PacedInputStream(c.inputStream(), 500_000), size, md);
        Duration took = since(start);
        assertThat(got).as("tunnelled bytes read before the tunnel ended (after %s)", took).isEqualTo(size);
        assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(PatternBytes.sha256(size));
        assertThat(took).isGreaterThan(Duration.ofSeconds(3));
        release.countDown();
        assertThat(drainToEnd(c, Duration.ofSeconds(5))).as("the tunnel ends with its upstream").isZero();
        JsonNode line = access.jsonLineFor("ws-slow");
        assertThat(line.path("status").asInt()).as("%s", line).isEqualTo(101);
        assertThat(errorOf(line)).as("%s", line).isNotEqualTo(Optional.of("tunnel_idle"));
        assertThat(line.path("bytes_out").asLong()).as("%s", line).isGreaterThanOrEqualTo(size);
    }

    /**
     * The other direction, with a real WebSocket server (Netty's, echoing): a client that uploads a 768 KiB binary
     * message in 8 KiB pieces every 40 ms (~4 s, idle_timeout 1500 ms), then reads the echo at ~250 KB/s (~3 s), is
     * not cut and gets the message back intact.
     */
    @Test
    void aTunnelWhoseClientSendsAndReadsALargeMessageSlowlyIsNotCut() throws Exception {
        try (WebSocketEchoServer echo = WebSocketEchoServer.start()) {
            gw = harness.startYaml(dir, CONFIG, Map.of("IDLE", "1500ms", "UPSTREAM_PORT", Integer.toString(echo.port())));
            RawHttp c = connect(CLIENT_RCVBUF);
            c.send(h("GET " + WebSocketEchoServer.PATH + " HTTP/1.1\r\nHost: {H}\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nX-Request-Id: ws-echo\r\n\r\n"));
            RawResponse head = c.readHead();
            assertThat(head.status()).as("%s", head).isEqualTo(101);
            InputStream in = c.inputStream();
            assertThat(readFrame(in)).as("the server's greeting").isEqualTo("welcome".getBytes(ISO_8859_1));

            int size = 768 * 1024;
            byte[] message = PatternBytes.bytes(size);
            byte[] mask = {0x11, 0x22, 0x33, 0x44};
            ByteArrayOutputStream frameHead = new ByteArrayOutputStream();
            frameHead.write(0x82); // FIN, binary
            frameHead.write(0x80 | 127); // masked, 64-bit length
            for (int i = 7; i >= 0; i--) {
                frameHead.write((int) ((long) size >>> (8 * i)) & 0xff);
            }
            frameHead.write(mask);
            c.send(frameHead.toByteArray());
            long start = System.nanoTime();
            int piece = 8 * 1024;
            for (int off = 0; off < size; off += piece) {
                byte[] p = new byte[piece];
                for (int i = 0; i < piece; i++) {
                    p[i] = (byte) (message[off + i] ^ mask[(off + i) & 3]);
                }
                c.send(p);
                Thread.sleep(40);
            }
            Duration sending = since(start);
            byte[] echoed = readFrame(new PacedInputStream(in, 250_000));
            Duration took = since(start);
            assertThat(sending).as("the upload spanned several idle periods").isGreaterThan(Duration.ofSeconds(3));
            assertThat(echoed.length).as("echoed bytes (after %s)", took).isEqualTo(size);
            assertThat(echoed).isEqualTo(message);
        }
    }

    // ------------------------------------------------------------------ helpers

    private void start(String idle) throws Exception {
        gw = harness.startYaml(dir, CONFIG, Map.of("IDLE", idle));
    }

    private GatewayProcess startProcess(String drain) throws Exception {
        Path file = Files.createTempFile(dir, "policy-", ".yaml");
        Files.writeString(file, harness.fill(PROCESS_CONFIG, Map.of("IDLE", "10s", "DRAIN", drain)));
        GatewayProcess gateway = GatewayProcess.start(file, Map.of(), List.of());
        try {
            return gateway.awaitListening();
        } catch (Throwable t) {
            gateway.close();
            throw t;
        }
    }

    private RawHttp connect() throws IOException {
        return connect(-1);
    }

    private RawHttp connect(int receiveBuffer) throws IOException {
        RawHttp c = RawHttp.connect(gw.port(), receiveBuffer);
        c.readTimeout(Duration.ofSeconds(10));
        opened.add(c);
        return c;
    }

    private String h(String text) {
        return text.replace("{H}", gw.authority());
    }

    private String get(String target, String requestId) {
        return raw("GET " + target, gw.authority(), requestId);
    }

    private static String raw(String methodAndTarget, String host, String requestId) {
        return methodAndTarget + " HTTP/1.1\r\nHost: " + host + "\r\nX-Request-Id: " + requestId + "\r\n\r\n";
    }

    private static List<String> paths() {
        return harness.upstream().requests().stream().map(RecordedRequest::path).toList();
    }

    private void assertFreshClientServed() throws IOException {
        try (RawHttp fresh = gw.raw()) {
            RawResponse r = fresh.send(get("/fresh", "fresh")).readResponse();
            assertThat(r.status()).as("a fresh client afterwards: %s", r).isEqualTo(200);
        }
    }

    /** The access line's {@code error}, if it has one (absent or null: none). */
    private static Optional<String> errorOf(JsonNode line) {
        JsonNode e = line.path("error");
        return e.isMissingNode() || e.isNull() ? Optional.empty() : Optional.of(e.asText());
    }

    /** The JSON line of {@code requestId} in a gateway process's output, waited for up to 10 s. */
    private static JsonNode processLine(GatewayProcess gateway, String requestId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (String l : gateway.output().split("\n")) {
                if (l.startsWith("{") && l.contains(requestId)) {
                    JsonNode n = JSON.readTree(l);
                    if (requestId.equals(n.path("request_id").asText(null))) {
                        return n;
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no access line for " + requestId + " in:\n" + gateway.output());
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static <T> CompletableFuture<T> background(Callable<T> task) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return task.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, BACKGROUND);
    }

    /** Reads and drops what arrives until EOF or reset (returns the bytes) or {@code within} passes (-1). */
    private static long drainToEnd(RawHttp c, Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            c.readTimeout(Duration.ofMillis(Math.max(1, left / 1_000_000)));
            try {
                int k = c.inputStream().read(buf);
                if (k < 0) {
                    return n;
                }
                n += k;
            } catch (SocketTimeoutException e) {
                return -1;
            } catch (SocketException reset) {
                return n;
            }
        }
        return -1;
    }

    /** Reads up to {@code n} bytes into {@code md}; returns how many arrived before EOF, a reset or a timeout. */
    private static long readInto(InputStream in, long n, MessageDigest md) throws IOException {
        byte[] buf = new byte[16 * 1024];
        long got = 0;
        try {
            while (got < n) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, n - got));
                if (k < 0) {
                    break;
                }
                md.update(buf, 0, k);
                got += k;
            }
        } catch (SocketException | SocketTimeoutException cut) {
            // the connection ended under the reader: the caller asserts on the count
        }
        return got;
    }

    /** A response body as read: its length, whether it ended exactly at its framing, and its SHA-256. */
    private record Body(long length, boolean complete, String sha256) {}

    /**
     * Reads the body that follows {@code head} (Content-Length or chunked) from {@code in}, at most {@code limit}
     * bytes of it.
     */
    private static Body readBody(RawResponse head, InputStream in, long limit) throws IOException {
        MessageDigest md = PatternBytes.sha256Digest();
        boolean chunked = head.header("Transfer-Encoding").map(v -> v.toLowerCase().contains("chunked")).orElse(false);
        if (!chunked) {
            long cl = Long.parseLong(head.header("Content-Length").orElseThrow(
                    () -> new AssertionError("no framing: " + head)).trim());
            long want = Math.min(cl, limit);
            long got = readInto(in, want, md);
            return new Body(got, got == cl, HexFormat.of().formatHex(md.digest()));
        }
        long got = 0;
        try {
            while (got < limit) {
                String sizeLine = line(in);
                int semi = sizeLine.indexOf(';');
                long chunk = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
                if (chunk == 0) {
                    while (!line(in).isEmpty()) {
                        // trailer fields
                    }
                    return new Body(got, true, HexFormat.of().formatHex(md.digest()));
                }
                long want = Math.min(chunk, limit - got);
                long k = readInto(in, want, md);
                got += k;
                if (k < want) {
                    break;
                }
                if (want == chunk && !line(in).isEmpty()) {
                    throw new IOException("no CRLF after a chunk");
                }
            }
        } catch (EOFException | SocketException | SocketTimeoutException cut) {
            // ended under the reader
        }
        return new Body(got, false, HexFormat.of().formatHex(md.digest()));
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new EOFException("EOF in a line: " + sb);
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    /** Reads one unmasked server frame (any opcode, no fragmentation) and returns its payload. */
    private static byte[] readFrame(InputStream in) throws IOException {
        int b0 = in.read();
        int b1 = in.read();
        if (b0 < 0 || b1 < 0) {
            throw new EOFException("EOF before a frame");
        }
        long len = b1 & 0x7f;
        if (len == 126) {
            len = ((long) in.read() << 8) | in.read();
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | in.read();
            }
        }
        byte[] payload = new byte[(int) len];
        int off = 0;
        try {
            while (off < len) {
                int k = in.read(payload, off, (int) Math.min(16 * 1024, len - off));
                if (k < 0) {
                    break;
                }
                off += k;
            }
        } catch (SocketException | SocketTimeoutException cut) {
            // return what arrived
        }
        return off == len ? payload : java.util.Arrays.copyOf(payload, off);
    }
}
