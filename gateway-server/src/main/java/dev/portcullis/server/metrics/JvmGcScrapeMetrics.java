package dev.portcullis.server.metrics;

import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Garbage-collection meters read from the collectors' and memory pools' MXBeans when they are scraped, instead of
 * Micrometer's {@code JvmGcMetrics}, which subscribes to a JMX notification per collection.
 *
 * <p>Why: under load the gateway collects its young generation some 30 times a second; each notification made
 * the JVM build a {@code GcInfo} composite and Micrometer unpack it on the notification thread, on the same core as
 * the event loop, and that JMX code kept the JIT busy long after warm-up (bench/README.md). Reading at scrape time
 * costs nothing between scrapes. What a notification alone can tell (each pause's cause, the bytes allocated and
 * promoted per collection, the longest pause) is not exported.
 *
 * <ul>
 *   <li>{@code jvm_gc_collection_seconds_count} / {@code _sum} {@code {gc}}: collections and their accumulated time
 *       per collector, as the JVM counts them (for a stop-the-world collector such as Serial, the pauses);
 *   <li>{@code jvm_gc_live_data_size_bytes}: the old generation's occupancy after its last collection;
 *   <li>{@code jvm_gc_max_data_size_bytes}: the old generation's maximum size.
 * </ul>
 */
final class JvmGcScrapeMetrics implements MeterBinder {
    /** Held strongly: a function meter keeps only a weak reference to what it reads. */
    private final List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
    private final @Nullable MemoryPoolMXBean oldGeneration = longLivedPool(ManagementFactory.getMemoryPoolMXBeans());

    @Override
    public void bindTo(MeterRegistry registry) {
        for (GarbageCollectorMXBean collector : collectors) {
            FunctionTimer.builder("jvm.gc.collection", collector,
                            c -> Math.max(0, c.getCollectionCount()),
                            c -> Math.max(0, c.getCollectionTime()), TimeUnit.MILLISECONDS)
                    .tag("gc", collector.getName())
                    .description("Collections by this collector and their accumulated time, read at scrape time")
                    .register(registry);
        }
        MemoryPoolMXBean oldGeneration = this.oldGeneration;
        if (oldGeneration == null) {
            return;
        }
        Gauge.builder("jvm.gc.live.data.size", oldGeneration, JvmGcScrapeMetrics::usedAfterLastCollection)
                .baseUnit(BaseUnits.BYTES)
                .description("Size of the long-lived heap pool after its last collection")
                .register(registry);
        Gauge.builder("jvm.gc.max.data.size", oldGeneration, pool -> pool.getUsage().getMax())
                .baseUnit(BaseUnits.BYTES)
                .description("Maximum size of the long-lived heap pool")
                .register(registry);
    }

    /** The old generation (or the single heap pool of a non-generational collector), if the JVM names one. */
    static @Nullable MemoryPoolMXBean longLivedPool(List<MemoryPoolMXBean> pools) {
        for (MemoryPoolMXBean pool : pools) {
            if (pool.getType() == MemoryType.HEAP && isLongLived(pool.getName())) {
                return pool;
            }
        }
        return null;
    }

    /** Pool names of the long-lived generation across HotSpot's collectors (as Micrometer's JvmMemory tells them). */
    static boolean isLongLived(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith("old gen") || n.endsWith("tenured gen") || n.equals("shenandoah") || n.equals("zheap")
                || n.equals("zgc old generation") || n.endsWith("old space");
    }

    private static double usedAfterLastCollection(MemoryPoolMXBean pool) {
        MemoryUsage usage = pool.getCollectionUsage();
        return usage == null ? Double.NaN : usage.getUsed();
    }
}
