package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.tunnel.WebSocketTunnel;
import dev.portcullis.server.tunnel.WebSocketUpgrade;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Relays the response of the exchange in flight on one client connection from its upstream connection to
 * the client: interim and final heads (shaped by {@link ResponseHeads}), content with the client's
 * backpressure (a client that can take nothing for {@code limits.idle_timeout} ends the exchange), the switch to a
 * WebSocket tunnel, and completion, which returns the upstream connection to its pool.
 *
 * <p>Implementation notes: one per client connection, created by its {@link UpstreamExchange}, which owns
 * the exchange and its upstream connection; {@link #begin} resets the response state for each exchange.
 * Confined to the client channel's event loop. Writes go through the proxy handler's context, so they pass
 * the client pipeline's outbound handlers from there; they are flushed at the end of each upstream read
 * burst and when the response is complete, not per message.
 */
final class ResponseRelay {
    private final ConnectionState state;
    private final UpstreamExchange upstreamSide;
    private final ExchangeFailures failures;
    private final ExchangeTimers timers;
    private @Nullable ChannelHandlerContext ctx;
    private boolean responseStarted;
    private boolean interim;
    private boolean upstreamKeepAlive;
    private boolean closeClient;

    ResponseRelay(ConnectionState state, UpstreamExchange upstreamSide, ExchangeFailures failures,
            ExchangeTimers timers) {
        this.state = state;
        this.upstreamSide = upstreamSide;
        this.failures = failures;
        this.timers = timers;
    }

    /** The proxy handler's context on the client channel, where the response is written. */
    void attach(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** A new exchange: nothing of its response arrived yet. */
    void begin() {
        responseStarted = false;
        interim = false;
        upstreamKeepAlive = false;
        closeClient = false;
    }

    /** True once the final response head was written to the client: a failure can then only abort. */
    boolean responseStarted() {
        return responseStarted;
    }

    /**
     * A response head or body part from the upstream; ownership passes here. A full response (a head that
     * is also its last content) is written once, by the content step, after its head was shaped.
     */
    void relay(HttpObject message) {
        ChannelHandlerContext client = ctx;
        Exchange current = upstreamSide.exchange();
        if (client == null || current == null) {
            ReferenceCountUtil.release(message);
            return;
        }
        if (message.decoderResult().isFailure()) {
            ReferenceCountUtil.release(message);
            failures.failOrAbort(502, ExchangeError.UPSTREAM_MALFORMED_RESPONSE);
            return;
        }
        if (message instanceof HttpResponse response && !onResponseHead(client, current, response)) {
            ReferenceCountUtil.release(message);
            return;
        }
        if (message instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (interim) {
                if (current.http10()) {
                    content.release();
                } else {
                    client.write(content);
                }
                interim = !last;
                return;
            }
            current.addBytesOut(content.content().readableBytes());
            client.write(content);
            Channel channel = upstreamSide.upstream();
            if (channel != null && !client.channel().isWritable()) {
                channel.config().setAutoRead(false);
                timers.clientBlocked(current.snapshot().config().limits().idleTimeout().toNanos());
            }
            if (last) {
                complete(client, current);
            }
        }
    }

    /**
     * Forwards a response head (a full one is left to the content step); false when the response cannot be
     * relayed (already answered 502).
     */
    private boolean onResponseHead(ChannelHandlerContext client, Exchange current, HttpResponse response) {
        int code = response.status().code();
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            String key = current.webSocketKey();
            if (code == 101 && key != null && upstreamSide.upstream() != null
                    && WebSocketUpgrade.accepted(response, key)) {
                tunnel(current, response);
                return false;
            }
            if (code == 101) {
                // not a switch to the WebSocket the client asked for: the upstream connection is closed, never tunnelled
                failures.fail(502, ExchangeError.UPSTREAM_PROTOCOL_SWITCH);
                return false;
            }
            interim = true;
            if (ResponseHeads.interimForClient(response, current.requestId(), current.http10())
                    && !(response instanceof HttpContent)) {
                client.write(response);
            }
            return true;
        }
        upstreamSide.responseHeadArrived();
        responseStarted = true;
        current.upstreamStatus(code);
        current.status(code);
        upstreamKeepAlive = HttpUtil.isKeepAlive(response); // before the Connection header is stripped
        closeClient = ResponseHeads.finalForClient(response, current.requestId(), current.http10(), current.method(),
                state.closeAfterResponse() || !upstreamSide.requestComplete());
        if (!(response instanceof HttpContent)) {
            client.write(response);
        }
        return true;
    }

    /** The upstream accepted a WebSocket handshake: its connection leaves the pool for a tunnel (SPEC 3.7). */
    private void tunnel(Exchange current, HttpResponse switching) {
        Channel channel = upstreamSide.upstream();
        upstreamSide.resetExchange();
        WebSocketTunnel.open(state, current, switching, channel);
    }

    /**
     * The response ended: the connection closes after it when its head said so, or when it should close after its
     * response now ({@link ConnectionState#closeAfterResponse}, e.g. a drain began after the head left without
     * {@code Connection: close}): kept open, it would only answer the client's next request with 503.
     */
    private void complete(ChannelHandlerContext client, Exchange current) {
        upstreamSide.end(upstreamKeepAlive && upstreamSide.requestSent());
        if (closeClient || state.closeAfterResponse()) {
            state.ending();
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            client.flush();
        }
        current.finish();
    }

    /** The upstream read burst ended: flush what was written to the client. */
    void flush() {
        ChannelHandlerContext client = ctx;
        if (client != null) {
            client.flush();
        }
    }

    /**
     * The client took none of what is queued for it while stalled clients held more than their budget: the exchange in
     * flight, if any, ends with both connections ({@code client_stalled}), as after {@code limits.idle_timeout}.
     */
    void clientStalled() {
        failures.clientStalled();
    }

    /** The client can take more again: the upstream connection may read the response on. */
    void clientWritable() {
        timers.clientUnblocked();
        Channel channel = upstreamSide.upstream();
        if (channel != null) {
            channel.config().setAutoRead(true);
        }
    }
}
