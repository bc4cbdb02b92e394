package dev.portcullis.server.pipeline;

import dev.portcullis.server.http.HandlerNames;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.log.OccasionalWarning;
import dev.portcullis.core.config.Limits;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.proxy.ProxyFrontendHandler;
import dev.portcullis.server.proxy.Upstreams;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Composes a client connection's pipeline from named steps:
 * connection limit, head timeout, HTTP codec, exchange serializer, access control, proxy.
 */
public final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyChannelInitializer.class);

    private final ServerContext server;
    private final Upstreams upstreams;
    private final AtomicInteger open = new AtomicInteger();
    private final OccasionalWarning refusals = new OccasionalWarning();

    public ProxyChannelInitializer(ServerContext server, Upstreams upstreams) {
        this.server = server;
        this.upstreams = upstreams;
    }


    /** A new connection gets the limits and timeouts of the generation live when it is accepted. */
    @Override
    protected void initChannel(SocketChannel channel) {
        GatewaySnapshot live = server.snapshots().current();
        if (live == null) {
            channel.close();
            return;
        }
        Limits limits = live.config().limits();
        if (!admit(channel, limits)) {
            return;
        }
        ConnectionState state = new ConnectionState(
                channel, server, limits.headerTimeout().toNanos(), limits.idleTimeout().toNanos());
        ChannelPipeline pipeline = channel.pipeline();
        addHeadTimeout(pipeline, state);
        StrictHttpServerCodec codec = addCodec(pipeline, limits, state);
        addAccessControl(pipeline, state, codec);
        addProxy(pipeline, state);
    }

    private boolean admit(SocketChannel channel, Limits limits) {
        if (open.incrementAndGet() > limits.maxConnections()) {
            open.decrementAndGet();
            long unlogged = refusals.due();
            if (unlogged >= 0) {
                LOG.warn("refusing connection from {}: {} client connections open (limits.max_connections); {} more"
                        + " refused since the last such line (logged at most every 10 s)",
                        channel.remoteAddress(), limits.maxConnections(), unlogged);
            }
            channel.close();
            return false;
        }
        channel.closeFuture().addListener(closed -> open.decrementAndGet());
        server.clients().add(channel);
        return true;
    }

    private static void addHeadTimeout(ChannelPipeline pipeline, ConnectionState state) {
        pipeline.addLast(HandlerNames.HEAD_TIMEOUT, new RequestHeadTimeoutHandler(state));
    }

    private static StrictHttpServerCodec addCodec(ChannelPipeline pipeline, Limits limits, ConnectionState state) {
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxUriLength() + Limits.REQUEST_LINE_OVERHEAD)
                .setMaxHeaderSize(limits.maxHeaderSize())
                .setMaxChunkSize(64 * 1024)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true);
        StrictHttpServerCodec codec = new StrictHttpServerCodec(decoder);
        pipeline.addLast(HandlerNames.CODEC, codec);
        state.headBuffered(codec::headStarted);
        return codec;
    }

    private static void addAccessControl(ChannelPipeline pipeline, ConnectionState state,
            StrictHttpServerCodec codec) {
        pipeline.addLast(HandlerNames.SERIALIZER, new ExchangeSerializer(state, codec));
        pipeline.addLast(HandlerNames.ACCESS_CONTROL, new AccessControlHandler(state));
    }

    private void addProxy(ChannelPipeline pipeline, ConnectionState state) {
        pipeline.addLast(HandlerNames.PROXY, new ProxyFrontendHandler(state, upstreams));
    }
}
