package dev.portcullis.server.pipeline;

import dev.portcullis.server.exchange.ConnectionState;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Lets one exchange through at a time: messages of a pipelined request wait here until the response
 * to the previous one has been written, so answers leave in request order, and until the client can take more
 * (its connection is writable): a client that pipelines requests and reads none of the answers is not answered
 * into the gateway's memory, and its connection, idle meanwhile, ends after {@code limits.idle_timeout}.
 *
 * <p>It watches inbound {@link LastHttpContent} (request done) and outbound final responses
 * (response done; 1xx interim responses do not count). A full request or response is both a head and
 * its last content, and counts as both. Queued messages are replayed from a fresh
 * event-loop task so that the handler finishing an exchange is never re-entered. Once an answer that
 * closes the connection was written ({@link ConnectionState#isEnding()}), everything read, queued or not,
 * is dropped: a request pipelined behind a 400 is never decided or forwarded.
 *
 * <p>After a request asking to switch protocols, the codec decodes nothing more ({@link
 * StrictHttpServerCodec#heldForUpgrade}) and the connection stops reading until its answer: a {@code 101} makes the
 * bytes after it tunnelled bytes (the tunnel removes the codec, which passes them on as they are), any other final
 * answer makes them the next requests, decoded from a fresh event-loop task.
 */
final class ExchangeSerializer extends ChannelDuplexHandler {
    private final ConnectionState state;
    private final StrictHttpServerCodec codec;
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private boolean requestOpen;
    private boolean responsePending;
    private boolean interim;
    /** The last final response head written was a 101. */
    private boolean switching;
    /** The request being passed on asks to switch protocols (an {@code Upgrade} header). */
    private boolean passingUpgrade;
    /** The request in progress asked to switch protocols, and the codec holds what followed it. */
    private boolean upgradeInFlight;
    private boolean drainScheduled;

    ExchangeSerializer(ConnectionState state, StrictHttpServerCodec codec) {
        this.state = state;
        this.codec = codec;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state.isEnding()) {
            // after an answer that closes the connection nothing more is decided or forwarded
            ReferenceCountUtil.release(msg);
            releaseQueue();
            return;
        }
        if (!queue.isEmpty() || !requestOpen && (responsePending || !ctx.channel().isWritable())) {
            // a new request waits for the previous answer, and for a client that takes answers (its own 403s too)
            queue.add(msg);
            state.pause(ConnectionState.Pause.PIPELINED);
            return;
        }
        pass(ctx, msg);
    }

    private void pass(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            requestOpen = true;
            responsePending = true;
            passingUpgrade = StrictHttpServerCodec.asksToSwitch(request);
        }
        if (msg instanceof LastHttpContent) {
            requestOpen = false;
            // the codec holds what followed this request only if this is the request that asked: one queued before
            // it ends here too, while the codec already holds for the one after it
            if (passingUpgrade && codec.heldForUpgrade() && responsePending) {
                upgradeInFlight = true;
                state.pause(ConnectionState.Pause.UPGRADE);
            } else if (passingUpgrade && codec.heldForUpgrade()) {
                ctx.executor().execute(() -> resumeAfterUpgrade(ctx)); // answered before its end: no switch
            }
            passingUpgrade = false;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            HttpStatusClass kind = response.status().codeClass();
            switching = response.status().code() == 101;
            interim = kind == HttpStatusClass.INFORMATIONAL && !switching;
        }
        boolean ends = msg instanceof LastHttpContent && !interim;
        ctx.write(msg, promise);
        if (ends) {
            responsePending = false;
            if (upgradeInFlight) {
                upgradeInFlight = false;
                if (!switching) {
                    ctx.executor().execute(() -> resumeAfterUpgrade(ctx));
                }
            }
            scheduleDrain(ctx);
        }
    }

    /** The request that asked to switch protocols got another answer: what followed it is decoded as requests. */
    private void resumeAfterUpgrade(ChannelHandlerContext ctx) {
        ChannelHandlerContext codecContext = ctx.pipeline().context(codec);
        if (codecContext == null || ctx.isRemoved() || !ctx.channel().isActive() || state.isEnding()) {
            return;
        }
        try {
            codec.resumeAfterUpgrade(codecContext);
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
            return;
        }
        if (!codec.heldForUpgrade()) {
            // unless what it decoded was another request asking to switch, which paused reading again
            state.resume(ConnectionState.Pause.UPGRADE);
        }
    }

    private void scheduleDrain(ChannelHandlerContext ctx) {
        if (!queue.isEmpty() && !drainScheduled) {
            drainScheduled = true;
            ctx.executor().execute(() -> drain(ctx));
        }
    }

    private void drain(ChannelHandlerContext ctx) {
        drainScheduled = false;
        while (!queue.isEmpty() && (requestOpen || !responsePending)) {
            if (!ctx.channel().isActive() || state.isEnding()) {
                releaseQueue();
                return;
            }
            if (!requestOpen && !ctx.channel().isWritable()) {
                return; // the next request waits until the client took the answers before it
            }
            pass(ctx, queue.poll());
        }
        if (queue.isEmpty()) {
            state.resume(ConnectionState.Pause.PIPELINED);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable() && !responsePending) {
            scheduleDrain(ctx);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseQueue();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseQueue();
    }

    private void releaseQueue() {
        Object msg;
        while ((msg = queue.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }
}
