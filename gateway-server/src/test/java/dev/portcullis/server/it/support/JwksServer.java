package dev.portcullis.server.it.support;

import com.nimbusds.jose.jwk.JWK;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny JWKS endpoint on loopback ({@code GET /jwks.json}) whose key set a test can change, whose
 * fetch count it can read, and whose answers it can hold back (a fetch that stays in flight).
 */
public final class JwksServer implements AutoCloseable {

    public static final String PATH = "/jwks.json";

    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicInteger fetches = new AtomicInteger();
    private volatile List<JWK> keys;
    private volatile CountDownLatch gate = new CountDownLatch(0);

    private JwksServer(int port, List<? extends JWK> initial) throws IOException {
        keys = List.copyOf(initial);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "jwks-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext(PATH, exchange -> {
            try (exchange) {
                fetches.incrementAndGet();
                awaitGate();
                byte[] body = JwtMint.jwksJson(keys).getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.getResponseHeaders().set("Cache-Control", "no-store");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.start();
    }

    /** Starts on an ephemeral loopback port. */
    public static JwksServer start(List<? extends JWK> keys) throws IOException {
        return new JwksServer(0, keys);
    }

    /** Starts on {@code port} (e.g. a port reserved earlier while the server was "down"). */
    public static JwksServer startOn(int port, List<? extends JWK> keys) throws IOException {
        return new JwksServer(port, keys);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** How many times the key set was fetched. */
    public int fetches() {
        return fetches.get();
    }

    /** Fetches received from now on are answered only once {@link #release()} is called (at most 30 s later). */
    public void hold() {
        gate = new CountDownLatch(1);
    }

    /** Answers the fetches held by {@link #hold()}, and every later one at once. */
    public void release() {
        gate.countDown();
    }

    private void awaitGate() {
        try {
            gate.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Replaces the key set atomically. */
    public synchronized void setKeys(List<? extends JWK> newKeys) {
        keys = List.copyOf(newKeys);
    }

    public synchronized void addKey(JWK key) {
        List<JWK> next = new ArrayList<>(keys);
        next.add(key);
        keys = List.copyOf(next);
    }

    public synchronized void removeKey(String kid) {
        List<JWK> next = new ArrayList<>(keys);
        next.removeIf(k -> kid.equals(k.getKeyID()));
        keys = List.copyOf(next);
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
