package dev.portcullis.server.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a pooled upstream connection: hands what it reads to the exchange the
 * connection is lent to, and closes the connection if anything arrives while it idles in the pool.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamHandler.class);

    private final UpstreamPool pool;
    private @Nullable UpstreamListener listener;
    private boolean reused;

    UpstreamHandler(UpstreamPool pool) {
        this.pool = pool;
    }

    /** The pool this connection belongs to. */
    UpstreamPool pool() {
        return pool;
    }

    void bind(UpstreamListener next) {
        this.listener = next;
    }

    void unbind() {
        this.listener = null;
        this.reused = true;
    }

    /** True once the connection has served an exchange before (a stale keep-alive may be closed by the peer). */
    boolean reused() {
        return reused;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamListener current = listener;
        if (current != null && msg instanceof HttpObject http) {
            current.onUpstreamMessage(http);
        } else {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamListener current = listener;
        if (current != null) {
            current.onUpstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamListener current = listener;
        if (current != null) {
            current.onUpstreamWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && listener == null) {
            ctx.close();
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamListener current = listener;
        listener = null;
        if (current != null) {
            current.onUpstreamClosed(null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("upstream connection {} failed", ctx.channel(), cause);
        UpstreamListener current = listener;
        listener = null;
        ctx.close();
        if (current != null) {
            current.onUpstreamClosed(cause);
        }
    }
}
