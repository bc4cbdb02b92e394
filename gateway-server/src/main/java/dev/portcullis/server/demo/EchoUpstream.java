package dev.portcullis.server.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo's protected service: a JDK HTTP server on a free loopback port that answers every request with a
 * one-line JSON echo of its method, path and the identity and forwarding headers the gateway sent.
 */
public final class EchoUpstream implements AutoCloseable {
    /** The request headers echoed back: what the gateway tells the upstream. */
    private static final List<String> ECHOED = List.of(
            "X-Auth-Subject", "X-Auth-Roles", "X-Forwarded-For", "X-Request-Id");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;

    private EchoUpstream(HttpServer server) {
        this.server = server;
    }

    /** Starts the echo server on {@code 127.0.0.1} and a free port. */
    public static EchoUpstream start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", EchoUpstream::echo);
        server.start();
        return new EchoUpstream(server);
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void echo(HttpExchange exchange) throws IOException {
        try (exchange; InputStream body = exchange.getRequestBody()) {
            body.transferTo(OutputStream.nullOutputStream());
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("upstream", "echo");
            answer.put("method", exchange.getRequestMethod());
            answer.put("path", exchange.getRequestURI().getRawPath());
            for (String name : ECHOED) {
                String value = exchange.getRequestHeaders().getFirst(name);
                if (value != null) {
                    answer.put(name, value);
                }
            }
            byte[] bytes = (JSON.writeValueAsString(answer) + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(200, head ? -1 : bytes.length);
            if (!head) {
                exchange.getResponseBody().write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
