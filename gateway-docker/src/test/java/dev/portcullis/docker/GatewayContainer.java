package dev.portcullis.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.HealthCheck;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * One gateway container as an operator runs it: host network, read-only root filesystem with a
 * tmpfs at /tmp, a host folder mounted read-only at /etc/portcullis holding {@code policy.yaml}
 * (replaced by write+rename, as editors and ConfigMaps do), on free loopback ports so the tests can
 * run beside anything else. Never pulls.
 */
final class GatewayContainer implements AutoCloseable {
    /** The policy every test starts from; {@code %1$d} gateway, {@code %2$d} admin, {@code %3$d} upstream port. */
    static final String BASE_POLICY = """
            listen: "127.0.0.1:%1$d"
            admin: { listen: "127.0.0.1:%2$d" }
            drain_timeout: 20s
            upstream: { url: "http://127.0.0.1:%3$d", response_timeout: 10s }
            default: allow
            rules:
              - name: no-admin
                match: { paths: ["/admin/**"] }
                action: deny
              - name: members
                match: { paths: ["/members/**"] }
                require: { authenticated: true }
            """;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final int port;
    final int adminPort;
    final int upstreamPort;
    final Path configDir;
    final GenericContainer<?> container;

    private GatewayContainer(int upstreamPort, Path configDir, int port, int adminPort, GenericContainer<?> container) {
        this.upstreamPort = upstreamPort;
        this.configDir = configDir;
        this.port = port;
        this.adminPort = adminPort;
        this.container = container;
    }

    /** Starts the image with {@link #BASE_POLICY} in front of {@code upstream}, waiting until it listens. */
    @SuppressWarnings("resource")
    static GatewayContainer start(HostUpstream upstream) throws IOException {
        String image = DockerImage.name();
        int port = freePort();
        int adminPort = freePort();
        Path dir = Files.createTempDirectory("portcullis-etc");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        GatewayContainer gateway = new GatewayContainer(upstream.port(), dir, port, adminPort,
                new GenericContainer<>(image)
                        .withImagePullPolicy(name -> false)
                        .withNetworkMode("host")
                        .withEnv("PORTCULLIS_ADMIN_ADDR", "127.0.0.1:" + adminPort)
                        .withFileSystemBind(dir.toString(), "/etc/portcullis", BindMode.READ_ONLY)
                        .withCreateContainerCmdModifier(cmd -> {
                            cmd.getHostConfig().withReadonlyRootfs(true).withTmpFs(Map.of("/tmp", "rw,size=64m"));
                            // only the timing: the test command stays the image's HEALTHCHECK
                            cmd.withHealthcheck(new HealthCheck().withInterval(1_000_000_000L).withStartPeriod(1_000_000_000L));
                        })
                        .waitingFor(Wait.forLogMessage(".*portcullis listening on.*", 1)
                                .withStartupTimeout(Duration.ofSeconds(90))));
        gateway.writePolicy(BASE_POLICY.formatted(port, adminPort, upstream.port()));
        gateway.container.start();
        return gateway;
    }

    /** Replaces policy.yaml in the mounted folder atomically: write a sibling, then rename over it. */
    void writePolicy(String yaml) throws IOException {
        Path next = configDir.resolve(".policy.yaml.next");
        Files.writeString(next, yaml, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(next, configDir.resolve("policy.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** {@code docker kill -s HUP}. */
    void hangUp() {
        client().killContainerCmd(container.getContainerId()).withSignal("HUP").exec();
    }

    InspectContainerResponse inspect() {
        return client().inspectContainerCmd(container.getContainerId()).exec();
    }

    static DockerClient client() {
        return DockerClientFactory.instance().client();
    }

    /** GET on the gateway's public listener. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return get(port, path);
    }

    /** GET on the admin listener. */
    HttpResponse<String> admin(String path) throws IOException, InterruptedException {
        return get(adminPort, path);
    }

    static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).GET().build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            container.stop();
        } finally {
            try (var files = Files.list(configDir)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(configDir);
        }
    }
}
