package dev.portcullis.server.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a pooled upstream connection: hands what it reads to the exchange the
 * connection is lent to, and closes the connection if anything arrives while it idles in the pool.
 *
 * <p>Implementation notes. A response ends inside a read, and more may follow in the same read (a body
 * on a HEAD answer, bytes past Content-Length, an unsolicited second response). So a connection released
 * during a read goes back to the pool only at the end of that read, and only if nothing was decoded
 * after the response and nothing waits in the decoder; otherwise it is closed, never lent to the next
 * exchange (SPEC 3.7).
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamHandler.class);

    private final UpstreamPool pool;
    private final UpstreamResponseDecoder decoder;
    private @Nullable UpstreamListener listener;
    private boolean reused;
    private boolean reading;
    private boolean releasing;
    private boolean leftover;
    private @Nullable Channel channel;

    UpstreamHandler(UpstreamPool pool, UpstreamResponseDecoder decoder) {
        this.pool = pool;
        this.decoder = decoder;
    }

    /** The connection is lent to an exchange whose request has {@code method}. */
    void lend(UpstreamListener next, HttpMethod method) {
        decoder.expectResponseTo(method);
        bind(next);
    }

    /** Returns the connection to its pool now, or at the end of the current read. */
    void release(boolean reusable) {
        unbind();
        if (reading && reusable) {
            releasing = true;
            leftover = false;
            return;
        }
        pool.takeBack(ctxChannel(), reusable && !decoder.hasLeftover());
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
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.channel = ctx.channel();
    }

    private Channel ctxChannel() {
        Channel own = channel;
        if (own == null) {
            throw new IllegalStateException("handler not added to a channel");
        }
        return own;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        if (releasing) {
            leftover = true;
            ReferenceCountUtil.release(msg);
            return;
        }
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
        reading = false;
        if (releasing) {
            releasing = false;
            boolean clean = !leftover && !decoder.hasLeftover();
            if (!clean) {
                LOG.debug("upstream connection {} sent more than its response: closed, not reused", ctx.channel());
            }
            pool.takeBack(ctx.channel(), clean);
            return;
        }
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
