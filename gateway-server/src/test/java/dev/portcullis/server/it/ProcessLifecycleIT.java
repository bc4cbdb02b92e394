package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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

    /** A minimal config: allow everything, in front of a port nothing listens on. */
    private static Path config(Path dir) throws IOException {
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:9\"",
                "default: allow",
                "rules: []",
                ""));
        return config;
    }

    private static int status(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
