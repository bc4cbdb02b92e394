package dev.portcullis.server.pipeline;

import dev.portcullis.server.exchange.ConnectionState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits before the HTTP codec and tells the connection state when raw bytes arrive, so that a request
 * head that starts but does not complete within {@code limits.header_timeout} gets a 408 (slowloris),
 * while a keep-alive connection that sends nothing is closed after {@code limits.idle_timeout}; and, as the
 * connection's first handler, when its writability changes (a client that takes nothing holds the gateway's buffers).
 */
final class RequestHeadTimeoutHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionState state;

    RequestHeadTimeoutHandler(ConnectionState state) {
        this.state = state;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        state.awaitNextHead();
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && buf.isReadable()) {
            if (!state.headBytesReceived(buf.readableBytes())) {
                // unfinished heads over all connections would outgrow the heap: this one goes, unanswered
                buf.release();
                ctx.close();
                return;
            }
            state.bytesReceived();
        }
        ctx.fireChannelRead(msg);
    }

    /** First to hear of it, whether the handlers after it are HTTP's or a WebSocket tunnel's. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        state.writabilityChanged();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        super.channelInactive(ctx);
        state.released();
    }
}
