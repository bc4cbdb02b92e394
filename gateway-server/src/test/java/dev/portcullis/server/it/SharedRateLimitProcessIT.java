package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RedisServer;
import dev.portcullis.server.it.support.UpstreamServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateway processes (the packaged jar) sharing one redis-server admit exactly {@code limit + burst} requests for
 * one key, whichever replica each request reaches, under many concurrent clients.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitProcessIT {
    private static final int LIMIT = 50;
    private static final int BURST = 10;
    private static final int REQUESTS = 400;

    @Test
    void twoReplicasAdmitExactlyLimitPlusBurstForOneKey(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(); UpstreamServer upstream = UpstreamServer.start()) {
            Path config = dir.resolve("policy.yaml");
            Files.writeString(config, String.join("\n",
                    "listen: \"127.0.0.1:0\"",
                    "admin: { listen: \"127.0.0.1:0\" }",
                    "upstream: { url: \"http://127.0.0.1:" + upstream.port() + "\" }",
                    "rate_limits:",
                    "  per-tenant: { key: \"header:X-Tenant\", limit: " + LIMIT + ", per: 1h, burst: " + BURST
                            + ", scope: shared }",
                    "rate_limit_store:",
                    "  redis: { url: \"" + redis.url() + "\", timeout: 2s, on_error: deny }",
                    "default: deny",
                    "rules:",
                    "  - name: shared",
                    "    match: { paths: [\"/**\"] }",
                    "    rate_limit: per-tenant",
                    ""), StandardCharsets.UTF_8);
            try (GatewayProcess first = GatewayProcess.start(config, Map.of(), List.of());
                    GatewayProcess second = GatewayProcess.start(config, Map.of(), List.of())) {
                int[] ports = {first.awaitListening().port(), second.awaitListening().port()};
                // the store connects in the background: wait until a request for another key is answered by it
                for (int port : ports) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (status(port, "warm-up-" + port) != 200 && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                }

                AtomicInteger admitted = new AtomicInteger();
                AtomicInteger limited = new AtomicInteger();
                ExecutorService clients = Executors.newFixedThreadPool(16);
                try {
                    List<Future<?>> sent = new ArrayList<>();
                    for (int i = 0; i < REQUESTS; i++) {
                        int port = ports[i % 2];
                        sent.add(clients.submit(() -> {
                            int status = status(port, "acme");
                            (status == 200 ? admitted : limited).incrementAndGet();
                            assertThat(status).isIn(200, 429);
                            return null;
                        }));
                    }
                    for (Future<?> f : sent) {
                        f.get(60, TimeUnit.SECONDS);
                    }
                } finally {
                    clients.shutdownNow();
                }
                assertThat(admitted.get()).as("limit + burst over both replicas").isEqualTo(LIMIT + BURST);
                assertThat(limited.get()).isEqualTo(REQUESTS - LIMIT - BURST);
            }
        }
    }

    private static int status(int port, String tenant) throws IOException {
        try (RawHttp raw = RawHttp.connect(port)) {
            raw.send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tenant: " + tenant + "\r\nConnection: close\r\n\r\n");
            return raw.readResponse().status();
        }
    }
}
