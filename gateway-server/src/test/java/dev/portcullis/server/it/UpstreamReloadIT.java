package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.8 / 3.7: a reload that changes {@code upstream.url} applies to new exchanges while keep-alive
 * clients run: no request fails, requests sent after the reload reach the new upstream, and the old
 * upstream's pooled connections drain.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamReloadIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final int CLIENTS = 4;
    private static final Duration PHASE = Duration.ofSeconds(2);

    private static String policy(int upstreamPort) {
        return """
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:PORT"
                default: allow
                rules: []
                """.replace("PORT", Integer.toString(upstreamPort));
    }

    @Test
    void aNewUpstreamUrlTakesEffectWithoutAFailedRequest(@TempDir Path dir) throws Exception {
        UpstreamServer first = harness.upstream();
        try (UpstreamServer second = UpstreamServer.start()) {
            Path file = dir.resolve("policy.yaml");
            Files.writeString(file, policy(first.port()));
            Gateway gw = harness.startFile(file);
            ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            Set<String> sentAfterReload = ConcurrentHashMap.newKeySet();
            Set<String> all = ConcurrentHashMap.newKeySet();
            AtomicBoolean reloaded = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                Thread thread = new Thread(
                        () -> runClient(gw, client, stop, reloaded, all, sentAfterReload, failures),
                        "upstream-reload-" + c);
                thread.start();
                clients.add(thread);
            }
            first.awaitRequests(CLIENTS * 20, PHASE.multipliedBy(5));

            Files.writeString(file, policy(second.port()));
            ConfigAdmin.Answer answer = admin.reload();
            assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
            reloaded.set(true);
            awaitSentAfterReload(sentAfterReload, CLIENTS * 20, PHASE.multipliedBy(5));
            stop.set(true);
            for (Thread thread : clients) {
                thread.join(TimeUnit.SECONDS.toMillis(20));
                assertThat(thread.isAlive()).as("client %s finished", thread.getName()).isFalse();
            }

            assertThat(failures).as("failed requests out of %d", all.size()).isEmpty();
            Set<String> atFirst = targets(first.requests());
            Set<String> atSecond = targets(second.requests());
            assertThat(sentAfterReload).as("requests sent after the reload").isNotEmpty();
            assertThat(atSecond).as("the new upstream got every request sent after the reload")
                    .containsAll(sentAfterReload);
            assertThat(atFirst).as("the old upstream got none of them").doesNotContainAnyElementsOf(sentAfterReload);
            Set<String> reached = new HashSet<>(atFirst);
            reached.addAll(atSecond);
            assertThat(reached).as("every request reached one upstream").containsAll(all);
            awaitNoConnections(first, Duration.ofSeconds(10));
        }
    }

    private static void awaitSentAfterReload(Set<String> sent, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sent.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + sent.size() + " requests sent within " + timeout + " of the reload");
            }
            Thread.sleep(10);
        }
    }

    private static void awaitNoConnections(UpstreamServer upstream, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (upstream.openConnections() > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the old upstream still has " + upstream.openConnections()
                        + " connection(s) from the gateway " + timeout + " after the reload");
            }
            Thread.sleep(20);
        }
    }

    private static Set<String> targets(List<RecordedRequest> requests) {
        return requests.stream().map(RecordedRequest::target).collect(Collectors.toSet());
    }

    private static void runClient(Gateway gw, int client, AtomicBoolean stop, AtomicBoolean reloaded,
            Set<String> all, Set<String> sentAfterReload, ConcurrentLinkedQueue<String> failures) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        RawHttp connection = null;
        long n = 0;
        try {
            while (!stop.get() && System.nanoTime() < deadline && failures.size() < 20) {
                if (connection == null) {
                    connection = gw.raw();
                }
                String target = "/c" + client + "/" + n++;
                boolean after = reloaded.get();
                all.add(target);
                if (after) {
                    sentAfterReload.add(target);
                }
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
                if (response.status() != 200) {
                    failures.add(target + ": " + response.statusLine());
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
