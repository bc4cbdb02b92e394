package dev.portcullis.server.it.support;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.server.GatewayServer;
import dev.portcullis.server.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that owns one test upstream per test class and the gateways a test starts: it loads
 * a scenario YAML from {@code it/} with placeholders substituted, starts the real {@link GatewayServer}
 * in-process, and closes everything afterwards, then fails the class on any Netty leak report.
 *
 * <p>Use as {@code @RegisterExtension static final GatewayHarness harness = new GatewayHarness();}
 */
public final class GatewayHarness implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

    /*
     * Placeholders in scenario files: {{UPSTREAM_PORT}} (this harness's upstream), {{DEAD_PORT}} (a
     * loopback port with nothing listening), plus any the test passes. An unresolved placeholder is an
     * error, so a typo cannot silently produce a config that means something else.
     *
     * Every gateway a test starts is closed after that test; the upstream lives for the whole class and
     * is reset (records and routing) before each test. LeakCheck is installed before anything touches
     * Netty, and asserted after the class, once every gateway is closed.
     */

    static {
        LeakCheck.install();
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Z_]+)}}");

    private final List<Gateway> gateways = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private UpstreamServer upstream;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        upstream = UpstreamServer.start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        upstream.reset();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeGateways();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeGateways();
        if (upstream != null) {
            upstream.close();
        }
        LeakCheck.assertNoLeaks();
    }

    /** The test upstream (reset before every test). */
    public UpstreamServer upstream() {
        return upstream;
    }

    /** A shared HTTP/1.1 client (no redirects). */
    public HttpClient client() {
        return client;
    }

    /** Starts a gateway from {@code it/<scenario>} with the default placeholders. */
    public Gateway start(String scenario) throws Exception {
        return start(scenario, Map.of());
    }

    /** Starts a gateway from {@code it/<scenario>} with extra placeholder values. */
    public Gateway start(String scenario, Map<String, String> vars) throws Exception {
        String resource = "it/" + scenario;
        Map<String, String> all = new HashMap<>();
        all.put("UPSTREAM_PORT", Integer.toString(upstream.port()));
        all.putAll(vars);
        if (!all.containsKey("DEAD_PORT") && readResource(resource).contains("{{DEAD_PORT}}")) {
            all.put("DEAD_PORT", Integer.toString(deadPort()));
        }
        String yaml = substitute(readResource(resource), all);
        CompiledConfig cfg = ConfigLoader.load(scenario, yaml.getBytes(StandardCharsets.UTF_8), baseDir(resource));
        GatewayServer server = GatewayServer.start(cfg);
        Gateway gw = new Gateway(server);
        gateways.add(gw);
        return gw;
    }

    /**
     * Starts a gateway from a config file on disk, which it can reload (SIGHUP's entry point,
     * {@code POST /reload}, {@code watch: true}). Placeholders are not substituted.
     */
    public Gateway startFile(Path file) throws Exception {
        CompiledConfig cfg = ConfigLoader.load(file);
        GatewayServer server = GatewayServer.start(cfg, file, Transport.best(true));
        Gateway gw = new Gateway(server);
        gateways.add(gw);
        return gw;
    }

    /**
     * Writes {@code yaml}, its placeholders filled ({@link #fill}), to a new file in {@code dir} and starts a gateway
     * from it ({@link #startFile}: reloadable).
     */
    public Gateway startYaml(Path dir, String yaml, Map<String, String> vars) throws Exception {
        Path file = Files.createTempFile(dir, "policy-", ".yaml");
        Files.writeString(file, fill(yaml, vars));
        return startFile(file);
    }

    /** The placeholder values {@link #start} substitutes, e.g. {@code {{UPSTREAM_PORT}}}, applied to {@code text}. */
    public String fill(String text, Map<String, String> vars) {
        Map<String, String> all = new HashMap<>();
        all.put("UPSTREAM_PORT", Integer.toString(upstream.port()));
        all.putAll(vars);
        return substitute(text, all);
    }

    /** Closes the gateways started so far. */
    public void closeGateways() {
        List<Throwable> failures = new ArrayList<>();
        for (Gateway gw : gateways) {
            try {
                gw.close();
            } catch (Throwable t) {
                failures.add(t);
            }
        }
        gateways.clear();
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("GatewayServer.close() failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** GET {@code pathAndQuery} through {@code gw} with optional header name/value pairs. */
    public HttpResponse<byte[]> get(Gateway gw, String pathAndQuery, String... headerPairs) throws Exception {
        return send(gw, "GET", pathAndQuery, HttpRequest.BodyPublishers.noBody(), headerPairs);
    }

    /** Sends one request through {@code gw} and returns the whole response body. */
    public HttpResponse<byte[]> send(Gateway gw, String method, String pathAndQuery,
            HttpRequest.BodyPublisher body, String... headerPairs) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.uri(pathAndQuery))
                .timeout(Duration.ofSeconds(20))
                .method(method, body);
        for (int i = 0; i + 1 < headerPairs.length; i += 2) {
            b.header(headerPairs[i], headerPairs[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static String substitute(String text, Map<String, String> vars) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = vars.get(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException("unresolved placeholder {{" + m.group(1) + "}}");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String readResource(String resource) throws IOException {
        try (InputStream in = GatewayHarness.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no test resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Path baseDir(String resource) throws IOException {
        URL url = GatewayHarness.class.getClassLoader().getResource(resource);
        if (url != null && url.getProtocol().equals("file")) {
            try {
                return Path.of(url.toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        }
        return Files.createTempDirectory("portcullis-it");
    }

    /**
     * A loopback port with nothing listening: bound and released. Only used as an unreachable upstream,
     * where the tiny race with another process binding it is acceptable.
     */
    public static int deadPort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One running gateway. */
    public static final class Gateway implements AutoCloseable {
        private final GatewayServer server;
        private final int port;
        private final int adminPort;
        private boolean closed;

        Gateway(GatewayServer server) {
            this.server = server;
            this.port = server.port();
            this.adminPort = server.adminPort();
        }

        public int port() {
            return port;
        }

        /** The server itself, e.g. for its {@link GatewayServer#reloader()}. */
        public GatewayServer server() {
            return server;
        }

        public int adminPort() {
            return adminPort;
        }

        /** Base URI of the public listener, e.g. {@code http://127.0.0.1:12345}. */
        public URI baseUri() {
            return URI.create("http://127.0.0.1:" + port);
        }

        /** Base URI of the admin listener. */
        public URI adminUri() {
            return URI.create("http://127.0.0.1:" + adminPort);
        }

        /** {@code pathAndQuery} on the public listener (sent as written). */
        public URI uri(String pathAndQuery) {
            return URI.create(baseUri() + pathAndQuery);
        }

        /** {@code path} on the admin listener. */
        public URI adminUri(String path) {
            return URI.create(adminUri() + path);
        }

        /** The Host header value a client would send for the public listener. */
        public String authority() {
            return "127.0.0.1:" + port;
        }

        /** A fresh raw connection to the public listener. */
        public RawHttp raw() throws IOException {
            return RawHttp.connect(port);
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                try {
                    server.close();
                } catch (Exception e) {
                    throw new IllegalStateException("GatewayServer.close() failed", e);
                }
            }
        }
    }
}
