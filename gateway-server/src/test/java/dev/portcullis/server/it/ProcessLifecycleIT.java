package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a child process: signals reach it as operators send them. SIGHUP must not
 * terminate it; SIGTERM drains and exits 0 (SPEC 2). A SIGHUP inherited as ignored is reported at start.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessLifecycleIT {
    private static final Pattern LISTENING =
            Pattern.compile("listening on \\\\?/127\\.0\\.0\\.1:(\\d+) \\(admin \\\\?/127\\.0\\.0\\.1:(\\d+)\\)");

    /** A started jar: its process, its output so far, and its (public, admin) ports once it listens. */
    private record Launched(Process process, List<String> lines, CompletableFuture<int[]> ports) {}

    @Test
    void sighupDoesNotStopTheGatewayAndSigtermExitsZero(@TempDir Path dir) throws Exception {
        // every signal at its default disposition, whatever the runner inherited (nohup ignores SIGHUP,
        // a background job SIGINT)
        Launched gateway = launch(dir, "env", "--default-signal");
        Process process = gateway.process();
        List<String> lines = gateway.lines();
        try {
            int[] bound = gateway.ports().get(20, TimeUnit.SECONDS);
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            URI readyz = URI.create("http://127.0.0.1:" + bound[1] + "/readyz");
            assertThat(status(client, readyz)).isEqualTo(200);
            assertThat(lines).as("no ignored-SIGHUP warning").noneMatch(l -> l.contains("SIGHUP is ignored"));

            signal("HUP", process.pid());
            Thread.sleep(500);
            assertThat(process.isAlive()).as("alive after SIGHUP; output: %s", lines).isTrue();
            assertThat(status(client, readyz)).isEqualTo(200);

            signal("TERM", process.pid());
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
            assertThat(process.exitValue()).as("exit code after SIGTERM; output: %s", lines).isZero();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void aSighupIgnoredSinceStartIsReportedWithTheOtherWaysToReload(@TempDir Path dir) throws Exception {
        // as under nohup: the JVM cannot handle a SIGHUP its parent made it inherit as ignored
        Launched gateway = launch(dir, "bash", "-c", "trap '' HUP; exec \"$0\" \"$@\"");
        try {
            gateway.ports().get(20, TimeUnit.SECONDS);
            assertThat(gateway.lines()).as("output").anyMatch(l -> l.contains("SIGHUP is ignored by this process")
                    && l.contains("/reload") && l.contains("watch: true"));
            signal("TERM", gateway.process().pid());
            assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
        } finally {
            gateway.process().destroyForcibly();
        }
    }

    /** Starts the packaged jar on a minimal config, through {@code prefix} (a command that execs the rest). */
    private static Launched launch(Path dir, String... prefix) throws IOException {
        Path jar = Path.of("target", "portcullis.jar");
        assertThat(jar).as("the packaged jar (mvn package runs before the ITs)").exists();
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
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(prefix));
        command.addAll(List.of(java, "-jar", jar.toString(), "run", "-c", config.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<int[]> ports = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                    }
                }
                ports.completeExceptionally(new AssertionError("the gateway ended before it listened: " + lines));
            } catch (IOException e) {
                ports.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        return new Launched(process, lines, ports);
    }

    private static int status(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void signal(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }
}
