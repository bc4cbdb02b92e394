package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A policy replaced on the mounted volume and {@code docker kill -s HUP}: applied if valid, else ignored. */
class ReloadIT {
    private HostUpstream upstream;
    private GatewayContainer gateway;

    @BeforeEach
    void start() throws Exception {
        DockerImage.requireEngine();
        upstream = HostUpstream.start();
        gateway = GatewayContainer.start(upstream);
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void replacedPolicyAndHupApplies() throws Exception {
        assertThat(gateway.get("/reports/q3").statusCode()).isEqualTo(200);
        String before = gateway.admin("/config").body();

        gateway.writePolicy(GatewayContainer.BASE_POLICY.formatted(gateway.port, gateway.adminPort, gateway.upstreamPort)
                + """
                  - name: no-reports
                    match: { paths: ["/reports/**"] }
                    action: deny
                """);
        gateway.hangUp();

        awaitStatus("/reports/q3", 403);
        assertThat(gateway.admin("/config").body()).isNotEqualTo(before).contains("\"rules\":3");
        assertThat(gateway.get("/orders/1").statusCode()).isEqualTo(200);
        assertThat(gateway.inspect().getState().getRunning()).isTrue();
    }

    @Test
    void invalidPolicyAndHupKeepsTheOldOne() throws Exception {
        gateway.writePolicy(GatewayContainer.BASE_POLICY.formatted(gateway.port, gateway.adminPort, gateway.upstreamPort)
                + """
                  - name: broken
                    match: { paths: ["/reports/**"] }
                    action: maybe
                """);
        gateway.hangUp();

        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        String config = gateway.admin("/config").body();
        while (config.contains("\"last_error\":null") && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
            config = gateway.admin("/config").body();
        }
        assertThat(config).doesNotContain("\"last_error\":null").contains("maybe").contains("\"rules\":2");
        assertThat(gateway.get("/admin/users").statusCode()).isEqualTo(403);
        assertThat(gateway.get("/reports/q3").statusCode()).isEqualTo(200);
        assertThat(gateway.inspect().getState().getRunning()).isTrue();
    }

    private void awaitStatus(String path, int expected) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        int status = gateway.get(path).statusCode();
        while (status != expected && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
            status = gateway.get(path).statusCode();
        }
        assertThat(status).as("GET " + path + " after the reload").isEqualTo(expected);
    }
}
