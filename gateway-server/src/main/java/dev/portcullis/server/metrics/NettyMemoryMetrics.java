package dev.portcullis.server.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;

/** Gauges of Netty's memory: what the default buffer allocator holds, and the direct memory Netty counts. */
final class NettyMemoryMetrics {
    private NettyMemoryMetrics() {}

    /** Registers the gauges on {@code registry}. */
    static void bind(MeterRegistry registry) {
        ByteBufAllocator allocator = ByteBufAllocator.DEFAULT;
        if (allocator instanceof ByteBufAllocatorMetricProvider provider) {
            ByteBufAllocatorMetric metric = provider.metric();
            String type = allocator.getClass().getSimpleName();
            Gauge.builder("netty.allocator.memory.used", metric, ByteBufAllocatorMetric::usedDirectMemory)
                    .description("Memory held by Netty's default buffer allocator (pooled or adaptive)")
                    .baseUnit("bytes")
                    .tag("area", "direct")
                    .tag("allocator", type)
                    .strongReference(true)
                    .register(registry);
            Gauge.builder("netty.allocator.memory.used", metric, ByteBufAllocatorMetric::usedHeapMemory)
                    .description("Memory held by Netty's default buffer allocator (pooled or adaptive)")
                    .baseUnit("bytes")
                    .tag("area", "heap")
                    .tag("allocator", type)
                    .strongReference(true)
                    .register(registry);
        }
        Gauge.builder("netty.direct.memory.used", PlatformDependent::usedDirectMemory)
                .description("Direct memory Netty has reserved, all allocators (-1 when Netty does not count it)")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder("netty.direct.memory.max", PlatformDependent::maxDirectMemory)
                .description("The direct memory limit Netty works with")
                .baseUnit("bytes")
                .register(registry);
    }
}
