package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a child process: signals reach it as operators send them. SIGHUP must not
 * terminate it; SIGTERM drains and exits 0 (SPEC 2). A SIGHUP inherited as ignored is reported at start.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessLifecycleIT {

    @Test
    void sighupDoesNotStopTheGatewayAndSigtermExitsZero(@TempDir Path dir) throws Exception {
        try (GatewayProcess gateway = GatewayProcess.start(config(dir), Map.of(), List.of())) {
            Process process = gateway.process();
            gateway.awaitListening();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            URI readyz = URI.create("http://127.0.0.1:" + gateway.adminPort() + "/readyz");
            assertThat(status(client, readyz)).isEqualTo(200);
            assertThat(gateway.output()).as("no ignored-SIGHUP warning").doesNotContain("SIGHUP is ignored");

            gateway.signal("HUP");
            Thread.sleep(500);
            assertThat(process.isAlive()).as("alive after SIGHUP; output: %s", gateway.output()).isTrue();
            assertThat(status(client, readyz)).isEqualTo(200);

            gateway.signal("TERM");
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
            assertThat(process.exitValue()).as("exit code after SIGTERM; output: %s", gateway.output()).isZero();
        }
    }

    @Test
    void aSighupIgnoredSinceStartIsReportedWithTheOtherWaysToReload(@TempDir Path dir) throws Exception {
        // as under nohup: the JVM cannot handle a SIGHUP its parent made it inherit as ignored
        List<String> ignoringHup = List.of("bash", "-c", "trap '' HUP; exec \"$0\" \"$@\"");
        try (GatewayProcess gateway = GatewayProcess.start(ignoringHup, config(dir), Map.of(), List.of())) {
            gateway.awaitListening();
            assertThat(gateway.output().lines()).as("output")
                    .anyMatch(l -> l.contains("SIGHUP is ignored by this process") && l.contains("/reload")
                            && l.contains("watch: true"));
            gateway.signal("TERM");
            assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
        }
    }

    /**
     * A second SIGTERM while draining ends the drain at once, as nginx's fast shutdown: the request still in flight
     * (its upstream never answers) gets the gateway's 504 and the process exits 0, instead of waiting out
     * drain_timeout (30 s here).
     */
    @Test
    void aSecondSigtermEndsTheDrainAtOnce(@TempDir Path dir) throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // reads nothing, answers nothing
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Path config = config(dir, "http://127.0.0.1:" + silent.getLocalPort(), "drain_timeout: 30s");
            try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), List.of());
                    Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.awaitListening().port())) {
                client.setSoTimeout(10_000);
                client.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: gw\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (accepted.isEmpty() && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
                assertThat(accepted).as("the request reached the upstream").isNotEmpty();
                Socket upstreamSide = accepted.get(0);
                upstreamSide.setSoTimeout(10_000);
                assertThat(new BufferedReader(new InputStreamReader(upstreamSide.getInputStream(),
                        StandardCharsets.US_ASCII)).readLine()).as("its head, written there").startsWith("GET /slow ");

                gateway.signal("TERM");
                Thread.sleep(700);
                assertThat(gateway.process().isAlive()).as("draining, waiting for /slow").isTrue();
                long again = System.nanoTime();
                gateway.signal("TERM");

                String statusLine = new BufferedReader(new InputStreamReader(client.getInputStream(),
                        StandardCharsets.US_ASCII)).readLine();
                assertThat(statusLine).as("output: %s", gateway.output()).startsWith("HTTP/1.1 504 ");
                assertThat(gateway.process().waitFor(10, TimeUnit.SECONDS)).as("exited after the second SIGTERM")
                        .isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - again)).isLessThan(Duration.ofSeconds(10));
                assertThat(gateway.process().exitValue()).as("output: %s", gateway.output()).isZero();
                assertThat(gateway.output()).contains("received SIGTERM again");
            } finally {
                for (Socket socket : accepted) {
                    socket.close();
                }
            }
        }
    }

    /** A minimal config: allow everything, in front of a port nothing listens on. */
    private static Path config(Path dir) throws IOException {
        return config(dir, "http://127.0.0.1:9", "");
    }

    private static Path config(Path dir, String upstream, String extra) throws IOException {
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"" + upstream + "\"",
                "default: allow",
                "rules: []",
                extra,
                ""));
        return config;
    }

    private static int status(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
