package dev.portcullis.server.pipeline;

import dev.portcullis.core.decision.Verdict;
import dev.portcullis.core.identity.KeyWait;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.DrainTimeoutEvent;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.exchange.GatewayResponses;
import dev.portcullis.server.http.RequestIds;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Decides each request on its head and either passes it on to the proxy or answers it: an adapter
 * between the pipeline and the core decision step.
 *
 * <p>The head is admitted ({@link RequestAdmission}: screening, canonical target, header sanitizing,
 * client IP), then decided by the generation's {@link dev.portcullis.core.decision.DecisionStep}. An
 * allowed head is rewritten for the upstream ({@link UpstreamRequest}) and passed on with its body; a
 * denied one is answered here and its body dropped. Created per connection: it remembers whether the
 * current body is forwarded, and the request that waits for a JWKS fetch.
 */
final class AccessControlHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionState state;
    private boolean forwarding;
    private @Nullable AdmittedRequest waiting;
    private @Nullable KeyWait keyWait;
    private Verdict.@Nullable AwaitingRateLimit rateWait;
    private long waits;
    private final ArrayDeque<HttpContent> held = new ArrayDeque<>();

    AccessControlHandler(ConnectionState state) {
        this.state = state;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            forwarding = false;
            AdmittedRequest admitted = null;
            boolean handedOver = false;
            try {
                admitted = RequestAdmission.admit(state, request);
                handedOver = admitted != null && decide(ctx, admitted);
            } finally {
                if (!handedOver) {
                    ReferenceCountUtil.release(request);
                }
            }
        } else if (msg instanceof HttpContent content && waiting != null) {
            held.add(content);
        } else if (msg instanceof HttpContent content && forwarding) {
            forwarding = !(content instanceof LastHttpContent);
            ctx.fireChannelRead(content);
        } else {
            // the body of a denied request, or something that is not HTTP: dropped
            ReferenceCountUtil.release(msg);
        }
    }

    /** True when the head was passed on to the proxy (which then owns it) or is held until keys arrive. */
    private boolean decide(ChannelHandlerContext ctx, AdmittedRequest admitted) {
        Verdict verdict = admitted.snapshot().decisions().decide(admitted.facts());
        return actOrWait(ctx, admitted, verdict);
    }

    /** Acts on a decided verdict, or holds the request until what it waits for arrives; true when handed over. */
    private boolean actOrWait(ChannelHandlerContext ctx, AdmittedRequest admitted, Verdict verdict) {
        if (verdict instanceof Verdict.AwaitingKeys awaiting) {
            awaitKeys(ctx, admitted, awaiting);
            return true;
        }
        if (verdict instanceof Verdict.AwaitingRateLimit awaiting) {
            awaitRateLimit(ctx, admitted, awaiting);
            return true;
        }
        return act(ctx, admitted, (Verdict.Decided) verdict);
    }

    /*
     * The rule allows the request and its limiter's bucket is in the shared store: the request is
     * held as for a key fetch (reading paused, decoded body parts held) until the store answers. The
     * store completes every answer within its timeout (failed or late: on_error decides, in
     * Verdict.AwaitingRateLimit.settle); the timer here bounds the wait even when the store's own
     * loop is late. The decision is acted on, on the channel's event loop.
     */
    private void awaitRateLimit(ChannelHandlerContext ctx, AdmittedRequest admitted,
            Verdict.AwaitingRateLimit awaiting) {
        long wait = ++waits;
        waiting = admitted;
        rateWait = awaiting;
        state.pause(ConnectionState.Pause.IDENTITY);
        ScheduledFuture<?> timeout = ctx.executor().schedule(
                awaiting::expire, awaiting.timeout().toNanos(), TimeUnit.NANOSECONDS);
        awaiting.answer().whenComplete((result, error) -> ctx.executor().execute(() -> {
            timeout.cancel(false);
            resume(ctx, wait, null, awaiting.settle(error == null ? result : null));
        }));
    }

    /*
     * A token whose kid is not in the key set started a JWKS refetch (single-flight, at most one per
     * 30 s). Rather than answer 401 while the new key is on its way, the request waits for that fetch,
     * bounded by limits.header_timeout: reading pauses, body parts that were already decoded are held,
     * and the decision is taken on the event loop when the fetch lands (or the wait ends), with what
     * KeyWait.settle gives: the token's outcome is counted there, once, so a fetch landing after a
     * timeout counts nothing, and a request dropped with its connection counts the rejection it waited with.
     */
    private void awaitKeys(ChannelHandlerContext ctx, AdmittedRequest admitted, Verdict.AwaitingKeys awaiting) {
        long wait = ++waits;
        waiting = admitted;
        KeyWait keys = awaiting.keys();
        keyWait = keys;
        state.pause(ConnectionState.Pause.IDENTITY);
        long maxWaitNanos = admitted.snapshot().config().limits().headerTimeout().toNanos();
        ScheduledFuture<?> timeout = ctx.executor().schedule(
                () -> resume(ctx, wait, keys, null), maxWaitNanos, TimeUnit.NANOSECONDS);
        keys.landed().whenComplete((landed, error) -> ctx.executor().execute(() -> {
            timeout.cancel(false);
            resume(ctx, wait, keys, null);
        }));
    }

    /**
     * Decides a held request with its token's settled key wait, or acts on its rate-limited {@code decided};
     * nothing when the request was settled or dropped already.
     */
    private void resume(ChannelHandlerContext ctx, long wait, @Nullable KeyWait keys,
            Verdict.@Nullable Decided decided) {
        AdmittedRequest admitted = waiting;
        if (admitted == null || wait != waits) {
            return;
        }
        waiting = null;
        keyWait = null;
        rateWait = null;
        state.resume(ConnectionState.Pause.IDENTITY);
        if (!ctx.channel().isActive()) {
            if (keys != null) {
                keys.abandon();
            }
            ReferenceCountUtil.release(admitted.request());
            releaseHeld();
            return;
        }
        boolean handedOver = false;
        try {
            Verdict verdict = decided != null ? decided : admitted.snapshot().decisions()
                    .afterKeys(admitted.facts(), Objects.requireNonNull(keys).settle());
            handedOver = actOrWait(ctx, admitted, verdict);
            HttpContent part;
            while (waiting == null && (part = held.poll()) != null) {
                channelRead(ctx, part);
            }
        } catch (RuntimeException e) {
            // This runs as a plain event-loop task: an exception would not reach the pipeline, and the
            // connection would hang with its exchange open. End it like any handler failure.
            releaseHeld();
            ctx.fireExceptionCaught(e);
        } finally {
            if (!handedOver) {
                ReferenceCountUtil.release(admitted.request());
            }
        }
    }

    /** Answers a denied request, or rewrites an allowed one and passes it on; true when passed on. */
    private boolean act(ChannelHandlerContext ctx, AdmittedRequest admitted, Verdict.Decided verdict) {
        Channel channel = ctx.channel();
        Exchange exchange = admitted.exchange();
        if (!verdict.identity().isAnonymous()) {
            exchange.subject(verdict.identity().subject());
        }
        exchange.decision(verdict.decision());
        exchange.country(verdict.country());
        if (!verdict.decision().allowed()) {
            boolean close = exchange.hasBody() || state.closeAfterResponse();
            if (verdict.decision().status() == 429) {
                GatewayResponses.sendRateLimited(channel, exchange, verdict.retryAfterSeconds(), close);
            } else if (verdict.decision().challenge()) {
                GatewayResponses.sendChallenge(channel, exchange, verdict.tokenRejection() != null, close);
            } else {
                GatewayResponses.send(channel, exchange, verdict.decision().status(), close);
            }
            return false;
        }
        HttpRequest request = admitted.request();
        IdentityHeaders.setForUpstream(request.headers(), verdict.identity(), admitted.snapshot().decisions().identity(),
                admitted.facts().peerIp());
        if (admitted.expectsContinue() && exchange.hasBody() && !exchange.http10()) {
            DefaultFullHttpResponse proceed = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.CONTINUE);
            proceed.headers().set(RequestIds.HEADER, exchange.requestId());
            channel.writeAndFlush(proceed);
        }
        UpstreamRequest.rewrite(request, admitted.target().uri(), admitted.hostHeader(), state.peerText(),
                admitted.trustedPeer(), exchange.requestId(), admitted.snapshot().config().upstream().authority());
        forwarding = !(request instanceof LastHttpContent);
        ctx.fireChannelRead(request);
        return true;
    }

    private void releaseHeld() {
        HttpContent part;
        while ((part = held.poll()) != null) {
            part.release();
        }
    }

    private void dropWaiting() {
        AdmittedRequest admitted = waiting;
        KeyWait keys = keyWait;
        Verdict.AwaitingRateLimit rate = rateWait;
        waiting = null;
        keyWait = null;
        rateWait = null;
        if (keys != null) {
            keys.abandon();
        }
        if (rate != null) {
            // no decision was made: the store does not count a cancelled answer as a failure on_error decided
            rate.abandon();
        }
        if (admitted != null) {
            ReferenceCountUtil.release(admitted.request());
        }
        releaseHeld();
    }

    /**
     * {@code drain_timeout} ended while the request waits for signing keys or a rate limit store: it was never
     * forwarded, so it is answered as a request arriving while draining is, 503 and the connection closed.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        AdmittedRequest admitted = waiting;
        if (evt == DrainTimeoutEvent.INSTANCE && admitted != null) {
            dropWaiting();
            admitted.exchange().error(ExchangeError.DRAIN_TIMEOUT);
            GatewayResponses.send(ctx.channel(), admitted.exchange(), 503, true);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        dropWaiting();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        dropWaiting();
    }
}
