package dev.portcullis.core.identity;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real JWKS endpoint on 127.0.0.1 and an ephemeral port, whose document and status the test changes, and whose
 * answers it can hold back (a fetch that stays in flight).
 */
final class JwksServer implements AutoCloseable {

    private final HttpServer server;
    private final AtomicReference<String> document = new AtomicReference<>("{\"keys\":[]}");
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger requests = new AtomicInteger();
    private volatile CountDownLatch gate = new CountDownLatch(0);

    JwksServer(String initialDocument) {
        document.set(initialDocument);
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/jwks.json", exchange -> {
            requests.incrementAndGet();
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = document.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status.get(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json");
    }

    void serve(String newDocument) {
        document.set(newDocument);
    }

    void status(int newStatus) {
        status.set(newStatus);
    }

    /** Requests received from now on are answered only once {@link #release()} is called (at most 30 s later). */
    void hold() {
        gate = new CountDownLatch(1);
    }

    /** Answers the requests held by {@link #hold()}, and every later one at once. */
    void release() {
        gate.countDown();
    }

    int requests() {
        return requests.get();
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
