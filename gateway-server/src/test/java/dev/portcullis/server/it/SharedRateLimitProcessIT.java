package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RedisServer;
import dev.portcullis.server.it.support.UpstreamServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateway processes (the packaged jar) sharing one redis-server admit exactly {@code limit + burst} requests for
 * one key, whichever replica each request reaches, under many concurrent clients.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedRateLimitProcessIT {
    private static final Pattern LISTENING =
            Pattern.compile("listening on \\\\?/127\\.0\\.0\\.1:(\\d+) \\(admin \\\\?/127\\.0\\.0\\.1:(\\d+)\\)");
    private static final int LIMIT = 50;
    private static final int BURST = 10;
    private static final int REQUESTS = 400;

    @Test
    void twoReplicasAdmitExactlyLimitPlusBurstForOneKey(@TempDir Path dir) throws Exception {
        Path jar = Path.of("target", "portcullis.jar");
        assertThat(jar).as("the packaged jar (mvn package runs before the ITs)").exists();
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
            List<Process> processes = new ArrayList<>();
            try {
                int[] ports = new int[2];
                for (int i = 0; i < 2; i++) {
                    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                    Process process = new ProcessBuilder(java, "-jar", jar.toString(), "run", "-c", config.toString())
                            .redirectErrorStream(true).start();
                    processes.add(process);
                    ports[i] = readPort(process).get(30, TimeUnit.SECONDS);
                }
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
            } finally {
                for (Process process : processes) {
                    process.destroy();
                    if (!process.waitFor(10, TimeUnit.SECONDS)) {
                        process.destroyForcibly();
                    }
                }
            }
        }
    }

    private static int status(int port, String tenant) throws IOException {
        try (RawHttp raw = RawHttp.connect(port)) {
            raw.send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tenant: " + tenant + "\r\nConnection: close\r\n\r\n");
            return raw.readResponse().status();
        }
    }

    private static CompletableFuture<Integer> readPort(Process process) {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!port.isDone()) {
                        lines.add(line);
                    }
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
                port.completeExceptionally(new IOException("the gateway's output ended: " + lines));
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        return port;
    }
}
