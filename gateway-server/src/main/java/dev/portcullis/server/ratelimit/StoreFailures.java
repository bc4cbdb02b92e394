package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one store reports into the process's store meters and its log: failed answers counted once each and logged at
 * most once per second (with how many were not, so that the lines add up to the counter), connection problems
 * logged at most once per second, latency, and whether its connection is up.
 */
final class StoreFailures {

    /*
     * Implementation notes: a failed answer is logged at once when no failure line was logged in the
     * last second, else counted in unlogged; the first one counted schedules a flush for when that
     * second ends, which logs the last of them with how many more there were. So every failure is in
     * exactly one line within about a second, whether or not another one follows: the (1 + N) of the
     * lines add up to portcullis_rate_limit_store_errors_total. Connection problems (cannot connect,
     * a handshake refused) are not answers: they have a once-per-second budget of their own, and one
     * not logged is dropped (the failed requests they cause are counted and logged as failures).
     */

    private static final Logger LOG = LoggerFactory.getLogger(RedisBucketStore.class);
    /** A failure, how many more since the last line, and the on_error that decided them. */
    private static final String FAILURE_LINE = "{} ({} more failures in the last second); on_error {} decides";
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Runs a task later, off the caller's thread: the store's loop. */
    @FunctionalInterface
    interface Later {
        void schedule(Runnable task, long delayNanos);
    }

    private final SharedStoreSettings settings;
    private final RateLimitStoreMetrics metrics;
    private final LongSupplier nanoTime;
    private final Later later;
    private final String prefix;
    private final AtomicLong lastFailureLine;
    private final AtomicLong lastProblemLine;
    private final AtomicLong unlogged = new AtomicLong();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private volatile @Nullable String lastUnlogged;
    /** Confined to the store's loop. */
    private boolean up;

    /**
     * @param nanoTime the clock the once-per-second log reads ({@link System#nanoTime} but in tests)
     * @param later where the flush of failures not logged yet runs
     */
    StoreFailures(SharedStoreSettings settings, RateLimitStoreMetrics metrics, LongSupplier nanoTime, Later later) {
        this.settings = settings;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.later = later;
        this.prefix = "rate_limit_store " + settings.address() + ": ";
        long start = nanoTime.getAsLong() - LOG_INTERVAL_NANOS;
        this.lastFailureLine = new AtomicLong(start);
        this.lastProblemLine = new AtomicLong(start);
    }

    /** An exception for a failure of this store, naming it (without a stack trace). */
    StoreException failure(String why) {
        return new StoreException(prefix + why);
    }

    /**
     * A token request's answer completed exceptionally (the store failed or was too slow, and {@code on_error}
     * decides): counted and logged; called once per answer, on any thread.
     */
    void answerFailed(Throwable cause) {
        metrics.error();
        String message = String.valueOf(cause.getMessage());
        if (claim(lastFailureLine)) {
            LOG.warn(FAILURE_LINE, message, unlogged.getAndSet(0), settings.onError().code());
            return;
        }
        lastUnlogged = message;
        unlogged.incrementAndGet();
        if (flushScheduled.compareAndSet(false, true)) {
            long delay = lastFailureLine.get() + LOG_INTERVAL_NANOS - nanoTime.getAsLong();
            later.schedule(this::flush, Math.max(0, delay));
        }
    }

    /** Logs the failures not logged yet, if any: the last of them, with how many more there were. */
    void flush() {
        flushScheduled.set(false);
        long count = unlogged.getAndSet(0);
        if (count > 0) {
            lastFailureLine.set(nanoTime.getAsLong());
            LOG.warn(FAILURE_LINE, lastUnlogged, count - 1, settings.onError().code());
        }
    }

    /** A token request was answered after {@code nanos}. */
    void answered(long nanos) {
        metrics.answered(nanos);
    }

    /** Logs a problem of the store's connection ({@code why}) at most once per second; any thread. */
    void log(String why) {
        if (claim(lastProblemLine)) {
            LOG.warn("{}{}; on_error {} decides meanwhile", prefix, why, settings.onError().code());
        }
    }

    /** True when no line of this kind was logged in the last second: the caller logs one now. */
    private boolean claim(AtomicLong lastLine) {
        long now = nanoTime.getAsLong();
        long last = lastLine.get();
        return now - last >= LOG_INTERVAL_NANOS && lastLine.compareAndSet(last, now);
    }

    /** The connection came up or went down; on the store's loop. */
    void up(boolean isUp) {
        if (up != isUp) {
            up = isUp;
            metrics.up(isUp);
        }
    }
}
