package dev.portcullis.server.tunnel;

import dev.portcullis.server.transport.Outbound;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Ends a WebSocket tunnel in which nothing moved for {@code limits.idle_timeout}: no byte read from either side, and
 * no byte of those queued for a side taken by it. Bytes that stay queued for a side that reads none of them are not
 * activity, so a peer that stops reading ends the tunnel like a silent one, within two idle periods. When a tunnel
 * ends, each side is closed once what is queued for it was taken, or stopped moving ({@link #closeWhenDrained}).
 *
 * <p>Implementation notes: confined to the tunnel's event loop. A read only stores the time; one task checks it when
 * the idle period since the last activity it knows of has passed, and schedules itself again for the rest. Progress
 * of queued bytes is seen as a change of the outbound buffers' sizes between two checks.
 */
final class TunnelIdleWatch {
    /** How long what is queued for a side of an ended tunnel may stand still before the side is closed anyway. */
    static final long CLOSE_GRACE_MILLIS = 1_000;
    private final Channel client;
    private final Channel upstream;
    private final long idleTimeoutNanos;
    private final Runnable idle;
    private long lastActivityNanos = System.nanoTime();
    private long lastPendingToClient;
    private long lastPendingToUpstream;
    private @Nullable ScheduledFuture<?> timer;

    /**
     * @param idle run once when the tunnel has been idle for {@code idleTimeoutNanos}; 0 means never
     */
    TunnelIdleWatch(Channel client, Channel upstream, long idleTimeoutNanos, Runnable idle) {
        this.client = client;
        this.upstream = upstream;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.idle = idle;
    }

    /** The tunnel is up: the first check is one idle period away. */
    void start() {
        lastActivityNanos = System.nanoTime();
        if (idleTimeoutNanos > 0) {
            timer = client.eventLoop().schedule(this::check, idleTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Bytes were read from one side. */
    void activity() {
        lastActivityNanos = System.nanoTime();
    }

    /** The tunnel ended: no more checks. */
    void stop() {
        ScheduledFuture<?> scheduled = timer;
        timer = null;
        if (scheduled != null) {
            scheduled.cancel(false);
        }
    }

    private void check() {
        if (timer == null) {
            return;
        }
        timer = null;
        long pendingToClient = Outbound.queuedBytes(client);
        long pendingToUpstream = Outbound.queuedBytes(upstream);
        if (pendingToClient != lastPendingToClient || pendingToUpstream != lastPendingToUpstream) {
            // bytes left for a slow reader since the last check: reading is paused for backpressure, not idle
            lastActivityNanos = System.nanoTime();
        }
        lastPendingToClient = pendingToClient;
        lastPendingToUpstream = pendingToUpstream;
        long quiet = System.nanoTime() - lastActivityNanos;
        if (quiet < idleTimeoutNanos) {
            timer = client.eventLoop().schedule(this::check, idleTimeoutNanos - quiet, TimeUnit.NANOSECONDS);
        } else {
            idle.run();
        }
    }

    /**
     * Closes {@code channel} once what was relayed to it is written, or once that stops moving for
     * {@link #CLOSE_GRACE_MILLIS}: a side that reads nothing would hold the flush, and an upstream connection counted
     * against {@code upstream.max_connections}, for ever, while a slow one still gets the end of the stream.
     */
    static void closeWhenDrained(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            closeUnlessMoving(channel, Outbound.queuedBytes(channel));
        } else {
            channel.close();
        }
    }

    private static void closeUnlessMoving(Channel channel, long queuedBefore) {
        channel.eventLoop().schedule(() -> {
            long queued = Outbound.queuedBytes(channel);
            if (channel.isActive() && queued > 0 && queued < queuedBefore) {
                closeUnlessMoving(channel, queued);
            } else {
                channel.close();
            }
        }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }
}
