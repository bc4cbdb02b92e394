package dev.portcullis.docker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The protected service, on a free loopback port of the host: every path answers 200 with
 * {@code upstream saw <path>}, and {@code /slow} does so only after {@link #SLOW_MILLIS}.
 */
final class HostUpstream implements AutoCloseable {
    static final long SLOW_MILLIS = 3000;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final CountDownLatch slowStarted = new CountDownLatch(1);

    private HostUpstream(HttpServer server) {
        this.server = server;
    }

    static HostUpstream start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        HostUpstream upstream = new HostUpstream(server);
        server.createContext("/", upstream::handle);
        server.setExecutor(upstream.executor);
        server.start();
        return upstream;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Waits until a {@code /slow} request has reached the upstream. */
    boolean awaitSlowRequest(long seconds) throws InterruptedException {
        return slowStarted.await(seconds, TimeUnit.SECONDS);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/slow")) {
            slowStarted.countDown();
            try {
                Thread.sleep(SLOW_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] body = ("upstream saw " + path).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
