package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;

/**
 * The entrypoint's heap: a share of the container's memory limit when there is one (12.5 % up front, 25 % at
 * most: 32-64 MiB under 256 MiB), the measured fixed 32-64 MiB when there is none, and JAVA_OPTS wins.
 */
class JvmFlagsIT {
    private static final long MIB = 1024 * 1024;

    @BeforeAll
    static void engine() {
        DockerImage.requireEngine();
    }

    @Test
    void heapIsAShareOfTheContainersMemoryLimit() {
        String flags = flags(256 * MIB, "");
        assertThat(flag(flags, "MaxHeapSize")).isEqualTo(64 * MIB);
        assertThat(flag(flags, "InitialHeapSize")).isEqualTo(32 * MIB);
        assertThat(flags).contains("UseSerialGC", "ExitOnOutOfMemoryError");
        assertThat(flag(flags(1024 * MIB, ""), "MaxHeapSize")).isEqualTo(256 * MIB);
    }

    @Test
    void withoutALimitTheHeapIsTheMeasuredDefault() {
        assertThat(flag(flags(null, ""), "MaxHeapSize")).isEqualTo(64 * MIB);
    }

    @Test
    void javaOptsOverrideTheDefaults() {
        String flags = flags(256 * MIB, "-Xmx100m -XX:+UseParallelGC");
        assertThat(flag(flags, "MaxHeapSize")).isEqualTo(100 * MIB);
        assertThat(flag(flags, "UseSerialGC")).isZero();
        assertThat(flag(flags, "UseParallelGC")).isEqualTo(1);
    }

    /** The final JVM flags of {@code portcullis --version} run by the image's entrypoint; no limit when {@code memoryLimit} is null. */
    @SuppressWarnings("resource")
    private static String flags(Long memoryLimit, String javaOpts) {
        try (GenericContainer<?> container = new GenericContainer<>(DockerImage.name())
                .withImagePullPolicy(name -> false)
                .withNetworkMode("none")                 // it only prints flags: no network at all (docker-ci.md)
                .withEnv("JAVA_OPTS", (javaOpts + " -XX:+PrintFlagsFinal").strip())
                .withCommand("--version")
                .withCreateContainerCmdModifier(cmd -> {
                    if (memoryLimit != null) {
                        cmd.getHostConfig().withMemory(memoryLimit);
                    }
                })
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(60)))) {
            container.start();
            String logs = container.getLogs();
            assertThat(logs).contains("portcullis ");
            return logs;
        }
    }

    /** A numeric or boolean (1/0) flag's value in PrintFlagsFinal output. */
    private static long flag(String flags, String name) {
        Matcher m = Pattern.compile("\\s" + name + "\\s+= (\\S+)").matcher(flags);
        assertThat(m.find()).as(name + " in " + flags.lines().count() + " lines of flags").isTrue();
        String value = m.group(1);
        return switch (value) {
            case "true" -> 1;
            case "false" -> 0;
            default -> Long.parseLong(value);
        };
    }
}
