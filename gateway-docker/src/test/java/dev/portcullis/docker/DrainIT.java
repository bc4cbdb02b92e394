package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code docker stop} (SIGTERM through tini) drains: the in-flight request completes, the exit code is 0. */
class DrainIT {
    @Test
    void stopDrainsAnInFlightRequestAndExitsZero() throws Exception {
        DockerImage.requireEngine();
        try (HostUpstream upstream = HostUpstream.start(); GatewayContainer gateway = GatewayContainer.start(upstream)) {
            CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> {
                try {
                    return gateway.get("/slow");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(upstream.awaitSlowRequest(20)).as("the slow request reached the upstream").isTrue();

            long started = System.nanoTime();
            GatewayContainer.client().stopContainerCmd(gateway.container.getContainerId()).withTimeout(30).exec();
            long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

            HttpResponse<String> response = slow.get(20, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("upstream saw /slow");
            var state = gateway.inspect().getState();
            assertThat(state.getRunning()).isFalse();
            assertThat(state.getExitCodeLong()).as("exit code after docker stop").isZero();
            assertThat(stopMillis).as("stop waited for the drain, not for docker's SIGKILL").isLessThan(25_000);
            assertThat(gateway.container.getLogs()).contains("shutting down: draining");
        }
    }
}
