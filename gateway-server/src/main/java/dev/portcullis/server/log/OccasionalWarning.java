package dev.portcullis.server.log;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A warning whose cause can recur thousands of times a second (a flood of connections, a budget overrun), logged at most
 * once every 10 s; the occurrences in between are counted, so that the next line can say how many it stands for. Safe
 * from any thread: a caller whose {@link #due()} is true logs, the others only count.
 */
public final class OccasionalWarning {
    private final long everyNanos;
    private final AtomicLong last;
    private final AtomicLong unlogged = new AtomicLong();

    /** A warning logged at most every 10 s. */
    public OccasionalWarning() {
        this(10_000_000_000L);
    }

    OccasionalWarning(long everyNanos) {
        this.everyNanos = everyNanos;
        this.last = new AtomicLong(System.nanoTime() - everyNanos);
    }

    /**
     * One more occurrence: -1 when it is not to be logged (counted), else the number of occurrences not logged since
     * the last line, which the caller logs now.
     */
    public long due() {
        long now = System.nanoTime();
        long then = last.get();
        if (now - then >= everyNanos && last.compareAndSet(then, now)) {
            return unlogged.getAndSet(0);
        }
        unlogged.incrementAndGet();
        return -1;
    }
}
