package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docker/entrypoint.sh, run by {@code sh} with a {@code java} on PATH that prints its arguments: which defaults
 * JAVA_OPTS keeps or replaces, decided one whitespace-separated option at a time. JvmFlagsIT checks the same
 * defaults in the image, as the JVM reads them.
 */
class EntrypointScriptTest {
    private static final Path ENTRYPOINT = DockerImage.repoRoot().resolve("docker").resolve("entrypoint.sh");
    private static final List<String> LIMIT_HEAP =
            List.of("-XX:InitialRAMPercentage=12.5", "-XX:MinRAMPercentage=25", "-XX:MaxRAMPercentage=25");
    private static final List<String> FIXED_HEAP = List.of("-Xms32m", "-Xmx64m");

    @TempDir
    Path dir;

    @BeforeEach
    void stubJava() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void withoutJavaOptsTheSerialCollectorAndADefaultHeapComeBeforeTheJar() throws Exception {
        List<String> args = entrypoint("");
        assertThat(args).contains("-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData");
        assertThat(defaultHeap(args)).as("a heap from the memory limit, or the fixed one without a limit").isTrue();
        assertThat(args.subList(args.size() - 3, args.size()))
                .containsExactly("-jar", "/opt/portcullis/portcullis.jar", "run");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "-XX:+UseNUMA -XX:+DisableExplicitGC -Xlog:gc",
        "-XX:+UseLargePages -XX:+ScavengeBeforeFullGC",
        "-XX:+UseMaximumCompactionOnSystemGC",
        "-XX:+UseCompressedOops -XX:+PrintGC",
        "-Dnote=-XX:+UseG1GC"
    })
    void optionsThatPickNoCollectorKeepTheSerialOne(String javaOpts) throws Exception {
        List<String> args = entrypoint(javaOpts);
        assertThat(args).as("JAVA_OPTS=%s", javaOpts).contains("-XX:+UseSerialGC");
        assertThat(args).containsSubsequence(List.of(javaOpts.split(" ")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-XX:+UseG1GC", "-XX:+UseParallelGC", "-XX:+UseZGC", "-Xlog:gc -XX:+UseShenandoahGC"})
    void anOptionThatPicksACollectorDropsTheSerialOne(String javaOpts) throws Exception {
        List<String> args = entrypoint(javaOpts);
        assertThat(args).as("JAVA_OPTS=%s", javaOpts).doesNotContain("-XX:+UseSerialGC")
                .containsSubsequence(List.of(javaOpts.split(" ")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "-Xmx100m", "-Xms16m", "-XX:MaxRAMPercentage=50", "-XX:InitialRAMPercentage=5", "-XX:MaxRAM=1g",
        "-XX:MaxHeapSize=16m", "-XX:InitialHeapSize=16m", "-Xlog:gc\t-Xmx100m"
    })
    void anOptionThatSizesTheHeapReplacesTheDefaultHeap(String javaOpts) throws Exception {
        List<String> args = entrypoint(javaOpts);
        assertThat(args).as("JAVA_OPTS=%s", javaOpts).doesNotContainAnyElementsOf(LIMIT_HEAP)
                .doesNotContainAnyElementsOf(FIXED_HEAP)
                .contains("-XX:+UseSerialGC");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-Dnote=-Xmx1g", "-XX:MinRAMPercentage=30", "-XX:+UseNUMA"})
    void optionsThatDoNotSizeTheHeapKeepTheDefaultHeap(String javaOpts) throws Exception {
        assertThat(defaultHeap(entrypoint(javaOpts))).as("JAVA_OPTS=%s", javaOpts).isTrue();
    }

    @Test
    void javaOptsAreSplitAtWhitespaceButNotGlobExpanded() throws Exception {
        Files.writeString(dir.resolve("-Xlog:gc-would-match"), "");
        List<String> args = entrypoint("-Xlog:gc*  -XX:+UseG1GC\n-Dx=y");
        assertThat(args).containsSubsequence("-XX:+ExitOnOutOfMemoryError", "-Xlog:gc*", "-XX:+UseG1GC", "-Dx=y", "-jar")
                .doesNotContain("-Xlog:gc-would-match", "-XX:+UseSerialGC");
    }

    private static boolean defaultHeap(List<String> args) {
        return args.containsAll(LIMIT_HEAP) != args.containsAll(FIXED_HEAP);
    }

    /** The command the entrypoint execs, one argument a line, for the given JAVA_OPTS; cwd is the temp dir. */
    private List<String> entrypoint(String javaOpts) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("sh", ENTRYPOINT.toString(), "run").directory(dir.toFile())
                .redirectErrorStream(true);
        builder.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        builder.environment().put("JAVA_OPTS", javaOpts);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(out).isZero();
        return out.lines().toList();
    }
}
