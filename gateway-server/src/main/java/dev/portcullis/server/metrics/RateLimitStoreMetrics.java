package dev.portcullis.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The shared rate limit store's meters (SPEC 5): {@code portcullis_rate_limit_store_errors_total},
 * {@code portcullis_rate_limit_store_up} and {@code portcullis_rate_limit_store_duration_seconds}; one per process,
 * fed by whichever store connection the live configuration uses, and registered only while that configuration has a
 * {@code rate_limit_store} (so that {@code store_up 0} means a store is down, never that there is none).
 */
public final class RateLimitStoreMetrics {

    /*
     * Implementation notes: the counts live here, not in the meters, so that they go on when a reload
     * removes the store and another adds one again: the errors counter continues; the duration
     * histogram is a new timer each time (a counter reset, which Prometheus' rate() allows for).
     * Answers recorded while no timer is registered (the old generation's last calls after a reload
     * removed the store) are not in any histogram.
     */

    private static final Duration[] BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofSeconds(1)
    };

    private final LongAdder errors = new LongAdder();
    /** Store connections up now. */
    private final AtomicInteger up = new AtomicInteger();
    private volatile @Nullable Timer latency;
    private @Nullable MeterRegistry registry;
    /** The meters registered while a store is configured; empty otherwise. */
    private final List<Meter> meters = new ArrayList<>();

    /**
     * Registers the meters in {@code registry} while a store is configured ({@link #configured}); answers recorded
     * before that are not in the latency histogram.
     */
    synchronized void bind(MeterRegistry registry, boolean storeConfigured) {
        this.registry = registry;
        configured(storeConfigured);
    }

    /**
     * Whether the live (or about to be live) configuration has a {@code rate_limit_store}: registers the meters or
     * removes them. Called on every (re)load; a repeat changes nothing.
     */
    synchronized void configured(boolean storeConfigured) {
        MeterRegistry target = registry;
        if (target == null || storeConfigured == !meters.isEmpty()) {
            return;
        }
        if (!storeConfigured) {
            latency = null;
            for (Meter meter : meters) {
                target.remove(meter);
            }
            meters.clear();
            return;
        }
        meters.add(FunctionCounter.builder("portcullis.rate.limit.store.errors", errors, LongAdder::sum)
                .description("Rate limit store answers that failed or came later than its timeout (on_error decided)")
                .register(target));
        meters.add(Gauge.builder("portcullis.rate.limit.store.up", up, n -> n.get() > 0 ? 1 : 0)
                .description("1 while the rate limit store connection is up, else 0")
                .register(target));
        Timer timer = Timer.builder("portcullis.rate.limit.store.duration")
                .description("Time from a rate limit store request to its answer")
                .serviceLevelObjectives(BUCKETS)
                .register(target);
        meters.add(timer);
        latency = timer;
    }

    /** A store answer failed, timed out or could not be sent. */
    public void error() {
        errors.increment();
    }

    /** Store errors so far. */
    public long errors() {
        return errors.sum();
    }

    /**
     * A store connection came up (true) or went down; call once per change. The gauge is 1 while any is up (during
     * a reload that replaced the store, the old and the new one overlap).
     */
    public void up(boolean isUp) {
        if (isUp) {
            up.incrementAndGet();
        } else {
            up.decrementAndGet();
        }
    }

    /** Whether a store connection is up. */
    public boolean isUp() {
        return up.get() > 0;
    }

    /** A store answer took {@code nanos}. */
    public void answered(long nanos) {
        Timer timer = latency;
        if (timer != null) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }
    }
}
