package dev.portcullis.server.exchange;

import dev.portcullis.core.runtime.SnapshotHolder;
import io.netty.channel.group.ChannelGroup;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

    public ServerContext(SnapshotHolder snapshots, ChannelGroup clients, List<ExchangeListener> listeners) {
        this.snapshots = snapshots;
        this.clients = clients;
        this.listeners = List.copyOf(listeners);
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
