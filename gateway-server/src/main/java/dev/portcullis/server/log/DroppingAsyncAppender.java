package dev.portcullis.server.log;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * A logback appender that hands events to its attached appenders on one writer thread through a bounded
 * queue, and drops and counts the events that do not fit instead of making the logging thread wait.
 */
public final class DroppingAsyncAppender extends UnsynchronizedAppenderBase<ILoggingEvent>
        implements AppenderAttachable<ILoggingEvent> {

    /*
     * Why not logback's AsyncAppender with neverBlock: it drops silently (the offer's result is ignored
     * inside a private method and its queue is package-private), so nothing could count what was lost.
     *
     * append() runs on the logging thread, an event loop for the access log: it prepares the event for
     * another thread (formatted message, thread name) and offers it; a full queue costs one counter
     * increment and, at most once per WARN_INTERVAL, a WARN naming how many lines were lost since the last
     * one. The WARN goes to this class's logger, which the operator routes elsewhere than this appender
     * (logback's guard against re-entrant appends would otherwise swallow it).
     *
     * The writer thread takes events in order and appends them to every attached appender. stop() stops
     * taking new events, lets the writer drain what is queued for at most maxFlushTime, then stops the
     * attached appenders.
     */

    static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
    private final LongAdder dropped = new LongAdder();
    private final AtomicLong nextWarnNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong droppedAtLastWarn = new AtomicLong();
    private int queueSize = 65536;
    private int maxFlushTime = 1000;
    private @Nullable BlockingQueue<ILoggingEvent> queue;
    private @Nullable Thread writer;

    /** Capacity of the queue, in events (default 65536). */
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
        if (queueSize < 1) {
            addError("queueSize " + queueSize + " is not positive (expected at least 1)");
            return;
        }
        if (!appenders.iteratorForAppenders().hasNext()) {
            addError("no appender attached to " + getName() + " (expected an <appender-ref>)");
            return;
        }
        BlockingQueue<ILoggingEvent> q = new ArrayBlockingQueue<>(queueSize);
        queue = q;
        Thread t = new Thread(() -> drain(q), "portcullis-log-" + getName());
        t.setDaemon(true);
        writer = t;
        super.start();
        t.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        BlockingQueue<ILoggingEvent> q = queue;
        if (q == null) {
            return;
        }
        event.prepareForDeferredProcessing();
        if (!q.offer(event)) {
            dropped.increment();
            warnIfDue();
        }
    }

    private void warnIfDue() {
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
                    getName(), since, total, queueSize);
        } else {
            addWarn(since + " events dropped by " + getName() + " (" + total + " in total)");
        }
    }

    private void drain(BlockingQueue<ILoggingEvent> q) {
        try {
            while (isStarted()) {
                appenders.appendLoopOnAppenders(q.take());
            }
        } catch (InterruptedException stopping) {
            // stop() interrupts a writer waiting for events; what is still queued is written below
        }
        List<ILoggingEvent> rest = new ArrayList<>(q.size());
        q.drainTo(rest);
        for (ILoggingEvent event : rest) {
            appenders.appendLoopOnAppenders(event);
        }
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        Thread t = writer;
        if (t != null) {
            t.interrupt();
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
