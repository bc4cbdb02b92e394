package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** upstream.max_connections bounds the pooled upstream connections of all event loops together. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamPoolIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void neverOpensMoreUpstreamConnectionsThanMaxConnections() throws Exception {
        Gateway gw = harness.start("upstream-pool.yaml"); // upstream.max_connections: 2
        List<CompletableFuture<HttpResponse<byte[]>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            HttpRequest req = HttpRequest.newBuilder(gw.uri("/_up/delay/300?n=" + i))
                    .timeout(Duration.ofSeconds(20))
                    .build();
            inFlight.add(harness.client().sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()));
        }
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<byte[]>> f : inFlight) {
            statuses.add(f.get(30, TimeUnit.SECONDS).statusCode());
        }
        System.out.println("UpstreamPoolIT: statuses=" + statuses + " upstream connections accepted="
                + harness.upstream().connectionsAccepted() + " max open=" + harness.upstream().maxOpenConnections());

        // The gateway never holds more than max_connections sockets. When a connection idles on one
        // event loop while a request waits on another, the gateway closes it to free the slot and the
        // waiter connects afresh; the upstream may notice the close a moment after the new connection
        // arrives, so it can briefly count one more per other event loop (2 loops here: at most 3).
        int eventLoops = Runtime.getRuntime().availableProcessors();
        assertThat(harness.upstream().maxOpenConnections())
                .as("concurrent upstream connections with max_connections: 2")
                .isLessThanOrEqualTo(2 + eventLoops - 1);
        assertThat(statuses).as("requests over the pool size wait for a connection, or are shed")
                .allMatch(s -> s == 200 || s == 503);
        assertThat(statuses).filteredOn(s -> s == 200).hasSizeGreaterThanOrEqualTo(2);
    }
}
