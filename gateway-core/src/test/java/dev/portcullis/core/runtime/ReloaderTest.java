package dev.portcullis.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.ConfigLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloaderTest {
    private static final String VALID_A = "upstream:\n  url: \"http://127.0.0.1:3000\"\ndefault: allow\n";
    private static final String VALID_B = "upstream:\n  url: \"http://127.0.0.1:3001\"\ndefault: deny\n";

    @TempDir
    Path dir;

    Path file;
    SnapshotHolder holder;
    ScheduledExecutorService keys;
    Reloader reloader;
    final List<ReloadOutcome> told = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        file = dir.resolve("policy.yaml");
        write(VALID_A);
        keys = Executors.newSingleThreadScheduledExecutor();
        holder = new SnapshotHolder();
        holder.swap(GatewaySnapshot.create(ConfigLoader.load(file), 1, Clock.systemUTC(), keys));
        reloader = new Reloader(file, holder, Clock.systemUTC(), keys, List.of(new Reloader.Listener() {
            @Override
            public void applied(GatewaySnapshot previous, GatewaySnapshot next, ReloadOutcome.Applied outcome) {
                told.add(outcome);
            }

            @Override
            public void rejected(ReloadOutcome.Rejected outcome) {
                told.add(outcome);
            }
        }));
    }

    @AfterEach
    void stop() {
        reloader.close();
        keys.shutdownNow();
    }

    private void write(String yaml) throws Exception {
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
    }

    private ReloadOutcome reload() throws Exception {
        return reloader.reload("test").get(10, TimeUnit.SECONDS);
    }

    @Test
    void appliesAValidFileAsTheNextGenerationAndRetiresThePrevious() throws Exception {
        GatewaySnapshot first = holder.current();
        write(VALID_B);
        ReloadOutcome outcome = reload();
        assertThat(outcome).isInstanceOf(ReloadOutcome.Applied.class);
        GatewaySnapshot second = holder.current();
        assertThat(second.generation()).isEqualTo(2);
        assertThat(((ReloadOutcome.Applied) outcome).version()).isEqualTo(second.config().version());
        assertThat(second.config().upstream().port()).isEqualTo(3001);
        assertThat(first.isClosed()).as("the replaced generation had no users: closed at once").isTrue();
        assertThat(reloader.appliedCount()).isEqualTo(1);
        assertThat(reloader.lastError()).isNull();
        assertThat(told).containsExactly(outcome);
    }

    @Test
    void rejectsAnInvalidFileWithLocatedProblemsAndKeepsTheLiveGeneration() throws Exception {
        GatewaySnapshot first = holder.current();
        write("upstream:\n  url: \"http://127.0.0.1:3000\"\nrules:\n  - name: a\n    match: { ip: [\"10.0.0.300/8\"] }\n");
        ReloadOutcome outcome = reload();
        assertThat(outcome).isInstanceOf(ReloadOutcome.Rejected.class);
        ReloadOutcome.Rejected rejected = (ReloadOutcome.Rejected) outcome;
        assertThat(rejected.problems()).singleElement().asString()
                .startsWith(file + ":5:").contains("rules[0].match.ip[0]").contains("10.0.0.300/8");
        assertThat(holder.current()).isSameAs(first);
        assertThat(first.isClosed()).isFalse();
        assertThat(reloader.rejectedCount()).isEqualTo(1);
        assertThat(reloader.lastError()).isSameAs(rejected);

        write(VALID_B);
        assertThat(reload()).isInstanceOf(ReloadOutcome.Applied.class);
        assertThat(reloader.lastError()).as("cleared by the next applied reload").isNull();
    }

    @Test
    void anEmptyOrMissingFileIsRejectedNotAnEmptyPolicy() throws Exception {
        GatewaySnapshot first = holder.current();
        write("");
        assertThat(reload()).isInstanceOf(ReloadOutcome.Rejected.class);
        Files.delete(file);
        ReloadOutcome missing = reload();
        assertThat(missing).isInstanceOf(ReloadOutcome.Rejected.class);
        assertThat(((ReloadOutcome.Rejected) missing).error()).contains("no such file");
        assertThat(holder.current()).isSameAs(first);
        assertThat(reloader.rejectedCount()).isEqualTo(2);
    }

    /**
     * SPEC 3.8: listen and admin.listen need a restart, so the warning compares the file with the addresses bound at
     * start (0.0.0.0:8080 and 127.0.0.1:9901, the defaults VALID_A leaves), not with the previous file.
     */
    @Test
    void warnsWhileTheFileMovesAnAddressAwayFromTheOneBoundAtStartAndOnlyThen() throws Exception {
        write("listen: \"0.0.0.0:8081\"\nadmin:\n  listen: \"127.0.0.1:9902\"\n" + VALID_A);
        List<String> moved = List.of(
                "listen changed from 0.0.0.0:8080 to 0.0.0.0:8081: still serving on the old address until restarted",
                "admin.listen changed from 127.0.0.1:9901 to 127.0.0.1:9902: still serving on the old address until"
                        + " restarted");
        assertThat(((ReloadOutcome.Applied) reload()).warnings()).isEqualTo(moved);

        write("listen: \"0.0.0.0:8081\"\nadmin:\n  listen: \"127.0.0.1:9902\"\n" + VALID_B);
        assertThat(((ReloadOutcome.Applied) reload()).warnings()).as("still not serving there").isEqualTo(moved);

        write("listen: \"0.0.0.0:8080\"\nadmin:\n  listen: \"127.0.0.1:9901\"\n" + VALID_A);
        assertThat(((ReloadOutcome.Applied) reload()).warnings()).as("moved back to where it serves").isEmpty();
        write(VALID_B);
        assertThat(((ReloadOutcome.Applied) reload()).warnings()).isEmpty();
    }

    @Test
    void rateLimitersKeepTheirBucketsAcrossAReloadWhenTheirDefinitionIsUnchanged() throws Exception {
        String limits = "rate_limits:\n  kept: { key: client_ip, limit: 5, per: 1m }\n"
                + "  changed: { key: client_ip, limit: 5, per: 1m }\n";
        write(VALID_A + limits);
        reload();
        GatewaySnapshot before = holder.current();
        write(VALID_A + limits.replace("changed: { key: client_ip, limit: 5", "changed: { key: client_ip, limit: 6")
                + "# edited\n");
        reload();
        GatewaySnapshot after = holder.current();
        assertThat(after.generation()).isEqualTo(before.generation() + 1);
        assertThat(after.limiters().get("kept")).isSameAs(before.limiters().get("kept"));
        assertThat(after.limiters().get("changed")).isNotSameAs(before.limiters().get("changed"));
        assertThat(after.limiters().get("changed").definition().limit()).isEqualTo(6);
    }

    @Test
    void aMissingJwksFileIsRejected() throws Exception {
        write(VALID_A + "identity:\n  jwt:\n    issuer: \"https://issuer\"\n    algorithms: [RS256]\n"
                + "    jwks_file: \"missing.json\"\n");
        ReloadOutcome outcome = reload();
        assertThat(outcome).isInstanceOf(ReloadOutcome.Rejected.class);
        assertThat(((ReloadOutcome.Rejected) outcome).problems()).singleElement().asString()
                .contains("missing.json");
    }

    @Test
    void aGenerationInUseIsClosedOnlyWhenItsLastRequestEnds() throws Exception {
        GatewaySnapshot first = holder.current();
        first.acquire();
        write(VALID_B);
        reload();
        assertThat(first.isClosed()).isFalse();
        first.release();
        assertThat(first.isClosed()).isTrue();
        assertThat(first.tryAcquire()).as("a request that read the old generation must read the live one again")
                .isFalse();
        assertThat(holder.current().tryAcquire()).isTrue();
        holder.current().release();
    }

    @Test
    void aBurstOfTriggersCoalescesAndEndsOnTheNewestFile() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // hold the reload thread so that the burst queues behind a running reload
        Reloader.Listener gate = new Reloader.Listener() {};
        List<CompletableFuture<ReloadOutcome>> burst = new ArrayList<>();
        Reloader slow = new Reloader(file, holder, Clock.systemUTC(), keys, List.of(new Reloader.Listener() {
            @Override
            public void applied(GatewaySnapshot previous, GatewaySnapshot next, ReloadOutcome.Applied outcome) {
                blocked.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, gate));
        try {
            write(VALID_B);
            CompletableFuture<ReloadOutcome> running = slow.reload("first");
            assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 50; i++) {
                burst.add(slow.reload("burst-" + i));
            }
            write(VALID_A);
            release.countDown();
            running.get(10, TimeUnit.SECONDS);
            for (CompletableFuture<ReloadOutcome> each : burst) {
                assertThat(each.get(10, TimeUnit.SECONDS)).isInstanceOf(ReloadOutcome.Applied.class);
            }
            assertThat(burst.stream().distinct().count()).as("the 50 queued triggers share one reload").isEqualTo(1);
            assertThat(slow.appliedCount()).isEqualTo(2);
            assertThat(holder.current().config().upstream().port()).as("the newest file").isEqualTo(3000);
            assertThat(holder.current().generation()).isEqualTo(3);
        } finally {
            slow.close();
        }
    }
}
