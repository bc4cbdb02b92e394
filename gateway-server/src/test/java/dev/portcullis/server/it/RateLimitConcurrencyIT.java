package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A local token bucket is exact when many keep-alive connections, spread over the server's event loops, draw
 * on one key at once: exactly {@code limit + burst} requests are proxied, every other one gets 429, none lost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RateLimitConcurrencyIT {

    /*
     * The gateway's worker group has one event loop per available processor (no config key chooses it), and
     * accepted connections are handed to them in turn, so with 16 connections every loop serves several.
     * The limiter refills 20 per hour: well under one token during the test.
     */
    private static final int CONNECTIONS = 16;
    private static final int REQUESTS_PER_CONNECTION = 10;
    private static final int CAPACITY = 20 + 10;

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void manyConnectionsOnOneKeyAreAdmittedExactlyLimitPlusBurstTimes() throws Exception {
        assertThat(Runtime.getRuntime().availableProcessors())
                .as("more than one event loop in the gateway's worker group").isGreaterThan(1);
        Gateway gw = harness.start("rate-limit-default.yaml");
        Probe p = new Probe(harness, gw);
        ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
        List<Future<int[]>> results = new ArrayList<>();
        CountDownLatch connected = new CountDownLatch(CONNECTIONS);
        try {
            for (int c = 0; c < CONNECTIONS; c++) {
                int client = c;
                results.add(clients.submit(() -> {
                    int[] counts = new int[2];
                    try (RawHttp conn = gw.raw()) {
                        connected.countDown();
                        connected.await();
                        for (int i = 0; i < REQUESTS_PER_CONNECTION; i++) {
                            RawResponse r = conn.send(p.request("GET", "/hourly/" + client + "/" + i)).readResponse();
                            assertThat(r.status()).as("connection %d request %d", client, i).isIn(200, 429);
                            counts[r.status() == 200 ? 0 : 1]++;
                        }
                    }
                    return counts;
                }));
            }
            int admitted = 0;
            int limited = 0;
            for (Future<int[]> f : results) {
                int[] counts = f.get(30, TimeUnit.SECONDS);
                admitted += counts[0];
                limited += counts[1];
            }
            assertThat(admitted).as("proxied").isEqualTo(CAPACITY);
            assertThat(limited).as("answered 429").isEqualTo(CONNECTIONS * REQUESTS_PER_CONNECTION - CAPACITY);
            harness.upstream().awaitHeads(CAPACITY, Duration.ofSeconds(5));
            harness.upstream().assertHeadsStayAt(CAPACITY, Probe.QUIET);
        } finally {
            clients.shutdownNow();
        }
    }
}
