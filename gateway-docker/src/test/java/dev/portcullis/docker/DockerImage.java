package dev.portcullis.docker;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;

/**
 * The image under test: built once per test JVM from the repository's Dockerfile with the Docker CLI
 * ({@code docker build --network host}), on {@code $PORTCULLIS_BASE_IMAGE} when set (CI's local JRE
 * image), else on the Dockerfile's default base.
 *
 * <p>Without an engine the container tests are skipped, except under {@code CI=true}, where CI
 * promised an engine and its absence fails them.
 */
final class DockerImage {
    private static final Object LOCK = new Object();
    private static String built;
    private static String buildFailure;

    private DockerImage() {}

    /** The repository root, where the Dockerfile is. */
    static Path repoRoot() {
        return Path.of(System.getProperty("portcullis.repo.root", "..")).toAbsolutePath().normalize();
    }

    /** Skips the calling test (or fails it under CI=true) when no Docker engine answers. */
    static void requireEngine() {
        boolean available;
        try {
            available = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            available = false;
        }
        if (!available) {
            String message = "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock): container tests need one;"
                    + " see docker/README.md";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message + " (CI=true: .ci/run starts the engine, so this is a failure)");
            }
            assumeTrue(false, message);
        }
    }

    /** The name of the freshly built image; builds it on first use. */
    static String name() {
        requireEngine();
        synchronized (LOCK) {
            if (buildFailure != null) {
                fail(buildFailure);
            }
            if (built == null) {
                try {
                    built = build(System.getProperty("portcullis.image", "portcullis:it"));
                } catch (AssertionError | RuntimeException e) {
                    buildFailure = e.getMessage();
                    throw e;
                }
            }
            return built;
        }
    }

    private static String build(String tag) {
        Path root = repoRoot();
        List<String> command = new ArrayList<>(List.of(cli(), "build", "--network", "host", "-t", tag));
        String base = System.getenv("PORTCULLIS_BASE_IMAGE");
        if (base != null && !base.isBlank()) {
            command.add("--build-arg");
            command.add("BASE_IMAGE=" + base);
        }
        command.add(root.toString());
        try {
            Path log = Files.createTempFile("portcullis-docker-build", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            // the engine Testcontainers found, which may not be the CLI's default
            builder.environment().put("DOCKER_HOST",
                    DockerClientFactory.instance().getTransportConfig().getDockerHost().toString());
            Process process = builder.start();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not finish within 5 minutes");
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            Files.delete(log);
            if (process.exitValue() != 0) {
                fail(String.join(" ", command) + " failed (needs gateway-server/target/portcullis.jar and gateway-docker/target/native/ from mvn package, and a base image that is present or can be pulled: PORTCULLIS_BASE_IMAGE):\n" + output);
            }
            return tag;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the image", e);
        }
    }

    /** Debian's client, which has the classic builder; another client earlier on PATH may lack buildx. */
    static String cli() {
        String configured = System.getenv("DOCKER_CLI");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        return Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker" : "docker";
    }
}
