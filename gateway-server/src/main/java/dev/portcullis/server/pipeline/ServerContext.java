package dev.portcullis.server.pipeline;

import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.proxy.UpstreamPool;
import io.netty.channel.group.ChannelGroup;
import java.util.concurrent.atomic.AtomicInteger;

/** What all client connections of one server share: the live snapshot, the upstream pool and drain state. */
public final class ServerContext {
    private final SnapshotHolder snapshots;
    private final UpstreamPool upstreams;
    private final ChannelGroup clients;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;

    public ServerContext(SnapshotHolder snapshots, UpstreamPool upstreams, ChannelGroup clients) {
        this.snapshots = snapshots;
        this.upstreams = upstreams;
        this.clients = clients;
    }

    public SnapshotHolder snapshots() {
        return snapshots;
    }

    public UpstreamPool upstreams() {
        return upstreams;
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

    void exchangeEnded() {
        inFlight.decrementAndGet();
    }

    /** True once shutdown began: responses carry {@code Connection: close} and idle connections are closed. */
    public boolean isDraining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }
}
