package dev.portcullis.server.admin;

import dev.portcullis.core.runtime.Reloader;
import dev.portcullis.core.runtime.SnapshotHolder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Pipeline of an admin connection: small, aggregated requests only. The flow control handler holds back
 * a pipelined request while the handler has stopped reading (during {@code POST /reload}), which
 * {@code autoRead} alone cannot do for requests already decoded from the same read.
 */
public final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_ADMIN_REQUEST = 64 * 1024;
    private final AdminHandler handler;

    /** {@code reloader} is null when the gateway was started without a config file to reload. */
    public AdminChannelInitializer(SnapshotHolder snapshots, BooleanSupplier ready, @Nullable Reloader reloader,
            PrometheusMeterRegistry metrics) {
        this.handler = new AdminHandler(ready, new ConfigEndpoint(snapshots, reloader), new MetricsEndpoint(metrics));
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        channel.pipeline()
                .addLast("timeout", new ReadTimeoutHandler(60))
                .addLast("codec", new HttpServerCodec())
                .addLast("aggregator", new HttpObjectAggregator(MAX_ADMIN_REQUEST))
                .addLast("flow", new FlowControlHandler())
                .addLast("admin", handler);
    }
}
