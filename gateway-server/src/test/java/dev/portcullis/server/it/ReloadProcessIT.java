package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.UpstreamServer;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.8 / 2: the packaged jar as a child process reloads on {@code kill -HUP} and never dies from it:
 * a valid file is applied, an invalid one is rejected with {@code last_error}, a burst of signals ends on
 * the newest file, and SIGTERM still exits 0.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReloadProcessIT {
    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final Duration QUIET = Duration.ofMillis(500);

    private static String policy(int upstreamPort, String allowed) {
        return String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:" + upstreamPort + "\"",
                "default: deny",
                "rules:",
                "  - name: allow-" + allowed,
                "    match: { paths: [\"/" + allowed + "/**\"] }",
                "");
    }

    @Test
    void sighupReloadsRejectsInvalidFilesSurvivesABurstAndSigtermExitsZero(@TempDir Path dir) throws Exception {
        try (UpstreamServer upstream = UpstreamServer.start()) {
            String policyA = policy(upstream.port(), "a");
            String policyB = policy(upstream.port(), "b");
            Path config = dir.resolve("policy.yaml");
            Files.writeString(config, policyA, StandardCharsets.UTF_8);
            try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), List.of())) {
                Process process = gateway.process();
                int[] bound = {gateway.awaitListening().port(), gateway.adminPort()};
                int port = bound[0];
                ConfigAdmin admin = new ConfigAdmin(bound[1]);
                HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                assertThat(admin.config().path("version").asText()).isEqualTo(ConfigAdmin.version(policyA));
                assertDecidedBy("a", client, port);

                Files.writeString(config, policyB, StandardCharsets.UTF_8);
                gateway.signal("HUP");
                JsonNode applied = admin.awaitVersion(ConfigAdmin.version(policyB), DEADLINE);
                assertThat(applied.path("generation").asLong()).isEqualTo(2);
                assertThat(process.isAlive()).as("alive after SIGHUP; output: %s", gateway.output()).isTrue();
                assertDecidedBy("b", client, port);

                Files.writeString(config, policyA.replace("default: deny", "default: nope"), StandardCharsets.UTF_8);
                gateway.signal("HUP");
                JsonNode rejected = admin.await(c -> c.path("reloads").path("rejected").asLong() == 1, DEADLINE,
                        "one rejected reload");
                assertThat(rejected.path("version").asText()).isEqualTo(ConfigAdmin.version(policyB));
                assertThat(rejected.path("last_error").path("trigger").asText()).isEqualTo("SIGHUP");
                assertThat(rejected.path("last_error").path("problems").toString()).contains("nope");
                assertThat(process.isAlive()).as("alive after a rejected SIGHUP; output: %s", gateway.output()).isTrue();
                assertDecidedBy("b", client, port);

                String last = null;
                for (int i = 0; i < 50; i++) {
                    last = i % 2 == 0 ? policyA : policyB;
                    ConfigAdmin.replaceAtomically(config, last);
                    gateway.signal("HUP");
                }
                assertThat(last).isEqualTo(policyB);
                JsonNode settled = awaitSettled(admin, ConfigAdmin.version(last));
                assertThat(settled.path("reloads").path("applied").asLong()).isBetween(2L, 51L);
                assertThat(process.isAlive()).as("alive after 50 SIGHUPs; output: %s", gateway.output()).isTrue();
                assertDecidedBy("b", client, port);
                assertThat(status(client, URI.create("http://127.0.0.1:" + bound[1] + "/readyz"))).isEqualTo(200);

                gateway.signal("TERM");
                assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
                assertThat(process.exitValue()).as("exit code after SIGTERM; output: %s", gateway.output()).isZero();
            }
        }
    }

    /**
     * Waits until {@code version} is live, {@code last_error} is cleared and no reload has finished for
     * {@code QUIET} (signals of the burst may still be on their way when the last {@code kill} returns).
     */
    private static JsonNode awaitSettled(ConfigAdmin admin, String version) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        long reloads = -1;
        long stableSince = System.nanoTime();
        while (true) {
            JsonNode config = admin.config();
            long now = config.path("reloads").path("applied").asLong() + config.path("reloads").path("rejected").asLong();
            if (now != reloads) {
                reloads = now;
                stableSince = System.nanoTime();
            }
            boolean live = version.equals(config.path("version").asText()) && config.path("last_error").isNull();
            if (live && System.nanoTime() - stableSince >= QUIET.toNanos()) {
                return config;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not settled on " + version + " within " + DEADLINE + "; last: " + config);
            }
            Thread.sleep(20);
        }
    }

    /** The policy allowing {@code /allowed/**} decides: that path is proxied, the other one is denied 403. */
    private static void assertDecidedBy(String allowed, HttpClient client, int port) throws Exception {
        String other = allowed.equals("a") ? "b" : "a";
        assertThat(status(client, URI.create("http://127.0.0.1:" + port + "/" + allowed + "/x")))
                .as("/%s/x is allowed", allowed).isEqualTo(200);
        assertThat(status(client, URI.create("http://127.0.0.1:" + port + "/" + other + "/x")))
                .as("/%s/x is denied", other).isEqualTo(403);
    }

    private static int status(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
