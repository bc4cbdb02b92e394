package dev.portcullis.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JvmGcScrapeMetricsTest {

    @Test
    void readsEveryCollectorsCountAndTimeWhenScraped() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new JvmGcScrapeMetrics().bindTo(registry);
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            FunctionTimer timer = registry.get("jvm.gc.collection").tag("gc", collector.getName()).functionTimer();
            long before = collector.getCollectionCount();
            assertThat((long) timer.count()).isGreaterThanOrEqualTo(before);
            assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(0);
        }
        long collections = totalCount(registry);
        System.gc(); // with every HotSpot collector's defaults, an explicit GC is a counted collection
        assertThat(totalCount(registry)).isGreaterThan(collections);
    }

    @Test
    void exportsTheOldGenerationsSizes() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new JvmGcScrapeMetrics().bindTo(registry);
        MemoryPoolMXBean old = JvmGcScrapeMetrics.longLivedPool(ManagementFactory.getMemoryPoolMXBeans());
        assertThat(old).as("the test JVM's collector has an old generation").isNotNull();
        System.gc();
        assertThat(registry.get("jvm.gc.max.data.size").gauge().value()).isEqualTo(old.getUsage().getMax());
        assertThat(registry.get("jvm.gc.live.data.size").gauge().value())
                .isEqualTo(old.getCollectionUsage().getUsed());
    }

    @Test
    void tellsTheLongLivedPoolOfEachHotSpotCollector() {
        assertThat(JvmGcScrapeMetrics.isLongLived("Tenured Gen")).isTrue();        // Serial
        assertThat(JvmGcScrapeMetrics.isLongLived("PS Old Gen")).isTrue();         // Parallel
        assertThat(JvmGcScrapeMetrics.isLongLived("G1 Old Gen")).isTrue();         // G1
        assertThat(JvmGcScrapeMetrics.isLongLived("ZHeap")).isTrue();              // ZGC
        assertThat(JvmGcScrapeMetrics.isLongLived("ZGC Old Generation")).isTrue(); // generational ZGC
        assertThat(JvmGcScrapeMetrics.isLongLived("Shenandoah")).isTrue();
        assertThat(JvmGcScrapeMetrics.isLongLived("Eden Space")).isFalse();
        assertThat(JvmGcScrapeMetrics.isLongLived("G1 Survivor Space")).isFalse();
        assertThat(JvmGcScrapeMetrics.isLongLived("Metaspace")).isFalse();
    }

    private static long totalCount(SimpleMeterRegistry registry) {
        return registry.get("jvm.gc.collection").functionTimers().stream().mapToLong(t -> (long) t.count()).sum();
    }
}
