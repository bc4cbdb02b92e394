package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.PacedInputStream;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.epoll.Epoll;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** limits.header_timeout (408, slowloris), limits.idle_timeout and limits.max_connections. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClientConnectionIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void answers408AndClosesWhenTheHeadIsNotCompleteWithinHeaderTimeout() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // header_timeout: 1s
        try (RawHttp raw = gw.raw()) {
            long start = System.nanoTime();
            raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Slow: ");
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            GatewayAssertions.assertGatewayError(r, 408);
            assertThat(took).isBetween(Duration.ofMillis(800), Duration.ofSeconds(5));
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("connection closed after 408").isTrue();
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void answers408ToASlowlorisThatKeepsSendingHeaderBytes() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // header_timeout: 1s
        LogCapture access = LogCapture.attach("portcullis.access");
        try (RawHttp raw = gw.raw()) {
            long start = System.nanoTime();
            raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\n");
            // one header line every 200 ms: the connection is never idle, but the head never completes
            for (int i = 0; i < 25 && raw.inputStream().available() == 0; i++) {
                try {
                    raw.send("X-Drip-" + i + ": 1\r\n");
                } catch (IOException closedByGateway) {
                    break;
                }
                Thread.sleep(200);
            }
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(r.status()).as("a head dripping for longer than header_timeout:%n%s", r).isEqualTo(408);
            assertThat(took).as("408 comes about header_timeout after the first byte").isLessThan(Duration.ofSeconds(3));
            JsonNode line = access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
            assertThat(line.path("reason").asText()).isEqualTo("header_timeout");
            assertThat(line.path("duration_ms").asDouble()).as("logged from the head's first byte: %s", line)
                    .isBetween(900.0, took.toMillis() + 1.0);
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void closesAKeptAliveConnectionAfterIdleTimeout() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /x HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(raw.awaitClosed(Duration.ofMillis(700))).as("still open well before idle_timeout").isFalse();
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("closed after idle_timeout").isTrue();
        }
    }

    @Test
    void doesNotCloseAConnectionWaitingForASlowUpstream() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms, response_timeout: 20s
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /_up/delay/2500 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse();
            assertThat(r.status()).as("a request in flight is not an idle connection").isEqualTo(200);
        }
    }

    @Test
    void doesNotCutAResponseThatStreamsLongerThanIdleTimeout() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        harness.upstream().handler(req -> Reply.slowBody(10, 1024, Duration.ofMillis(300)));
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send("GET /slow-body HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).as("a 3 s response body").isEqualTo(PatternBytes.bytes(10 * 1024));
        }
    }

    /**
     * A client that stops reading a response (as nginx's send_timeout): once the gateway can write no more to it,
     * it waits idle_timeout, then ends the exchange and closes the upstream connection, so that clients that read
     * nothing cannot hold the upstream pool.
     */
    @Test
    void disconnectsAClientThatStopsReadingTheResponseAndClosesItsUpstreamConnection() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        LogCapture access = LogCapture.attach("portcullis.access");
        int openBefore = harness.upstream().openConnections();
        try (RawHttp raw = RawHttp.connect(gw.port(), 16 * 1024)) {
            long start = System.nanoTime();
            raw.send("GET /_up/bytes/" + (512L << 20) + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);

            JsonNode line = access.jsonLineFor(head.header("X-Request-Id").orElseThrow());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(line.path("error").asText()).as("%s", line).isEqualTo("client_stalled");
            assertThat(line.path("status").asInt()).isEqualTo(200);
            assertThat(took).as("ended idle_timeout after the client stopped taking bytes")
                    .isBetween(Duration.ofMillis(1400), Duration.ofSeconds(8));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (harness.upstream().openConnections() > openBefore && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(harness.upstream().openConnections()).as("the upstream connection is closed")
                    .isLessThanOrEqualTo(openBefore);
            assertThat(drainedToTheEnd(raw, Duration.ofSeconds(10))).as("the client connection is closed").isTrue();
        } finally {
            access.detach();
        }
    }

    /**
     * A client taking a large response slowly but steadily (~500 KB/s) is not "stalled": the kernel's send buffer
     * (which Linux grows to megabytes) does not hide its progress from the gateway (before: cut off after
     * idle_timeout as client_stalled, with megabytes of the response unsent).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aSlowButSteadyReaderGetsAllOfALargeResponse(boolean pipelined) throws Exception {
        assumeTrue(Epoll.isAvailable(), "TCP_NOTSENT_LOWAT is an epoll option (README \"Proxying\": not with NIO)");
        readsTheWholeResponseSlowly(4 << 20, 500_000, pipelined);
    }

    /**
     * Draining (SIGTERM) while a slow client is in the middle of a large response: the exchange ends once the gateway
     * has handed its last byte over, but the connection closes only once those bytes are written (within
     * drain_timeout), so the client gets the whole response.
     */
    @Test
    void drainingFinishesWritingTheResponseOfASlowClient() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml");
        int size = 1 << 20;
        try (RawHttp raw = RawHttp.connect(gw.port(), 64 * 1024)) {
            raw.send("GET /_up/bytes/" + size + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(raw.readHead().status()).isEqualTo(200);
            CompletableFuture<?>[] draining = new CompletableFuture<?>[1];
            ByteArrayOutputStream body = readSlowly(raw, size, 125_000, read -> {
                if (draining[0] == null && read > 128 * 1024) {
                    draining[0] = CompletableFuture.runAsync(() -> gw.server().drain(Duration.ofSeconds(30)));
                }
            });

            assertThat(body.size()).as("bytes of the response read before the connection ended").isEqualTo(size);
            assertThat(body.toByteArray()).isEqualTo(PatternBytes.bytes(size));
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).as("closed after the response").isTrue();
            assertThat(draining[0]).isNotNull();
            draining[0].get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Draining (SIGTERM) once nothing is in flight but a slow client is still taking the last response: the drain
     * waits (within drain_timeout) until that response is written before it closes the connection (before: closed at
     * once, dropping what the gateway had not written yet).
     */
    @Test
    void drainingWaitsForTheRestOfTheLastResponseOfASlowClient() throws Exception {
        Gateway gw = harness.start("default-allow.yaml"); // the default idle_timeout (60 s)
        LogCapture access = LogCapture.attach("portcullis.access");
        int size = 256 * 1024;
        try (RawHttp raw = RawHttp.connect(gw.port(), 64 * 1024)) {
            raw.send("GET /_up/bytes/" + size + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            String id = head.header("X-Request-Id").orElseThrow();
            CompletableFuture<?>[] draining = new CompletableFuture<?>[1];
            ByteArrayOutputStream body = readSlowly(raw, size, 50_000, read -> {
                if (draining[0] == null && access.text().contains(id)) { // its exchange ended: nothing in flight
                    draining[0] = CompletableFuture.runAsync(() -> gw.server().drain(Duration.ofSeconds(30)));
                }
            });

            assertThat(draining[0]).as("the drain began after the exchange ended").isNotNull();
            assertThat(body.size()).as("bytes of the response read before the connection ended").isEqualTo(size);
            assertThat(body.toByteArray()).isEqualTo(PatternBytes.bytes(size));
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).as("closed after the response").isTrue();
            draining[0].get(10, TimeUnit.SECONDS);
        } finally {
            access.detach();
        }
    }

    /**
     * Draining (SIGTERM) while a keep-alive response is streaming, its head sent before the drain began (so without
     * {@code Connection: close}), and another exchange keeps the drain going: the connection closes once that response
     * ends, rather than staying open to answer the client's next request with 503 (README: "closes the others after
     * their current response").
     */
    @Test
    void drainingClosesAKeepAliveConnectionOnceItsResponseEnds() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        harness.upstream().handler(req -> req.path().equals("/slow")
                ? Reply.delayed(Duration.ofSeconds(4), Reply.fixed(200, "OK", List.of(), new byte[0]))
                : Reply.slowBody(5, 2, Duration.ofMillis(200)));
        try (RawHttp holding = RawHttp.connect(gw.port()); RawHttp streaming = RawHttp.connect(gw.port())) {
            holding.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            streaming.send("GET /drip HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = streaming.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.connectionTokens()).as("the head left before the drain").doesNotContain("close");
            CompletableFuture<?> draining = CompletableFuture.runAsync(() -> gw.server().drain(Duration.ofSeconds(30)));

            byte[] body = streaming.inputStream().readNBytes(10);
            assertThat(body).isEqualTo(PatternBytes.bytes(10));
            assertThat(streaming.awaitClosed(Duration.ofSeconds(2))).as("closed once its response ended").isTrue();
            assertThat(draining.isDone()).as("the drain still waits for /slow").isFalse();

            assertThat(holding.readResponse().status()).as("the exchange that held the drain").isEqualTo(200);
            draining.get(10, TimeUnit.SECONDS);
        }
    }

    private static void readsTheWholeResponseSlowly(int size, long rate, boolean pipelined) throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        try (RawHttp raw = RawHttp.connect(gw.port(), 64 * 1024)) {
            String next = pipelined ? "GET /second HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n" : "";
            raw.send("GET /_up/bytes/" + size + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n" + next);
            assertThat(raw.readHead().status()).isEqualTo(200);
            ByteArrayOutputStream body = readSlowly(raw, size, rate, read -> { });

            assertThat(body.size()).as("bytes of the response read before the connection ended").isEqualTo(size);
            assertThat(body.toByteArray()).isEqualTo(PatternBytes.bytes(size));
            if (pipelined) {
                assertThat(raw.readResponse().status()).as("the pipelined request").isEqualTo(200);
            }
        }
    }

    /** Reads up to {@code size} body bytes at {@code rate} bytes/s, telling {@code progress} the total after each read. */
    private static ByteArrayOutputStream readSlowly(RawHttp raw, int size, long rate, IntConsumer progress)
            throws IOException {
        InputStream in = new PacedInputStream(raw.inputStream(), rate);
        ByteArrayOutputStream body = new ByteArrayOutputStream(size);
        byte[] chunk = new byte[16 * 1024];
        while (body.size() < size) {
            int n = in.read(chunk, 0, Math.min(chunk.length, size - body.size()));
            if (n < 0) {
                break;
            }
            body.write(chunk, 0, n);
            progress.accept(body.size());
        }
        return body;
    }

    /** Reads what is buffered until the connection ends (true) or {@code within} passed (false). */
    private static boolean drainedToTheEnd(RawHttp raw, Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        byte[] buf = new byte[64 * 1024];
        while (System.nanoTime() < deadline) {
            try {
                if (raw.inputStream().read(buf) < 0) {
                    return true;
                }
            } catch (java.net.SocketException reset) {
                return true;
            }
        }
        return false;
    }

    @Test
    void doesNotApplyHeaderTimeoutToTheBody() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // header_timeout: 1s
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /slow-upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 5; i++) {
                Thread.sleep(500);
                raw.send("4\r\npart\r\n");
            }
            raw.send("0\r\n\r\n");
            RawResponse r = raw.readResponse();
            assertThat(r.status()).as("a body arriving over 2.5 s after a complete head").isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("part".repeat(5));
        }
    }

    @Test
    void refusesConnectionsPastMaxConnections() throws Exception {
        Gateway gw = harness.start("client-connections.yaml"); // max_connections: 2
        RawHttp first = gw.raw();
        RawHttp second = gw.raw();
        try {
            assertThat(first.send(get(gw, "/1")).readResponse().status()).isEqualTo(200);
            assertThat(second.send(get(gw, "/2")).readResponse().status()).isEqualTo(200);

            try (RawHttp third = gw.raw()) {
                Integer status = null;
                try {
                    third.send(get(gw, "/3"));
                    status = third.readResponse().status();
                } catch (IOException refused) {
                    // closed or reset: refused
                }
                assertThat(status).as("a third concurrent connection is refused (closed, or 503)").isIn(null, 503);
            }
            assertThat(harness.upstream().requests()).extracting(r -> r.target()).doesNotContain("/3");
        } finally {
            first.close();
        }
        try {
            // with one slot free again, a new connection is served (the gateway notices the close asynchronously)
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            Integer status = null;
            while (System.nanoTime() < deadline) {
                try (RawHttp again = gw.raw()) {
                    status = again.send(get(gw, "/4")).readResponse().status();
                    if (status == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    status = null;
                }
                Thread.sleep(50);
            }
            assertThat(status).isEqualTo(200);
        } finally {
            second.close();
        }
    }

    /**
     * A flood of connections past max_connections is one WARN line per 10 s, not one per refused connection (a soak
     * probe saw 3,000 lines for 3,000 refusals in 0.3 s); the next line says how many it stands for.
     */
    @Test
    void refusalsPastMaxConnectionsAreLoggedAtMostEveryTenSeconds() throws Exception {
        LogCapture log = LogCapture.attach("dev.portcullis.server.pipeline.ProxyChannelInitializer");
        Gateway gw = harness.start("client-connections.yaml"); // max_connections: 2
        try (RawHttp first = gw.raw(); RawHttp second = gw.raw()) {
            assertThat(first.send(get(gw, "/1")).readResponse().status()).isEqualTo(200);
            assertThat(second.send(get(gw, "/2")).readResponse().status()).isEqualTo(200);
            for (int i = 0; i < 50; i++) {
                try (RawHttp refused = gw.raw()) {
                    refused.awaitClosed(Duration.ofSeconds(5));
                } catch (IOException alreadyClosed) {
                    // refused as it connected
                }
            }
            List<String> lines = log.snapshot().stream().map(e -> e.getFormattedMessage())
                    .filter(m -> m.startsWith("refusing connection")).toList();
            assertThat(lines).as("one line for 50 refusals").hasSize(1);
            assertThat(lines.get(0)).contains("(limits.max_connections); 0 more refused since the last such line");
        } finally {
            log.detach();
        }
    }

    private static String get(Gateway gw, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
    }
}
