package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.8: reloads under load. Four keep-alive clients run for 10 s while the file is reloaded 20 times,
 * alternating two valid policies and an invalid one; no request fails, none gets a 5xx, and each answer is
 * what one of the two policies decides for it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReloadUnderLoadIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final Duration LOAD = Duration.ofSeconds(10);
    private static final int RELOADS = 20;
    private static final int CLIENTS = 4;

    /** A: /a/** proxied, /b/** hidden (404). */
    static final String POLICY_A = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            default: deny
            rules:
              - name: a-allowed
                match: { paths: ["/a/**"] }
              - name: b-hidden
                match: { paths: ["/b/**"] }
                action: deny
                deny_status: 404
            """;

    /** B: /b/** proxied, /a/** falls to default deny (403). */
    static final String POLICY_B = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            default: deny
            rules:
              - name: b-allowed
                match: { paths: ["/b/**"] }
            """;

    /** B with an invalid CIDR: rejected, whichever policy is live keeps deciding. */
    static final String INVALID = POLICY_B.replace("match: { paths: [\"/b/**\"] }",
            "match: { paths: [\"/b/**\"], ip: [\"300.0.0.0/8\"] }");

    /** Which policy an answer shows; null when neither would answer so. */
    private static Character decidedBy(boolean pathA, int status) {
        if (pathA) {
            return status == 200 ? 'A' : status == 403 ? 'B' : null;
        }
        return status == 404 ? 'A' : status == 200 ? 'B' : null;
    }

    @Test
    void noRequestFailsWhileThePolicyIsReloadedTwentyTimes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String a = harness.fill(POLICY_A, Map.of());
        String b = harness.fill(POLICY_B, Map.of());
        String invalid = harness.fill(INVALID, Map.of());
        Files.writeString(file, a);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        long end = System.nanoTime() + LOAD.toNanos();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicLong byA = new AtomicLong();
        AtomicLong byB = new AtomicLong();
        AtomicLong requests = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            Thread thread = new Thread(() -> runClient(gw, client, end, failures, byA, byB, requests),
                    "reload-load-" + c);
            thread.start();
            clients.add(thread);
        }

        long applied = 0;
        long rejected = 0;
        long start = System.nanoTime();
        for (int i = 1; i <= RELOADS; i++) {
            // pace the reloads over the load period (this paces the test, it does not wait for an effect)
            long at = start + (LOAD.toNanos() - Duration.ofSeconds(1).toNanos()) * i / RELOADS;
            long wait = at - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            String next = i % 3 == 1 ? b : i % 3 == 2 ? invalid : a;
            Files.writeString(file, next);
            ConfigAdmin.Answer answer = admin.reload();
            if (next.equals(invalid)) {
                assertThat(answer.status()).as("reload %d (invalid): %s", i, answer.body()).isEqualTo(422);
                rejected++;
            } else {
                assertThat(answer.status()).as("reload %d: %s", i, answer.body()).isEqualTo(200);
                assertThat(answer.body().path("version").asText()).isEqualTo(ConfigAdmin.version(next));
                applied++;
            }
        }
        for (Thread thread : clients) {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(thread.isAlive()).as("client %s finished", thread.getName()).isFalse();
        }

        assertThat(failures).as("failed or inconsistent requests out of %d", requests.get()).isEmpty();
        assertThat(requests.get()).isGreaterThan(100);
        assertThat(byA.get()).as("answers decided by A").isPositive();
        assertThat(byB.get()).as("answers decided by B").isPositive();
        JsonNode config = admin.config();
        assertThat(config.path("reloads").path("applied").asLong()).isEqualTo(applied);
        assertThat(config.path("reloads").path("rejected").asLong()).isEqualTo(rejected);
        assertThat(config.path("generation").asLong()).isEqualTo(1 + applied);
    }

    private static void runClient(Gateway gw, int client, long end, ConcurrentLinkedQueue<String> failures,
            AtomicLong byA, AtomicLong byB, AtomicLong requests) {
        RawHttp connection = null;
        long n = 0;
        try {
            while (System.nanoTime() < end && failures.size() < 20) {
                if (connection == null) {
                    connection = gw.raw();
                }
                boolean pathA = n % 2 == 0;
                String target = "/" + (pathA ? "a" : "b") + "/c" + client + "/" + n++;
                RawResponse response;
                try {
                    connection.send("GET " + target + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
                    response = connection.readResponse();
                } catch (IOException e) {
                    failures.add(target + ": " + e);
                    connection.close();
                    connection = null;
                    continue;
                }
                requests.incrementAndGet();
                Character by = decidedBy(pathA, response.status());
                if (by == null) {
                    failures.add(target + ": " + response.statusLine() + " fits neither policy");
                } else if (by == 'A') {
                    byA.incrementAndGet();
                } else {
                    byB.incrementAndGet();
                }
                if (response.connectionTokens().contains("close")) {
                    connection.close();
                    connection = null;
                }
            }
        } catch (IOException | RuntimeException e) {
            failures.add("client " + client + ": " + e);
        } finally {
            if (connection != null) {
                connection.close();
            }
        }
    }
}
