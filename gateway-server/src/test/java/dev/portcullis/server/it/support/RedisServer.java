package dev.portcullis.server.it.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A real {@code redis-server} (the Debian package) on a free loopback port, without persistence, for the shared
 * rate limit tests: started and stopped by pid, and restartable on the same port. Tests using it are skipped when
 * {@code redis-server} is not installed, and fail instead when {@code CI=true}.
 */
public final class RedisServer implements AutoCloseable {
    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    /** The {@code requirepass} password, sent with AUTH before each command of {@link #command}; or null. */
    private final @Nullable String password;
    private Process process;

    private RedisServer(int port, Path dir, List<String> extraArgs, @Nullable String password) {
        this.port = port;
        this.dir = dir;
        this.extraArgs = extraArgs;
        this.password = password;
    }

    /** Starts a server on a free port and waits until it answers PING. */
    public static RedisServer start() throws Exception {
        return start(List.of(), null);
    }

    /** Starts a server that requires {@code password} ({@code --requirepass}). */
    public static RedisServer withPassword(String password) throws Exception {
        return start(List.of("--requirepass", password), password);
    }

    /**
     * Starts a server that also listens for TLS on {@code tlsPort}, with the PEM {@code cert}, {@code key} and
     * {@code ca} and without client certificates; the plain port stays for {@link #command}.
     */
    public static RedisServer withTls(int tlsPort, Path cert, Path key, Path ca) throws Exception {
        return start(List.of("--tls-port", Integer.toString(tlsPort), "--tls-cert-file", cert.toString(),
                "--tls-key-file", key.toString(), "--tls-ca-cert-file", ca.toString(), "--tls-auth-clients", "no"),
                null);
    }

    private static RedisServer start(List<String> extraArgs, @Nullable String password) throws Exception {
        String binary = binary();
        boolean installed = binary != null;
        if (!installed && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("redis-server is not installed, and CI=true: .ci/run installs it");
        }
        assumeTrue(installed, "redis-server is not installed (apt-get install redis-server): shared rate limit "
                + "tests skipped");
        RedisServer server = new RedisServer(GatewayHarness.deadPort(), Files.createTempDirectory("redis-it"),
                extraArgs, password);
        server.start(true);
        return server;
    }

    private static String binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/sbin").split(":")) {
            Path candidate = Path.of(dir, "redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return Files.isExecutable(Path.of("/usr/bin/redis-server")) ? "/usr/bin/redis-server" : null;
    }

    /** Starts it again on the same port after {@link #stop()}. */
    public synchronized void restart() throws Exception {
        start(true);
    }

    private synchronized void start(boolean await) throws Exception {
        List<String> command = new ArrayList<>(List.of(binary(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--enable-debug-command", "local", "--loglevel", "warning"));
        command.addAll(extraArgs);
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (await) {
            try {
                if ("PONG".equals(command("PING"))) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IOException("redis-server did not answer PING on port " + port + ": "
                        + Files.readString(dir.resolve("redis.log")));
            }
            Thread.sleep(20);
        }
    }

    /** Stops the server (SIGTERM to its pid, then SIGKILL) and waits until it is gone. */
    public synchronized void stop() throws Exception {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        process = null;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>/0}. */
    public String url() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    /**
     * Sends one command and returns its answer as text: a simple string, an error ({@code -ERR ...}), an integer,
     * a bulk string (null as {@code (nil)}), or an array's items one per line.
     */
    public String command(String... args) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            if (password != null) {
                write(out, "AUTH", password);
                String auth = read(socket.getInputStream());
                if (!auth.equals("OK")) {
                    throw new IOException("AUTH failed: " + auth);
                }
            }
            write(out, args);
            return read(socket.getInputStream());
        }
    }

    private static void write(OutputStream out, String... args) throws IOException {
        StringBuilder request = new StringBuilder("*" + args.length + "\r\n");
        for (String arg : args) {
            request.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg)
                    .append("\r\n");
        }
        out.write(request.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String read(InputStream in) throws IOException {
        String line = line(in);
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '+', ':' -> {
                return rest;
            }
            case '-' -> {
                return line;
            }
            case '$' -> {
                int length = Integer.parseInt(rest);
                if (length < 0) {
                    return "(nil)";
                }
                byte[] bytes = in.readNBytes(length + 2);
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int count = Integer.parseInt(rest);
                List<String> items = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    items.add(read(in));
                }
                return String.join("\n", items);
            }
            default -> throw new IOException("unexpected answer: " + line);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\r') {
                in.read();
                return sb.toString();
            }
            sb.append((char) c);
        }
        throw new IOException("connection closed");
    }

    @Override
    public void close() throws Exception {
        stop();
    }
}
