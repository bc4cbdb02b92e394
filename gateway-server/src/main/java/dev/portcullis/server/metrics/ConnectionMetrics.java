package dev.portcullis.server.metrics;

import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.proxy.Upstreams;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Gauges of what the gateway holds open, read when scraped (nginx's stub_status "active connections", Envoy's
 * {@code downstream_cx_active} and {@code upstream_cx_active}): client connections, upstream connections of every pool
 * (one that drains after a reload too), WebSocket tunnels, and the memory held for clients that do not read.
 */
final class ConnectionMetrics {
    private ConnectionMetrics() {}

    /** Registers the gauges on {@code registry}. */
    static void bind(MeterRegistry registry, ServerContext context, Upstreams upstreams) {
        Gauge.builder("portcullis.client.connections", context, c -> c.clients().size())
                .description("Client connections open")
                .strongReference(true)
                .register(registry);
        Gauge.builder("portcullis.upstream.connections", upstreams, Upstreams::openConnections)
                .description("Upstream connections open or being opened, every pool (also one draining after a reload)")
                .strongReference(true)
                .register(registry);
        Gauge.builder("portcullis.websocket.tunnels", context, ServerContext::openTunnels)
                .description("WebSocket tunnels open")
                .strongReference(true)
                .register(registry);
        Gauge.builder("portcullis.stalled.client.memory", context, c -> c.stalled().held())
                .description("Direct memory held for clients that do not take their responses (README Limits)")
                .baseUnit("bytes")
                .strongReference(true)
                .register(registry);
    }
}
