package dev.portcullis.server;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.geo.GeoDatabaseException;
import dev.portcullis.core.identity.KeySourceException;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.admin.AdminChannelInitializer;
import dev.portcullis.server.log.AccessLog;
import dev.portcullis.server.metrics.GatewayMetrics;
import dev.portcullis.server.pipeline.ProxyChannelInitializer;
import dev.portcullis.server.proxy.Upstreams;
import dev.portcullis.server.ratelimit.RedisStores;
import dev.portcullis.server.reload.LiveReload;
import dev.portcullis.server.transport.Transport;
import dev.portcullis.core.runtime.Reloader;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: the public listener that decides and proxies, and the admin listener.
 *
 * <p>{@link #start} returns once both listeners are bound; {@link #drain} stops accepting, lets
 * in-flight exchanges finish and then stops the event loops.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);
    /** How long the end of a drain waits for the answers (503, 504) of the exchanges still in flight to be written. */
    private static final Duration END_IN_FLIGHT_WAIT = Duration.ofSeconds(2);

    private final SnapshotHolder snapshots;
    private final Transport transport;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final EventLoopGroup adminLoop;
    private final Upstreams upstreams;
    private final ScheduledExecutorService background;
    private final ServerContext context;
    private final GatewayMetrics metrics;
    private final ListenerChannels listeners;
    private final @Nullable LiveReload reload;
    private final RedisStores stores;
    private volatile boolean ready;
    private volatile boolean closed;

    private GatewayServer(SnapshotHolder snapshots, Transport transport, ScheduledExecutorService background,
            @Nullable Path source, RedisStores stores) {
        this.snapshots = snapshots;
        this.stores = stores;
        this.transport = transport;
        this.background = background;
        GatewaySnapshot initial = snapshotOrFail(snapshots);
        this.acceptors = transport.newGroup(1);
        this.workers = transport.newGroup(Runtime.getRuntime().availableProcessors());
        this.adminLoop = transport.newGroup(1);
        this.upstreams = new Upstreams(initial.config().upstream(), transport, eventLoops(workers));
        this.metrics = new GatewayMetrics(snapshots);
        metrics.rateLimitStore(stores.metrics());
        metrics.accessLogDropped(AccessLog.droppedLines());
        this.reload = source == null ? null : new LiveReload(source, snapshots, background, metrics, upstreams);
        this.listeners = new ListenerChannels(transport);
        this.context = new ServerContext(snapshots, new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE),
                List.of(new AccessLog(), metrics));
        metrics.connections(context, upstreams);
    }

    private static List<EventLoop> eventLoops(EventLoopGroup group) {
        List<EventLoop> loops = new ArrayList<>();
        group.forEach(executor -> loops.add((EventLoop) executor));
        return List.copyOf(loops);
    }

    private static GatewaySnapshot snapshotOrFail(SnapshotHolder snapshots) {
        GatewaySnapshot snapshot = snapshots.current();
        if (snapshot == null) {
            throw new IllegalStateException("no config loaded");
        }
        return snapshot;
    }

    /**
     * Starts a gateway for {@code config} on the best transport; returns when both listeners are bound.
     * Loads the config's key material first (blocking file reads: call it off any event loop).
     */
    public static GatewayServer start(CompiledConfig config)
            throws IOException, KeySourceException, GeoDatabaseException {
        return start(config, Transport.best(true));
    }

    /** As {@link #start(CompiledConfig)}, on the given transport. */
    public static GatewayServer start(CompiledConfig config, Transport transport)
            throws IOException, KeySourceException, GeoDatabaseException {
        return start(config, null, transport);
    }

    /**
     * As {@link #start(CompiledConfig, Transport)}; with a {@code source} file, the gateway can reload it
     * ({@link #reloader()}: SIGHUP, {@code POST /reload}, and {@code watch: true}).
     */
    public static GatewayServer start(CompiledConfig config, @Nullable Path source, Transport transport)
            throws IOException, KeySourceException, GeoDatabaseException {
        ScheduledExecutorService background = newBackgroundExecutor();
        RedisStores stores = new RedisStores(transport);
        GatewaySnapshot first = null;
        try {
            first = GatewaySnapshot.create(config, 1, Clock.systemUTC(), background, stores);
            SnapshotHolder holder = new SnapshotHolder();
            holder.swap(first);
            return start(holder, transport, background, source, stores);
        } catch (KeySourceException | GeoDatabaseException | IOException | RuntimeException e) {
            if (first != null) {
                first.close();
            }
            stores.close();
            background.shutdownNow();
            throw e;
        }
    }

    /**
     * Starts a gateway serving whatever {@code snapshots} holds (it must hold a config already);
     * {@code background} runs JWKS refreshes and is shut down with the server.
     */
    public static GatewayServer start(
            SnapshotHolder snapshots, Transport transport, ScheduledExecutorService background) throws IOException {
        return start(snapshots, transport, background, null, new RedisStores(transport));
    }

    private static GatewayServer start(SnapshotHolder snapshots, Transport transport,
            ScheduledExecutorService background, @Nullable Path source, RedisStores stores) throws IOException {
        GatewayServer server;
        try {
            server = new GatewayServer(snapshots, transport, background, source, stores);
        } catch (RuntimeException e) {
            background.shutdownNow();
            throw e;
        }
        try {
            server.bind();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The single daemon thread for identity background work (JWKS fetches), never an event loop. */
    public static ScheduledExecutorService newBackgroundExecutor() {
        return Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "portcullis-background");
            thread.setDaemon(true);
            return thread;
        });
    }

    private void bind() throws IOException {
        GatewaySnapshot initial = snapshotOrFail(snapshots);
        CompiledConfig config = initial.config();
        Channel adminChannel = listeners.bindAdmin(adminLoop, config.adminListen().toSocketAddress(),
                new AdminChannelInitializer(snapshots, this::isReady, reloader(), metrics.registry()));
        Channel proxyChannel = listeners.bindPublic(acceptors, workers, config.listen().toSocketAddress(),
                new ProxyChannelInitializer(context, upstreams));
        ready = true;
        if (reload != null) {
            reload.start(initial);
        }
        LOG.info("portcullis listening on {} (admin {}), transport {}, upstream {}:{}",
                proxyChannel.localAddress(), adminChannel.localAddress(), transport.name(),
                config.upstream().host(), config.upstream().port());
    }

    /** The live configuration generation. */
    public SnapshotHolder snapshots() {
        return snapshots;
    }

    /** Reloads the config file, or null when this server was started without one. */
    public @Nullable Reloader reloader() {
        return reload == null ? null : reload.reloader();
    }

    /** The bound public port. */
    public int port() {
        return listeners.port();
    }

    /** The bound admin port. */
    public int adminPort() {
        return listeners.adminPort();
    }

    /** The metrics registry, which the reload code tells of reloads and new config versions. */
    public GatewayMetrics metrics() {
        return metrics;
    }


    /** True when a config is loaded, the listener is up and shutdown has not begun. */
    public boolean isReady() {
        return ready && !context.isDraining() && snapshots.current() != null;
    }


    /**
     * Graceful stop: stop accepting, close idle connections, let in-flight exchanges finish, and the responses
     * still being written to slow readers reach them, for up to {@code timeout}; then answer the exchanges still in
     * flight (503 when never forwarded, 504 when the upstream has it, a cut once its response began; all logged
     * {@code error: drain_timeout}) and close everything.
     */
    public void drain(Duration timeout) {
        if (closed) {
            return;
        }
        context.startDraining();
        listeners.stopAccepting();
        for (Channel client : context.clients()) {
            client.eventLoop().execute(() -> ConnectionState.of(client).closeIfIdle());
        }
        context.awaitQuiet(timeout);
        int left = context.inFlight();
        if (left > 0) {
            LOG.warn("drain_timeout reached with {} requests in flight; answering them 503 (never forwarded) or 504 "
                    + "(forwarded), or cutting those whose response had begun (error drain_timeout)", left);
            context.endInFlight(END_IN_FLIGHT_WAIT);
        }
        close();
    }

    /**
     * Ends a {@link #drain} at once, as if its timeout had passed: an operator who sends SIGTERM again does not want to
     * wait for the requests in flight.
     */
    public void hurry() {
        context.hurry();
    }

    /** Stops at once: listeners, client and upstream connections, event loops. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        context.startDraining();
        if (reload != null) {
            reload.close();
        }
        listeners.close();
        context.clients().close().awaitUninterruptibly();
        var shutdowns = List.of(
                acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS),
                workers.shutdownGracefully(0, 2, TimeUnit.SECONDS),
                adminLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS));
        shutdowns.forEach(f -> f.awaitUninterruptibly(5, TimeUnit.SECONDS));
        upstreams.close();
        metrics.close();
        GatewaySnapshot last = snapshots.current();
        if (last != null) {
            last.close();
        }
        stores.close();
        background.shutdownNow();
    }
}
