package dev.portcullis.server.exchange;

import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.transport.Outbound;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What all client connections of one server share: the live snapshot, the open connections and
 * tunnels, drain state and the listeners told of every finished exchange.
 */
public final class ServerContext {

    /** A connection that no longer carries exchanges (a WebSocket tunnel), which draining ends at once. */
    public interface Tunnel {
        /** Closes both sides; called from any thread, more than once is harmless. */
        void closeForDrain();
    }

    private static final Logger LOG = LoggerFactory.getLogger(ServerContext.class);

    private final SnapshotHolder snapshots;
    private final ChannelGroup clients;
    private final List<ExchangeListener> listeners;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Set<Tunnel> tunnels = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;
    private final HeadBudget heads;
    private final StalledBudget stalled;
    private volatile boolean hurried;

    public ServerContext(SnapshotHolder snapshots, ChannelGroup clients, List<ExchangeListener> listeners) {
        this(snapshots, clients, listeners, HeadBudget.ofThisJvm());
    }

    public ServerContext(SnapshotHolder snapshots, ChannelGroup clients, List<ExchangeListener> listeners,
            HeadBudget heads) {
        this(snapshots, clients, listeners, heads, StalledBudget.ofThisJvm());
    }

    public ServerContext(SnapshotHolder snapshots, ChannelGroup clients, List<ExchangeListener> listeners,
            HeadBudget heads, StalledBudget stalled) {
        this.snapshots = snapshots;
        this.clients = clients;
        this.listeners = List.copyOf(listeners);
        this.heads = heads;
        this.stalled = stalled;
    }

    /** The bytes of unfinished request heads over all connections, and their limit. */
    public HeadBudget heads() {
        return heads;
    }

    /** The bytes queued for clients that do not take them, over all connections, and their limit. */
    public StalledBudget stalled() {
        return stalled;
    }

    public SnapshotHolder snapshots() {
        return snapshots;
    }

    public ChannelGroup clients() {
        return clients;
    }

    /** Number of exchanges between request head and finished response, over all connections. */
    public int inFlight() {
        return inFlight.get();
    }

    void exchangeStarted() {
        inFlight.incrementAndGet();
    }

    void exchangeFinished(Exchange exchange) {
        for (int i = 0; i < listeners.size(); i++) {
            try {
                listeners.get(i).exchangeFinished(exchange);
            } catch (RuntimeException e) {
                // a failing listener must not break the connection or starve the others
                LOG.warn("exchange listener {} failed", listeners.get(i).getClass().getSimpleName(), e);
            }
        }
    }

    void exchangeEnded() {
        inFlight.decrementAndGet();
    }

    /** True once shutdown began: responses carry {@code Connection: close} and idle connections are closed. */
    public boolean isDraining() {
        return draining;
    }

    /** Shutdown begins: new requests are refused, and open tunnels are closed rather than waited for. */
    public void startDraining() {
        draining = true;
        for (Tunnel tunnel : tunnels) {
            tunnel.closeForDrain();
        }
    }

    /**
     * {@code drain_timeout} ended: each connection's exchange still in flight is ended on the connection's own event
     * loop ({@link ConnectionState#endForDrain}: 503 or 504, or cut once its response began). Returns once those answers are
     * flushed, or after {@code wait} at most, so that closing the connections next does not drop them.
     */
    public void endInFlight(Duration wait) {
        List<Future<ChannelFuture>> ends = new ArrayList<>();
        for (Channel client : clients) {
            ConnectionState state = ConnectionState.find(client);
            if (state != null) {
                try {
                    ends.add(client.eventLoop().submit(state::endForDrain));
                } catch (RejectedExecutionException e) {
                    // its event loop is stopping: nothing more can be written on that connection
                }
            }
        }
        long deadline = System.nanoTime() + wait.toNanos();
        for (Future<ChannelFuture> end : ends) {
            if (end.awaitUninterruptibly(remaining(deadline), TimeUnit.NANOSECONDS) && end.isSuccess()) {
                end.getNow().awaitUninterruptibly(remaining(deadline), TimeUnit.NANOSECONDS);
            }
        }
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /**
     * Waits until no exchange is in flight and no connection still has part of a response to write (an exchange ends
     * once its last byte is handed to the connection, and closing the connection would drop what a slow reader has not
     * taken yet), for up to {@code timeout}, or until {@link #hurry}.
     */
    public void awaitQuiet(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((inFlight() > 0 || stillWriting()) && !hurried && System.nanoTime() < deadline) {
            try {
                TimeUnit.MILLISECONDS.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Ends {@link #awaitQuiet} now. */
    public void hurry() {
        hurried = true;
    }

    private boolean stillWriting() {
        for (Channel client : clients) {
            if (client.isActive() && Outbound.queuedBytes(client) > 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code tunnel} is open; when the server is already draining it is closed at once. */
    public void tunnelOpened(Tunnel tunnel) {
        tunnels.add(tunnel);
        // after the add: a drain that began meanwhile either saw this tunnel or is seen here
        if (draining) {
            tunnel.closeForDrain();
        }
    }

    public void tunnelClosed(Tunnel tunnel) {
        tunnels.remove(tunnel);
    }

    /** Tunnels open now. */
    public int openTunnels() {
        return tunnels.size();
    }
}
