package dev.portcullis.server.log;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import java.io.Flushable;
import java.io.IOException;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * A logback appender that hands events to its attached appenders on one writer thread through a bounded
 * lock-free queue, and drops and counts the events that do not fit instead of making the logging thread wait.
 */
public final class DroppingAsyncAppender extends UnsynchronizedAppenderBase<ILoggingEvent>
        implements AppenderAttachable<ILoggingEvent> {

    /*
     * Why not logback's AsyncAppender with neverBlock: it drops silently (the offer's result is ignored
     * inside a private method and its queue is package-private), so nothing could count what was lost; and
     * its ArrayBlockingQueue takes a lock and signals the writer's condition (a futex wake) on every event.
     *
     * append() runs on the logging thread, an event loop for the access log: it prepares the event for
     * another thread (formatted message, thread name) and offers it to the ring (BoundedRing: one CAS, no
     * lock). A full ring costs one counter increment and, at most once per WARN_INTERVAL, a WARN naming how
     * many lines were lost since the last one. The WARN goes to this class's logger, which the operator
     * routes elsewhere than this appender (logback's guard against re-entrant appends would otherwise
     * swallow it).
     *
     * The writer thread is never signalled while it is busy or merely napping. It drains what is queued in
     * order, appends each event to every attached appender, and flushes the attached appenders after each
     * batch (a batch ends when the ring is empty or after MAX_BATCH events): with an attached appender that
     * does not flush per event (BufferedConsoleAppender, or any OutputStreamAppender with immediateFlush
     * false) a batch reaches stdout in one write. When the ring is empty it naps PARK_NANOS and looks again;
     * only after IDLE_NAPS empty naps in a row (no traffic for about 100 ms) does it raise the sleeping flag
     * and park until a producer unparks it. A producer reads the flag after each offer (a volatile read of
     * a line that only changes when the writer goes to sleep or wakes) and unparks the writer only when it
     * is set, and only the producer that clears it. So under traffic no event loop makes a futex call, a
     * queued line waits at most about one nap before it is written and flushed, and an idle gateway's
     * writer does not wake up at all.
     *
     * The lost-wakeup race (writer raises the flag while a producer's offer is in flight) is closed
     * Dekker-style: the producer publishes its slot with a volatile store before it reads the flag, the
     * writer raises the flag with a volatile store before it looks at the ring once more. The writer's park
     * is still bounded (SLEEP_NANOS), as a second guard.
     *
     * stop() stops accepting events, wakes the writer and lets it drain what is queued for at most
     * maxFlushTime, then stops the attached appenders.
     */

    static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    static final int IDLE_NAPS = 100;
    static final long SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final int MAX_BATCH = 4096;

    private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
    private final LongAdder dropped = new LongAdder();
    private final AtomicLong nextWarnNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong droppedAtLastWarn = new AtomicLong();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private int queueSize = 65536;
    private int maxFlushTime = 1000;
    private volatile boolean running;
    private @Nullable BoundedRing<ILoggingEvent> queue;
    private @Nullable Thread writer;

    /** Capacity of the queue, in events (default 65536), rounded up to a power of two (at least 2). */
    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    public int getQueueSize() {
        return queueSize;
    }

    /** How long {@link #stop()} waits for queued events to be written, in milliseconds (default 1000). */
    public void setMaxFlushTime(int maxFlushTime) {
        this.maxFlushTime = maxFlushTime;
    }

    public int getMaxFlushTime() {
        return maxFlushTime;
    }

    /** Events dropped because the queue was full, since this appender was created. */
    public long dropped() {
        return dropped.sum();
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (queueSize < 1 || queueSize > BoundedRing.MAX_CAPACITY) {
            addError("queueSize " + queueSize + " is out of range (expected 1.." + BoundedRing.MAX_CAPACITY + ")");
            return;
        }
        if (!appenders.iteratorForAppenders().hasNext()) {
            addError("no appender attached to " + getName() + " (expected an <appender-ref>)");
            return;
        }
        BoundedRing<ILoggingEvent> q = new BoundedRing<>(queueSize);
        queue = q;
        Thread t = new Thread(() -> drain(q), "portcullis-log-" + getName());
        t.setDaemon(true);
        writer = t;
        running = true;
        super.start();
        t.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        BoundedRing<ILoggingEvent> q = queue;
        if (q == null) {
            return;
        }
        event.prepareForDeferredProcessing();
        if (!q.offer(event)) {
            dropped.increment();
            warnIfDue(q.capacity());
            return;
        }
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            Thread t = writer;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private void warnIfDue(int capacity) {
        long now = System.nanoTime();
        long due = nextWarnNanos.get();
        if (now - due < 0 || !nextWarnNanos.compareAndSet(due, now + WARN_INTERVAL_NANOS)) {
            return;
        }
        long total = dropped.sum();
        long since = total - droppedAtLastWarn.getAndSet(total);
        if (getContext() instanceof LoggerContext loggers) {
            loggers.getLogger(DroppingAsyncAppender.class).warn(
                    "log lines dropped: appender={} dropped={} dropped_total={} queue_size={}",
                    getName(), since, total, capacity);
        } else {
            addWarn(since + " events dropped by " + getName() + " (" + total + " in total)");
        }
    }

    private void drain(BoundedRing<ILoggingEvent> q) {
        int idleNaps = 0;
        while (running) {
            if (writeBatch(q) > 0) {
                idleNaps = 0;
            } else if (++idleNaps < IDLE_NAPS) {
                LockSupport.parkNanos(this, PARK_NANOS);
            } else {
                sleeping.set(true);
                if (q.isEmpty() && running) {
                    LockSupport.parkNanos(this, SLEEP_NANOS);
                }
                sleeping.set(false);
                idleNaps = 0;
            }
        }
        while (writeBatch(q) > 0) {
            // stop(): write what is still queued; stop() bounds how long it waits for this
        }
    }

    /** Appends up to MAX_BATCH queued events in order, then flushes if any; returns how many. */
    private int writeBatch(BoundedRing<ILoggingEvent> q) {
        int n = 0;
        for (ILoggingEvent event; n < MAX_BATCH && (event = q.poll()) != null; n++) {
            appenders.appendLoopOnAppenders(event);
        }
        if (n > 0) {
            flushAppenders();
        }
        return n;
    }

    private void flushAppenders() {
        for (Iterator<Appender<ILoggingEvent>> it = appenders.iteratorForAppenders(); it.hasNext(); ) {
            Appender<ILoggingEvent> appender = it.next();
            try {
                if (appender instanceof Flushable flushable) {
                    flushable.flush();
                } else if (appender instanceof OutputStreamAppender<ILoggingEvent> stream
                        && !stream.isImmediateFlush()
                        && stream.isStarted()
                        && stream.getOutputStream() != null) {
                    stream.getOutputStream().flush();
                }
            } catch (IOException | RuntimeException e) {
                addError("flushing " + appender.getName() + " failed", e);
            }
        }
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        running = false;
        Thread t = writer;
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(maxFlushTime);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                addWarn("writer of " + getName() + " still busy after " + maxFlushTime + " ms; queued events lost");
            }
        }
        appenders.detachAndStopAllAppenders();
    }

    @Override
    public void addAppender(Appender<ILoggingEvent> appender) {
        appenders.addAppender(appender);
    }

    @Override
    public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
        return appenders.iteratorForAppenders();
    }

    @Override
    public @Nullable Appender<ILoggingEvent> getAppender(String name) {
        return appenders.getAppender(name);
    }

    @Override
    public boolean isAttached(Appender<ILoggingEvent> appender) {
        return appenders.isAttached(appender);
    }

    @Override
    public void detachAndStopAllAppenders() {
        appenders.detachAndStopAllAppenders();
    }

    @Override
    public boolean detachAppender(Appender<ILoggingEvent> appender) {
        return appenders.detachAppender(appender);
    }

    @Override
    public boolean detachAppender(String name) {
        return appenders.detachAppender(name);
    }
}
