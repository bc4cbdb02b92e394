package dev.portcullis.server.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
 *
 * <p>A connection that idles in the pool for {@code idleNanos} is closed. Rather than Netty's IdleStateHandler,
 * which takes the time and adds a promise listener at every read and write, one timer per connection checks a
 * plain timestamp, taken when the connection goes back to the pool, when it fires, and re-arms itself for the
 * rest of the idle time: a busy connection costs one clock read per exchange and nothing more.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamHandler.class);

    private final UpstreamPool pool;
    private final UpstreamResponseDecoder decoder;
    private final long idleNanos;
    /** When the connection last went idle (the executor's ticker); meaningful while no listener is bound. */
    private long idleSince;
    private @Nullable ScheduledFuture<?> idleCheck;
    private @Nullable UpstreamListener listener;
    private boolean reused;
    private boolean reading;
    private boolean releasing;
    private boolean leftover;
    private @Nullable Channel channel;

    /** A handler for a connection of {@code pool} that is closed after idling {@code idleNanos} in it. */
    UpstreamHandler(UpstreamPool pool, UpstreamResponseDecoder decoder, long idleNanos) {
        this.pool = pool;
        this.decoder = decoder;
        this.idleNanos = idleNanos;
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

    /** True when {@code channel} is open and nothing was received on it since its last response ended. */
    static boolean isClean(Channel channel) {
        UpstreamHandler handler = channel.pipeline().get(UpstreamHandler.class);
        return channel.isActive() && handler != null && !handler.decoder.hasLeftover();
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
        Channel own = channel;
        if (own != null) {
            idleSince = own.eventLoop().ticker().nanoTime();
        }
    }

    /** True once the connection has served an exchange before (a stale keep-alive may be closed by the peer). */
    boolean reused() {
        return reused;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.channel = ctx.channel();
        this.idleSince = ctx.executor().ticker().nanoTime();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        armIdleCheck(ctx, idleNanos);
        ctx.fireChannelActive();
    }

    private void armIdleCheck(ChannelHandlerContext ctx, long delayNanos) {
        idleCheck = ctx.executor().schedule(() -> checkIdle(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Closes the connection if it has idled in the pool for {@link #idleNanos}; otherwise checks again later. */
    private void checkIdle(ChannelHandlerContext ctx) {
        if (ctx.isRemoved() || !ctx.channel().isActive()) {
            return;
        }
        if (listener != null) {
            armIdleCheck(ctx, idleNanos);
            return;
        }
        long idleFor = ctx.executor().ticker().nanoTime() - idleSince;
        if (idleFor >= idleNanos) {
            LOG.debug("upstream connection {} idle for {} s: closed", ctx.channel(), idleFor / 1_000_000_000L);
            ctx.close();
        } else {
            armIdleCheck(ctx, idleNanos - idleFor);
        }
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

    /** The connection became a tunnel (WebSocketTunnel takes the pipeline over): it is no longer the pool's. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelIdleCheck();
    }

    private void cancelIdleCheck() {
        ScheduledFuture<?> check = idleCheck;
        idleCheck = null;
        if (check != null) {
            check.cancel(false);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelIdleCheck();
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
