package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.8 {@code watch: true}: an in-place write, an atomic rename over the file and a Kubernetes
 * ConfigMap {@code ..data} symlink swap are each picked up without a signal, and the new policy decides.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConfigWatchIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    /** The watcher checks once a second and lets the content settle ~150 ms: generous for a busy machine. */
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static String policy(String allowed) {
        return harness.fill("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                watch: true
                upstream:
                  url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                default: deny
                rules:
                  - name: allow-ALLOWED
                    match: { paths: ["/ALLOWED/**"] }
                """.replace("ALLOWED", allowed), Map.of());
    }

    @Test
    void picksUpAnInPlaceWrite(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a"), StandardCharsets.UTF_8);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertDecidedBy(gw, "a");

        Files.writeString(file, policy("b"), StandardCharsets.UTF_8);
        admin.awaitVersion(ConfigAdmin.version(policy("b")), DEADLINE);
        assertDecidedBy(gw, "b");

        Files.writeString(file, policy("c"), StandardCharsets.UTF_8);
        JsonNode config = admin.awaitVersion(ConfigAdmin.version(policy("c")), DEADLINE);
        assertDecidedBy(gw, "c");
        assertThat(config.path("generation").asLong()).isEqualTo(3);
        assertThat(config.path("reloads").path("applied").asLong()).isEqualTo(2);
    }

    @Test
    void picksUpAnAtomicRenameOverTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a"), StandardCharsets.UTF_8);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        ConfigAdmin.replaceAtomically(file, policy("b"));
        admin.awaitVersion(ConfigAdmin.version(policy("b")), DEADLINE);
        assertDecidedBy(gw, "b");

        ConfigAdmin.replaceAtomically(file, policy("c"));
        admin.awaitVersion(ConfigAdmin.version(policy("c")), DEADLINE);
        assertDecidedBy(gw, "c");
    }

    @Test
    void picksUpAConfigMapStyleDataSymlinkSwap(@TempDir Path dir) throws Exception {
        Path first = dir.resolve("..2026_01_01_00_00_00.000000001");
        Files.createDirectory(first);
        Files.writeString(first.resolve("policy.yaml"), policy("a"), StandardCharsets.UTF_8);
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Path file = dir.resolve("policy.yaml");
        Files.createSymbolicLink(file, Path.of("..data", "policy.yaml"));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertDecidedBy(gw, "a");

        Path second = swapData(dir, first, "..2026_01_01_00_00_01.000000002", policy("b"));
        admin.awaitVersion(ConfigAdmin.version(policy("b")), DEADLINE);
        assertDecidedBy(gw, "b");

        swapData(dir, second, "..2026_01_01_00_00_02.000000003", policy("c"));
        JsonNode config = admin.awaitVersion(ConfigAdmin.version(policy("c")), DEADLINE);
        assertDecidedBy(gw, "c");
        assertThat(config.path("source").asText()).endsWith("policy.yaml");
    }

    @Test
    void aWatchedInvalidWriteIsRejectedAndTheNextValidOneApplied(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a"), StandardCharsets.UTF_8);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        ConfigAdmin.replaceAtomically(file, policy("b").replace("default: deny", "default: sometimes"));
        JsonNode rejected = admin.await(c -> c.path("last_error").isObject(), DEADLINE, "a rejected reload");
        assertThat(rejected.path("last_error").path("trigger").asText()).isEqualTo("watch");
        assertThat(rejected.path("version").asText()).isEqualTo(ConfigAdmin.version(policy("a")));
        assertDecidedBy(gw, "a");

        ConfigAdmin.replaceAtomically(file, policy("b"));
        JsonNode applied = admin.awaitVersion(ConfigAdmin.version(policy("b")), DEADLINE);
        assertThat(applied.path("last_error").isNull()).isTrue();
        assertDecidedBy(gw, "b");
    }

    /** README "Errors in a config": a file over 1 MiB is refused after reading at most one byte past the cap. */
    @Test
    void aWatchedFileSwappedForOneOver1MibIsRefusedAndTheOldPolicyKeepsDeciding(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a"), StandardCharsets.UTF_8);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        String padding = "#" + "x".repeat(1023) + "\n";
        ConfigAdmin.replaceAtomically(file, policy("b") + padding.repeat(1024 + 1));
        JsonNode rejected = admin.await(c -> c.path("last_error").isObject(), DEADLINE, "a rejected reload");
        assertThat(rejected.path("last_error").toString()).contains("larger than 1 MiB");
        assertThat(rejected.path("version").asText()).isEqualTo(ConfigAdmin.version(policy("a")));
        assertDecidedBy(gw, "a");

        ConfigAdmin.replaceAtomically(file, policy("b"));
        admin.awaitVersion(ConfigAdmin.version(policy("b")), DEADLINE);
        assertDecidedBy(gw, "b");
    }

    /**
     * What the kubelet does: write the new folder, point {@code ..data_tmp} at it, rename it over
     * {@code ..data}, then remove the old folder.
     */
    private static Path swapData(Path dir, Path old, String name, String content) throws Exception {
        Path next = dir.resolve(name);
        Files.createDirectory(next);
        Files.writeString(next.resolve("policy.yaml"), content, StandardCharsets.UTF_8);
        Path tmp = dir.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, next.getFileName());
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(old.resolve("policy.yaml"));
        Files.delete(old);
        return next;
    }

    private static void assertDecidedBy(Gateway gw, String allowed) throws Exception {
        assertThat(harness.get(gw, "/" + allowed + "/x").statusCode()).as("/%s/x allowed", allowed).isEqualTo(200);
        for (String other : new String[] {"a", "b", "c"}) {
            if (!other.equals(allowed)) {
                assertThat(harness.get(gw, "/" + other + "/x").statusCode()).as("/%s/x denied", other).isEqualTo(403);
            }
        }
    }
}
