package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ClientStalledEvent;
import dev.portcullis.server.exchange.DrainTimeoutEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams an allowed request to a pooled upstream connection and the response back, one exchange at
 * a time, with backpressure both ways: when the receiving side cannot take more, the sending side
 * stops reading until it can (Netty's writability, as in its HexDumpProxy example).
 *
 * <p>Implementation notes: the handler only adapts the client channel's events. The exchange in flight
 * and its upstream side are an {@link UpstreamExchange}, the relay of its response a {@link ResponseRelay}
 * and its failures {@link ExchangeFailures}: one of each per client connection, reused for every
 * exchange, so proxying a request allocates none of them. Writes are flushed at the end of a read burst
 * of the other side (and when a request or response is complete), not per message.
 */
public final class ProxyFrontendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyFrontendHandler.class);

    private final UpstreamExchange exchange;
    private final ResponseRelay relay;

    public ProxyFrontendHandler(ConnectionState state, Upstreams upstreams) {
        this.exchange = new UpstreamExchange(state, upstreams);
        this.relay = exchange.relay();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        relay.attach(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            // a full request (no body) is its own last content: begin takes it whole
            exchange.begin(request);
        } else if (msg instanceof HttpContent content) {
            exchange.onClientBody(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        exchange.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            relay.clientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DrainTimeoutEvent.INSTANCE) {
            exchange.drainTimedOut();
        } else if (evt == ClientStalledEvent.INSTANCE) {
            relay.clientStalled();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        exchange.clientClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("client connection {} failed", ctx.channel(), cause);
        ctx.close();
    }
}
