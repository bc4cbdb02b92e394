package dev.portcullis.server.exchange;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The one timer of a client connection, which checks the connection's deadlines lazily.
 *
 * <p>A request only stores {@code System.nanoTime()} deadlines in fields (the idle or head deadline of its
 * {@link ConnectionState}, the exchange's in its {@link ConnectionState.Deadlines}); this task, scheduled on the
 * event loop, lets them act on the expired ones when it fires and schedules itself again. It never waits longer
 * than {@code heartbeatNanos}, the smallest timeout used on the connection so far, so a deadline set after it was
 * scheduled is never earlier than the moment it fires: the hot path neither schedules nor cancels. Only a deadline
 * shorter than every timeout seen before moves the task earlier (once, since the heartbeat shrinks).
 *
 * <p>Confined to the channel's event loop.
 */
final class ConnectionTimer {
    private final Channel channel;
    private final ConnectionState.Deadlines deadlines;
    private final Runnable tick = this::tick;
    private @Nullable ScheduledFuture<?> timer;
    private long timerAt;
    private long heartbeatNanos;

    /**
     * @param heartbeatNanos the longest the timer waits between checks (until a shorter timeout is used)
     * @param deadlines what it checks when it fires: acts on what expired, returns the nanoseconds to the next
     */
    ConnectionTimer(Channel channel, long heartbeatNanos, ConnectionState.Deadlines deadlines) {
        this.channel = channel;
        this.heartbeatNanos = heartbeatNanos;
        this.deadlines = deadlines;
    }

    /** A deadline was set to {@code now + timeoutNanos}: the timer fires by then. */
    void deadlineSet(long now, long timeoutNanos) {
        if (timeoutNanos < heartbeatNanos) {
            heartbeatNanos = timeoutNanos;
        }
        ScheduledFuture<?> scheduled = timer;
        if (scheduled == null) {
            schedule(now, heartbeatNanos);
        } else if (now + timeoutNanos - timerAt < 0) {
            scheduled.cancel(false);
            schedule(now, heartbeatNanos);
        }
    }

    private void schedule(long now, long delayNanos) {
        long delay = Math.max(delayNanos, 1);
        timerAt = now + delay;
        timer = channel.eventLoop().schedule(tick, delay, TimeUnit.NANOSECONDS);
    }

    private void tick() {
        timer = null;
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        long next = Math.min(deadlines.expire(now), heartbeatNanos);
        if (next != Long.MAX_VALUE && timer == null && channel.isActive()) {
            schedule(now, next);
        }
    }

    /** The connection is gone: the timer stops. */
    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
