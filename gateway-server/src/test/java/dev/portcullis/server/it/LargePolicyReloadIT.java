package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayProcess;
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
 * README "Errors in a config": in the Docker image's heap (64 MiB, the serial collector, out of memory ends the process),
 * policies at the edge of the rule-index budget reload again and again, and one past it is rejected while the gateway
 * keeps serving. Before the budget, a 9,000-rule policy ran the process out of memory; with a budget of a quarter of
 * the heap, the second reload of 4,500 rules still did.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LargePolicyReloadIT {
    private static final List<String> DOCKER_HEAP = List.of("-Xms32m", "-Xmx64m", "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError");

    @Test
    void policiesAtTheBudgetsEdgeReloadRepeatedlyAndOnePastItIsRejected(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, policy(1, "a"), StandardCharsets.UTF_8);
        try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), DOCKER_HEAP)) {
            gateway.awaitListening();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI reload = URI.create("http://127.0.0.1:" + gateway.adminPort() + "/reload");

            for (int i = 0; i < 4; i++) {
                // 3,300 rules of a path, two CIDRs and a required role: about 6.6 MiB estimated, under the 7.7 MiB
                Files.writeString(config, policy(3_300, i % 2 == 0 ? "a" : "b"), StandardCharsets.UTF_8);
                HttpResponse<String> answer = post(client, reload);
                assertThat(answer.statusCode()).as("reload %d: %s; output: %s", i, answer.body(), gateway.output())
                        .isEqualTo(200);
            }
            Files.writeString(config, policy(4_000, "c"), StandardCharsets.UTF_8);
            HttpResponse<String> refused = post(client, reload);
            assertThat(refused.statusCode()).as("output: %s", gateway.output()).isEqualTo(422);
            assertThat(refused.body()).contains("4000 rules would need up to", "(an eighth of the heap)");

            assertThat(gateway.process().isAlive()).as("output: %s", gateway.output()).isTrue();
            assertThat(gateway.output()).doesNotContain("OutOfMemoryError");
            URI readyz = URI.create("http://127.0.0.1:" + gateway.adminPort() + "/readyz");
            assertThat(client.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode()).isEqualTo(200);
        }
    }

    private static HttpResponse<String> post(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code n} rules, each with its own path, two CIDRs of its own and a required role; {@code v} varies the names. */
    private static String policy(int n, String v) {
        StringBuilder yaml = new StringBuilder("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:9"
                default: allow
                rules:
                """);
        for (int i = 0; i < n; i++) {
            yaml.append("  - name: r").append(i).append(v).append("\n    match: { paths: [\"/p").append(i).append(v)
                    .append("/**\"], ip: [\"10.").append(i % 250).append('.').append(i / 250 % 250)
                    .append(".0/24\", \"2001:db8:").append(Integer.toHexString(i)).append("::/48\"] }\n")
                    .append("    require: { roles: [role0] }\n");
        }
        return yaml.toString();
    }
}
