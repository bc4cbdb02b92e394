package dev.portcullis.server.tunnel;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.http.HandlerNames;
import dev.portcullis.server.http.HopByHopHeaders;
import dev.portcullis.server.http.RequestIds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes over a client connection and its upstream connection once the upstream switched to WebSocket
 * (a {@code 101} to an allowed handshake): both lose their HTTP handlers and bytes are relayed both
 * ways as they come, with backpressure, until either side closes, fails, or nothing moves for
 * {@code limits.idle_timeout} ({@link TunnelIdleWatch}); then both are closed and the exchange is logged with
 * status 101.
 *
 * <p>Implementation notes: both channels share one event loop ({@code UpstreamPool} binds the
 * upstream connection to the client's), so the tunnel needs no locking. Bytes a decoder had already
 * read past the handshake come out when the decoder is removed; they wait in the relay until both
 * pipelines are raw, so the {@code 101} always leaves before them. When one side cannot take more,
 * the other stops reading until it can (Netty's writability). The upgraded upstream connection never
 * goes back to the pool: it counts against {@code upstream.max_connections} until it is closed. The
 * exchange stays open for the tunnel's life, so the client connection's head and idle timers (which
 * only run between exchanges) never close a live tunnel, and its access line reports the relayed bytes;
 * but it lets go of its config generation as soon as the tunnel is up (the tunnel copied its idle
 * timeout), so that a reload can close the old generation. A server that starts draining closes its
 * tunnels ({@link ServerContext.Tunnel}) instead of waiting for them.
 */
public final class WebSocketTunnel implements ServerContext.Tunnel {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTunnel.class);
    /** Name of the relay handler in both pipelines. */
    public static final String RELAY = "websocket-tunnel";
    /** The HTTP handlers of a client connection, removed last to first. */
    private static final List<String> CLIENT_HTTP_HANDLERS = List.of(
            HandlerNames.PROXY, HandlerNames.ACCESS_CONTROL, HandlerNames.SERIALIZER, HandlerNames.CODEC);

    private final ConnectionState state;
    private final Exchange exchange;
    private final Channel client;
    private final Channel upstream;
    private final TunnelIdleWatch idleWatch;
    private final Relay fromClient;
    private final Relay fromUpstream;
    private boolean started;
    private boolean ended;

    private WebSocketTunnel(ConnectionState state, Exchange exchange, Channel upstream) {
        this.state = state;
        this.exchange = exchange;
        this.client = state.channel();
        this.upstream = upstream;
        this.idleWatch = new TunnelIdleWatch(client, upstream,
                exchange.snapshot().config().limits().idleTimeout().toNanos(), this::idle);
        this.fromClient = new Relay(true);
        this.fromUpstream = new Relay(false);
    }

    /**
     * Answers the client with the upstream's {@code 101} and turns both connections into a tunnel.
     * Called on the client's event loop while the upstream's response head is being read; the caller
     * has let go of {@code upstream} (it is not returned to the pool).
     */
    public static void open(ConnectionState state, Exchange exchange, HttpResponse switching, Channel upstream) {
        new WebSocketTunnel(state, exchange, upstream).start(switching);
    }

    private void start(HttpResponse switching) {
        exchange.upstreamStatus(101);
        exchange.status(101);
        exchange.releaseSnapshot();
        client.write(clientResponse(switching));
        takeOver(client.pipeline(), fromClient, CLIENT_HTTP_HANDLERS);
        takeOver(upstream.pipeline(), fromUpstream, otherHandlers(upstream.pipeline()));
        started = true;
        for (ConnectionState.Pause reason : ConnectionState.Pause.values()) {
            state.resume(reason);
        }
        upstream.config().setAutoRead(true);
        fromUpstream.flushEarly();
        fromClient.flushEarly();
        client.flush();
        upstream.flush();
        if (!client.isActive() || !upstream.isActive()) {
            end(null);
            return;
        }
        idleWatch.start();
        state.server().tunnelOpened(this);
    }

    @Override
    public void closeForDrain() {
        EventLoop loop = client.eventLoop();
        if (!loop.isShuttingDown()) {
            loop.execute(() -> end(null));
        }
    }

    /** The upstream's 101 as the client gets it: its own headers, hop-by-hop ones replaced, the request id. */
    private HttpResponse clientResponse(HttpResponse switching) {
        HttpHeaders headers = new DefaultHttpHeaders().add(switching.headers());
        HopByHopHeaders.strip(headers);
        headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        WebSocketUpgrade.keep(headers);
        headers.set(RequestIds.HEADER, exchange.requestId());
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, switching.status(), Unpooled.EMPTY_BUFFER,
                headers, new DefaultHttpHeaders());
    }

    private static List<String> otherHandlers(ChannelPipeline pipeline) {
        List<String> names = new ArrayList<>();
        for (String name : pipeline.names()) {
            if (pipeline.get(name) != null) {
                names.add(0, name);
            }
        }
        return names;
    }

    /*
     * The relay goes in last, then the HTTP handlers are removed from the last to the first: a decoder
     * hands the bytes it holds past the message it decoded to the next handler when it is removed, and
     * that must be the relay.
     */
    private static void takeOver(ChannelPipeline pipeline, Relay relay, List<String> remove) {
        pipeline.addLast(RELAY, relay);
        for (String name : remove) {
            ChannelHandler handler = pipeline.get(name);
            if (handler != null && handler != relay) {
                pipeline.remove(handler);
            }
        }
    }

    private void idle() {
        if (!ended) {
            exchange.error(ExchangeError.TUNNEL_IDLE);
            end(null);
        }
    }

    private void pauseReading(Channel source) {
        if (source == client) {
            state.pause(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
        } else {
            upstream.config().setAutoRead(false);
        }
    }

    private void resumeReading(Channel source) {
        if (source == client) {
            state.resume(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
        } else {
            upstream.config().setAutoRead(true);
        }
    }

    /** Ends the tunnel once: what was relayed is flushed, both connections closed, the exchange logged. */
    private void end(@Nullable ExchangeError error) {
        if (ended) {
            return;
        }
        ended = true;
        state.server().tunnelClosed(this);
        idleWatch.stop();
        fromClient.releaseEarly();
        fromUpstream.releaseEarly();
        TunnelIdleWatch.closeWhenDrained(upstream);
        TunnelIdleWatch.closeWhenDrained(client);
        if (error != null) {
            exchange.error(error);
        }
        exchange.finish();
    }

    /** Relays what one side reads to the other side; the last handler of each tunnelled pipeline. */
    private final class Relay extends ChannelInboundHandlerAdapter {
        private final boolean clientSide;
        private final ArrayDeque<ByteBuf> early = new ArrayDeque<>();

        Relay(boolean clientSide) {
            this.clientSide = clientSide;
        }

        private Channel source() {
            return clientSide ? client : upstream;
        }

        private Channel target() {
            return clientSide ? upstream : client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf bytes) || ended) {
                // the decoder's end-of-message marker of the 101, or anything after the end
                ReferenceCountUtil.release(msg);
                return;
            }
            idleWatch.activity();
            if (!started) {
                early.add(bytes);
                return;
            }
            relay(bytes);
        }

        private void relay(ByteBuf bytes) {
            if (!clientSide) {
                exchange.addBytesOut(bytes.readableBytes());
            }
            target().write(bytes);
        }

        void flushEarly() {
            ByteBuf bytes;
            while ((bytes = early.poll()) != null) {
                relay(bytes);
            }
        }

        void releaseEarly() {
            ByteBuf bytes;
            while ((bytes = early.poll()) != null) {
                bytes.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!started || ended) {
                return;
            }
            Channel target = target();
            target.flush();
            if (!target.isWritable()) {
                pauseReading(source());
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (started && !ended && ctx.channel().isWritable()) {
                resumeReading(target());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(null);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("websocket tunnel {} failed on the {} side", exchange.requestId(),
                    clientSide ? "client" : "upstream", cause);
            end(clientSide ? null : ExchangeError.UPSTREAM_ERROR_MID_RESPONSE);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            releaseEarly();
        }
    }
}
