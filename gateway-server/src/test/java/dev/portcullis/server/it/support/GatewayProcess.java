package dev.portcullis.server.it.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged gateway ({@code target/portcullis.jar}) as a child JVM with its own environment and system
 * properties: its ports read from its "listening on" line, its output kept for assertions, signalled and
 * stopped by pid. It starts with every signal at its default disposition ({@code env --default-signal}),
 * whatever the test runner inherited: under {@code nohup} SIGHUP is ignored, in a background job SIGINT, and
 * the JVM cannot handle a signal it inherited as ignored.
 */
public final class GatewayProcess implements AutoCloseable {
    /** Runs the rest of the command with every signal at its default disposition. */
    public static final List<String> DEFAULT_SIGNALS = List.of("env", "--default-signal");

    private static final Pattern LISTENING =
            Pattern.compile("listening on \\\\?/127\\.0\\.0\\.1:(\\d+) \\(admin \\\\?/127\\.0\\.0\\.1:(\\d+)\\)");

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final CompletableFuture<int[]> ports = new CompletableFuture<>();

    private GatewayProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(this::read, "gateway-process-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code portcullis run -c config} with {@code env} added to this JVM's environment and {@code jvmArgs}
     * (e.g. {@code -Dkey=value}) before {@code -jar}; returns at once (see {@link #awaitListening()}).
     */
    public static GatewayProcess start(Path config, Map<String, String> env, List<String> jvmArgs)
            throws IOException {
        return start(DEFAULT_SIGNALS, config, env, jvmArgs);
    }

    /** As {@link #start(Path, Map, List)}, through {@code launcher}: a command that execs the rest of the line. */
    public static GatewayProcess start(List<String> launcher, Path config, Map<String, String> env,
            List<String> jvmArgs) throws IOException {
        Path jar = Path.of("target", "portcullis.jar");
        if (!jar.toFile().exists()) {
            throw new IOException("no packaged jar at " + jar.toAbsolutePath() + " (mvn package runs before the ITs)");
        }
        List<String> command = new ArrayList<>(launcher);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", jar.toString(), "run", "-c", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        return new GatewayProcess(builder.start());
    }

    /** Waits (at most 60 s: a loaded CI machine starts JVMs slowly) until both listeners are bound; returns this. */
    public GatewayProcess awaitListening() throws Exception {
        try {
            ports.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the gateway did not listen within 60 s; its output so far:\n" + output(), e);
        }
        return this;
    }

    /** The public listener's port (after {@link #awaitListening()}). */
    public int port() {
        return ports.join()[0];
    }

    /** The admin listener's port (after {@link #awaitListening()}). */
    public int adminPort() {
        return ports.join()[1];
    }

    /** Everything the process printed so far, one line each. */
    public String output() {
        return String.join("\n", output);
    }

    public long pid() {
        return process.pid();
    }

    /** The child process itself: alive, exit code, waiting for its end. */
    public Process process() {
        return process;
    }

    /** Sends {@code SIG<name>} (e.g. {@code HUP}, {@code TERM}) with {@code kill}, as an operator does. */
    public void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
        }
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                output.add(line);
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                }
            }
            ports.completeExceptionally(new IOException("the gateway's output ended: " + output()));
        } catch (IOException e) {
            ports.completeExceptionally(e);
        }
    }

    /** Stops the process (SIGTERM, then SIGKILL after 10 s) and waits for it. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
