package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.testcontainers.containers.Container.ExecResult;

/** The image as SPEC section 7 describes it: non-root, read-only, proxying, deciding, healthy. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageIT {
    private HostUpstream upstream;
    private GatewayContainer gateway;

    @BeforeAll
    void start() throws Exception {
        DockerImage.requireEngine();
        upstream = HostUpstream.start();
        gateway = GatewayContainer.start(upstream);
    }

    @AfterAll
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void runsAsNonRootOnAReadOnlyRootFilesystem() throws Exception {
        ExecResult uid = gateway.container.execInContainer("id", "-u");
        assertThat(uid.getStdout().strip()).isNotEqualTo("0").isEqualTo("10001");
        assertThat(gateway.inspect().getHostConfig().getReadonlyRootfs()).isTrue();
        ExecResult write = gateway.container.execInContainer("sh", "-c", "touch /opt/portcullis/x");
        assertThat(write.getExitCode()).isNotZero();
        assertThat(write.getStderr()).contains("Read-only file system");
        // Netty's epoll library comes from the image, not from an extraction into the noexec /tmp
        assertThat(gateway.container.getLogs()).contains("transport epoll");
    }

    @Test
    void proxiesToTheUpstreamAndDeniesByPolicy() throws Exception {
        var allowed = gateway.get("/orders/7");
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(allowed.body()).isEqualTo("upstream saw /orders/7");
        assertThat(gateway.get("/admin/users").statusCode()).isEqualTo(403);
        assertThat(gateway.get("/members/profile").statusCode()).isEqualTo(401);
        assertThat(gateway.admin("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void healthcheckTurnsHealthy() throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        String status = null;
        while (Instant.now().isBefore(deadline)) {
            var health = gateway.inspect().getState().getHealth();
            status = health == null ? null : health.getStatus();
            if ("healthy".equals(status)) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(status).as("State.Health.Status of the image's HEALTHCHECK").isEqualTo("healthy");
        assertThat(gateway.inspect().getConfig().getHealthcheck().getTest())
                .containsExactly("CMD", "/opt/portcullis/healthcheck.sh");
    }
}
