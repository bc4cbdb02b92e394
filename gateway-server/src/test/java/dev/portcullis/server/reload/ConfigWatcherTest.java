package dev.portcullis.server.reload;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.portcullis.server.it.support.LogCapture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Kubernetes ConfigMap update between loading the config and starting to watch it is still a change. */
class ConfigWatcherTest {

    private static final String POLICY = "upstream: { url: \"http://127.0.0.1:3000\" }\nwatch: true\n";

    @Test
    void aConfigMapUpdateMadeWhileTheGatewayWasStartingIsSeenWhenWatchingStarts(@TempDir Path dir) throws Exception {
        ConfigWatcher watcher = configMap(dir);
        CountDownLatch changed = latch;

        // the kubelet swaps ..data to a folder where only jwks.json differs, before the watcher runs
        Path second = configMapFolder(dir, "..2026_12_07_02", "k2");
        Path tmp = dir.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, second.getFileName());
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        watcher.start(version(POLICY));
        try {
            assertThat(changed.await(5, TimeUnit.SECONDS)).as("the swap counts although policy.yaml is the same")
                    .isTrue();
        } finally {
            watcher.stop();
        }
    }

    @Test
    void nothingChangedIsNoChange(@TempDir Path dir) throws Exception {
        ConfigWatcher watcher = configMap(dir);

        watcher.start(version(POLICY));
        try {
            assertThat(latch.await(1500, TimeUnit.MILLISECONDS)).isFalse();
        } finally {
            watcher.stop();
        }
    }

    /** A watched file swapped for an endless one is a change, seen after reading at most one byte past the cap. */
    @Test
    void aConfigSwappedForAnEndlessFileIsAChangeSeenWithoutReadingItWhole(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, POLICY, StandardCharsets.UTF_8);
        ConfigWatcher watcher = new ConfigWatcher(file, latch::countDown);

        watcher.start(version(POLICY));
        try {
            Files.delete(file);
            Files.createSymbolicLink(file, Path.of("/dev/zero"));
            assertThat(latch.await(10, TimeUnit.SECONDS)).as("the swap to /dev/zero is a change").isTrue();
        } finally {
            watcher.stop();
        }
    }

    /** A deleted config is not a change (the loaded one keeps serving), but it is said once; and so is its return. */
    @Test
    void aDeletedConfigIsWarnedAboutOnceAndItsReturnIsAChange(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, POLICY, StandardCharsets.UTF_8);
        ConfigWatcher watcher = new ConfigWatcher(file, latch::countDown);
        LogCapture log = LogCapture.attach(ConfigWatcher.class.getName());
        watcher.start(version(POLICY));
        try {
            Files.delete(file);
            assertThat(awaitLine(log, "cannot be read")).as("the warning").isTrue();
            Thread.sleep(2500); // two more polls of a missing file
            assertThat(messages(log).stream().filter(m -> m.contains("cannot be read"))).as("warned once").hasSize(1);
            assertThat(latch.getCount()).as("a missing file is no change").isEqualTo(1);

            Files.writeString(file, POLICY + "# edited\n", StandardCharsets.UTF_8);
            assertThat(latch.await(5, TimeUnit.SECONDS)).as("the new file is a change").isTrue();
            assertThat(messages(log)).anyMatch(m -> m.contains("can be read again"));
        } finally {
            watcher.stop();
            log.detach();
        }
    }

    private static List<String> messages(LogCapture log) {
        return log.snapshot().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static boolean awaitLine(LogCapture log, String part) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (messages(log).stream().anyMatch(m -> m.contains(part))) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    private final CountDownLatch latch = new CountDownLatch(1);

    /** A ConfigMap volume as the kubelet lays it out, and a watcher made for it (as just after the config loaded). */
    private ConfigWatcher configMap(Path dir) throws Exception {
        Path first = configMapFolder(dir, "..2026_12_07_01", "k1");
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(dir.resolve("policy.yaml"), Path.of("..data", "policy.yaml"));
        return new ConfigWatcher(dir.resolve("policy.yaml"), latch::countDown);
    }

    private static Path configMapFolder(Path dir, String name, String key) throws Exception {
        Path folder = Files.createDirectory(dir.resolve(name));
        Files.writeString(folder.resolve("policy.yaml"), POLICY, StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("jwks.json"), "{\"keys\":[{\"kid\":\"" + key + "\"}]}", StandardCharsets.UTF_8);
        return folder;
    }

    private static String version(String text) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
