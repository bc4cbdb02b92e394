package dev.portcullis.server.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.UpstreamServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * README "Limits": clients that request a response and never read it cannot hold more than half of Netty's direct
 * memory between them; past it the connections stalled longest are closed, and everyone else is served. Runs the
 * packaged gateway in a child JVM with the image's heap flags and 16 MiB of direct memory. Before the budget, some
 * 300 such connections (about 56 KB each) filled the direct memory, and a fresh request then failed or waited until
 * {@code idle_timeout} ended them.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StalledReadersIT {
    private static final int STALLED = 400;
    private static final List<String> IMAGE_FLAGS_SMALL_DIRECT = List.of("-Xms32m", "-Xmx64m", "-XX:+UseSerialGC",
            "-XX:MaxDirectMemorySize=16m", "-XX:+ExitOnOutOfMemoryError");
    private static final Pattern DIRECT_USED = Pattern.compile("(?m)^netty_direct_memory_used_bytes (\\S+)$");

    private final List<Socket> opened = new ArrayList<>();
    private UpstreamServer upstream;

    @AfterEach
    void closeAll() {
        for (Socket s : opened) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    /**
     * 1 MiB: the exchange is in flight, relaying paused for the client (client_stalled in the access line); 48 KiB:
     * the whole response was handed to the connection, which holds it below its high water mark.
     */
    @ParameterizedTest
    @ValueSource(ints = {1024 * 1024, 48 * 1024})
    void clientsThatNeverReadCannotStarveOthersAndTheOldestAreClosed(int responseSize, @TempDir Path dir)
            throws Exception {
        upstream = UpstreamServer.start();
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, policy(upstream.port()), StandardCharsets.UTF_8);
        try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), IMAGE_FLAGS_SMALL_DIRECT)) {
            gateway.awaitListening();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            for (int i = 0; i < STALLED; i++) {
                opened.add(stalledReader(gateway.port(), responseSize, i));
                if (i % 20 == 19) {
                    // a steady stream of them, as they pile up until idle_timeout; a burst of hundreds of large
                    // responses at once needs that much direct memory beside the stalled ones' half (README)
                    Thread.sleep(200);
                }
            }
            Thread.sleep(1_000); // let the last responses fill what their non-readers hold
            String observed = String.format("%d non-reading clients of %d B responses, Netty direct memory used: %s",
                    STALLED, responseSize, directUsed(client, gateway.adminPort()));

            long start = System.nanoTime();
            int status;
            try {
                status = get(client, "http://127.0.0.1:" + gateway.port() + "/_up/bytes/100").statusCode();
            } catch (IOException e) {
                throw new AssertionError("a fresh client was not served: " + e + "; " + observed, e);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(status).as(observed).isEqualTo(200);
            assertThat(took).as(observed).isLessThan(Duration.ofSeconds(2));
            assertThat(gateway.process().isAlive()).as(observed).isTrue();

            for (int i = 0; i < 40; i++) {
                assertThat(closedWithin(opened.get(i), Duration.ofSeconds(5)))
                        .as("the non-reader opened %dth of %d was among the oldest stalled, and closed; %s", i,
                                STALLED, observed).isTrue();
            }
            for (int i = STALLED - 10; i < STALLED; i++) {
                assertThat(closedWithin(opened.get(i), Duration.ofSeconds(1)))
                        .as("the non-reader opened %dth of %d stalled last and was kept; %s", i, STALLED, observed)
                        .isFalse();
            }
            String output = gateway.output();
            assertThat(output).as(observed).contains("clients that do not read hold over")
                    .doesNotContain("OutOfDirectMemoryError").doesNotContain("OutOfMemoryError");
            if (responseSize > 64 * 1024) {
                assertThat(count(output, "\"error\":\"client_stalled\"")).as(observed).isGreaterThanOrEqualTo(40);
            }
        }
    }

    private static Socket stalledReader(int port, int size, int i) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        s.getOutputStream().write(("GET /_up/bytes/" + size + " HTTP/1.1\r\nHost: gw\r\nX-Request-Id: stalled-" + i
                + "\r\n\r\n").getBytes(ISO_8859_1));
        return s;
    }

    /**
     * Reads what the connection has (a closed one still delivers what the kernel held) until it ends (true), or
     * nothing arrives for {@code quiet}, or more than 256 KiB did (false: it is open and being served).
     */
    private static boolean closedWithin(Socket s, Duration quiet) throws IOException {
        s.setSoTimeout((int) quiet.toMillis());
        InputStream in = s.getInputStream();
        byte[] buf = new byte[16 * 1024];
        long total = 0;
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
                if (total > 256 * 1024) {
                    return false;
                }
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        }
    }

    private static HttpResponse<String> get(HttpClient client, String uri) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Netty's direct memory in use, from the admin port's metrics; the failure when they cannot be had. */
    private static String directUsed(HttpClient client, int adminPort) {
        try {
            Matcher m = DIRECT_USED.matcher(get(client, "http://127.0.0.1:" + adminPort + "/metrics").body());
            return m.find() ? String.format("%.1f MiB", Double.parseDouble(m.group(1)) / (1 << 20)) : "?";
        } catch (Exception e) {
            return "(metrics failed: " + e + ")";
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    private static String policy(int upstreamPort) {
        return """
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:%d"
                  response_timeout: 60s
                  max_connections: 2000
                limits:
                  idle_timeout: 120s
                default: allow
                rules: []
                """.formatted(upstreamPort);
    }
}
