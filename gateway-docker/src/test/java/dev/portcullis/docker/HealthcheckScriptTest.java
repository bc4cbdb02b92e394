package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * docker/healthcheck.sh, run by {@code bash} against a small HTTP server on 127.0.0.1 or ::1 that stands in
 * for the admin listener: the address forms $PORTCULLIS_ADMIN_ADDR accepts, the Host header it sends, and
 * its exit code. ImageIT checks the same script as the image's HEALTHCHECK.
 */
class HealthcheckScriptTest {
    private static final Path HEALTHCHECK = DockerImage.repoRoot().resolve("docker").resolve("healthcheck.sh");

    private final List<String> hosts = new CopyOnWriteArrayList<>();
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void ipv4AddressIsHealthyOn200() throws Exception {
        int port = admin("127.0.0.1", 200);
        assertThat(healthcheck("127.0.0.1:" + port)).isZero();
        assertThat(hosts).containsExactly("127.0.0.1:" + port);
    }

    @Test
    void bracketedIpv6AddressAsThePolicyWritesItIsHealthyOn200() throws Exception {
        int port = admin("::1", 200);
        assertThat(healthcheck("[::1]:" + port)).isZero();
        assertThat(hosts).as("the Host header keeps the brackets").containsExactly("[::1]:" + port);
    }

    @Test
    void unbracketedIpv6AddressStillWorksAndGetsABracketedHostHeader() throws Exception {
        int port = admin("::1", 200);
        assertThat(healthcheck("::1:" + port)).isZero();
        assertThat(hosts).containsExactly("[::1]:" + port);
    }

    @Test
    void anythingButA200IsUnhealthy() throws Exception {
        int port = admin("::1", 503);
        assertThat(healthcheck("[::1]:" + port)).isEqualTo(1);
        assertThat(hosts).as("the request was made").hasSize(1);
    }

    @Test
    void noListenerIsUnhealthy() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = socket.getLocalPort();
        }
        assertThat(healthcheck("127.0.0.1:" + port)).isEqualTo(1);
    }

    /** Starts the stand-in admin listener on {@code host}, answering {@code /healthz} with {@code status}; its port. */
    private int admin(String host, int status) throws IOException {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), 0), 0);
        } catch (IOException e) {
            assumeTrue(!host.contains(":"), "no IPv6 loopback here: " + e);
            throw e;
        }
        server.createContext("/healthz", exchange -> {
            hosts.add(exchange.getRequestHeaders().getFirst("Host"));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        return server.getAddress().getPort();
    }

    private static int healthcheck(String adminAddr) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("bash", HEALTHCHECK.toString()).redirectErrorStream(true);
        builder.environment().put("PORTCULLIS_ADMIN_ADDR", adminAddr);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as(out).isTrue();
        System.out.printf("healthcheck.sh with PORTCULLIS_ADMIN_ADDR=%s: exit %d%n%s", adminAddr, process.exitValue(), out);
        return process.exitValue();
    }
}
