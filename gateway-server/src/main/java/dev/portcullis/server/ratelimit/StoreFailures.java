package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one store reports into the process's store meters and its log: failed answers counted once each and logged at
 * most once per second (with how many were not), latency, and whether its connection is up.
 */
final class StoreFailures {
    private static final Logger LOG = LoggerFactory.getLogger(RedisBucketStore.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final SharedStoreSettings settings;
    private final RateLimitStoreMetrics metrics;
    private final LongSupplier nanoTime;
    private final AtomicLong lastLogNanos;
    private final LongAdder unlogged = new LongAdder();
    /** Confined to the store's loop. */
    private boolean up;

    StoreFailures(SharedStoreSettings settings, RateLimitStoreMetrics metrics) {
        this(settings, metrics, System::nanoTime);
    }

    /** With the clock the once-per-second log reads ({@link System#nanoTime} but in tests). */
    StoreFailures(SharedStoreSettings settings, RateLimitStoreMetrics metrics, LongSupplier nanoTime) {
        this.settings = settings;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.lastLogNanos = new AtomicLong(nanoTime.getAsLong() - LOG_INTERVAL_NANOS);
    }

    /** An exception for a failure of this store, naming it. */
    IllegalStateException failure(String why) {
        return new IllegalStateException("rate_limit_store " + settings.address() + ": " + why);
    }

    /**
     * A token request's answer completed exceptionally (the store failed, was too slow, or the waiting request gave
     * up): counted and logged; called once per answer, on any thread.
     */
    void answerFailed(Throwable cause) {
        metrics.error();
        logMessage(String.valueOf(cause.getMessage()));
    }

    /** A token request was answered after {@code nanos}. */
    void answered(long nanos) {
        metrics.answered(nanos);
    }

    /** Logs a failure of the store ({@code why}) at most once per second; any thread. */
    void log(String why) {
        logMessage("rate_limit_store " + settings.address() + ": " + why);
    }

    private void logMessage(String message) {
        long now = nanoTime.getAsLong();
        long last = lastLogNanos.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            LOG.warn("{} ({} more failures in the last second); on_error {} decides", message, unlogged.sumThenReset(),
                    settings.onError().code());
        } else {
            unlogged.increment();
        }
    }

    /** The connection came up or went down; on the store's loop. */
    void up(boolean isUp) {
        if (up != isUp) {
            up = isUp;
            metrics.up(isUp);
        }
    }
}
