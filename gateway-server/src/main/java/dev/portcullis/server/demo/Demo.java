package dev.portcullis.server.demo;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.config.ConfigResourceException;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.GatewayServer;
import dev.portcullis.server.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running demo: the echo upstream and the real gateway serving the bundled policy, with the key pair, the
 * rendered policy and a small GeoIP database in a private temporary folder that {@link #close} deletes.
 */
public final class Demo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    private static final String TEMPLATE = "demo-policy.yaml";
    private static final String POLICY = "policy.yaml";

    private final Path dir;
    private final DemoKeys keys;
    private final EchoUpstream upstream;
    private final GatewayServer server;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Demo(Path dir, DemoKeys keys, EchoUpstream upstream, GatewayServer server) {
        this.dir = dir;
        this.keys = keys;
        this.upstream = upstream;
        this.server = server;
    }

    /**
     * Starts the echo upstream and the gateway on loopback; {@code port} and {@code adminPort} 0 pick free ports.
     *
     * @throws IOException when a port cannot be bound or the temporary folder cannot be written
     */
    public static Demo start(int port, int adminPort) throws IOException {
        Path dir = Files.createTempDirectory("portcullis-demo-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        EchoUpstream upstream = null;
        try {
            DemoKeys keys = DemoKeys.generate();
            keys.writePublicKey(dir.resolve("demo-public.pem"));
            MmdbWriter.countries(Map.of("81.2.69.0/24", "GB", "175.45.176.0/22", "KP"))
                    .write(dir.resolve("demo-country.mmdb"));
            upstream = EchoUpstream.start();
            Path policy = render(dir, Map.of("PORT", port, "ADMIN_PORT", adminPort, "UPSTREAM_PORT", upstream.port()));
            GatewayServer server = startGateway(compile(policy), policy);
            return new Demo(dir, keys, upstream, server);
        } catch (IOException | RuntimeException e) {
            if (upstream != null) {
                upstream.close();
            }
            delete(dir);
            throw e;
        }
    }

    private static Path render(Path dir, Map<String, Integer> values) throws IOException {
        String text;
        try (InputStream in = Demo.class.getResourceAsStream(TEMPLATE)) {
            if (in == null) {
                throw new IllegalStateException("the jar has no " + TEMPLATE);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (Map.Entry<String, Integer> value : values.entrySet()) {
            text = text.replace("{{" + value.getKey() + "}}", Integer.toString(value.getValue()));
        }
        return Files.writeString(dir.resolve(POLICY), text);
    }

    /** The bundled policy is part of the product: a problem in it is a bug, not an operator's mistake. */
    private static CompiledConfig compile(Path policy) throws IOException {
        try {
            return ConfigLoader.load(policy);
        } catch (ConfigException e) {
            throw new IllegalStateException("the bundled demo policy is invalid: " + e.problems(), e);
        }
    }

    private static GatewayServer startGateway(CompiledConfig config, Path policy) throws IOException {
        try {
            return GatewayServer.start(config, policy, Transport.best(true));
        } catch (ConfigResourceException e) {
            throw new IllegalStateException("the demo's generated key or GeoIP database is unusable: "
                    + e.describe(policy), e);
        }
    }

    /** The gateway, to drain it. */
    public GatewayServer server() {
        return server;
    }

    /** The rendered policy, in the folder that also holds the public key and the GeoIP database. */
    public Path policy() {
        return dir.resolve(POLICY);
    }

    /** What to print once the gateway is ready: addresses and commands, with tokens minted now. */
    public DemoGuide guide(Instant now) {
        return DemoGuide.of(server.port(), keys, now);
    }

    /** The echo upstream's port. */
    public int upstreamPort() {
        return upstream.port();
    }

    /** Stops the gateway (at once; drain it first for a graceful stop) and the upstream, then deletes the folder; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.close();
        upstream.close();
        delete(dir);
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot delete the demo folder {}: {}", dir, e.getMessage());
        }
    }
}
