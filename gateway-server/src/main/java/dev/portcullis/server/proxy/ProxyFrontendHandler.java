package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.GatewayResponses;
import dev.portcullis.server.tunnel.WebSocketTunnel;
import dev.portcullis.server.tunnel.WebSocketUpgrade;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams an allowed request to a pooled upstream connection and the response back, one exchange at
 * a time, with backpressure both ways: when the receiving side cannot take more, the sending side
 * stops reading until it can (Netty's writability, as in its HexDumpProxy example).
 *
 * <p>Implementation notes: all state is per exchange and confined to the client channel's event
 * loop; the upstream connection is bound to the same loop by {@link UpstreamPool}. Body parts that
 * arrive before the upstream is connected wait in {@code pending} while reading is paused. A request
 * without a body that fails on a reused keep-alive connection before any response byte (the upstream
 * closed it while idle) is retried once on another connection; anything else gets 502, or 504 when
 * no response head arrives within {@code upstream.response_timeout}.
 */
public final class ProxyFrontendHandler extends ChannelInboundHandlerAdapter implements UpstreamListener {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyFrontendHandler.class);

    private final ConnectionState state;
    private final Upstreams upstreams;
    private @Nullable ChannelHandlerContext ctx;

    private @Nullable Exchange exchange;
    private @Nullable HttpRequest head;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
    private @Nullable Channel upstream;
    private final ExchangeTimers timers;
    private boolean hasBody;
    private long bodyBytes;
    private boolean requestComplete;
    private boolean requestSent;
    private boolean responseStarted;
    private boolean interim;
    private boolean upstreamKeepAlive;
    private boolean closeClient;
    private boolean reusedConnection;
    private boolean retried;

    public ProxyFrontendHandler(ConnectionState state, Upstreams upstreams) {
        this.state = state;
        this.upstreams = upstreams;
        this.timers = new ExchangeTimers(state, this::bodyTimedOut, this::responseTimedOut);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            begin(request);
        }
        if (msg instanceof HttpContent content) {
            onClientBody(content);
        } else if (!(msg instanceof HttpRequest)) {
            ReferenceCountUtil.release(msg);
        }
    }

    private void begin(HttpRequest request) {
        Exchange current = state.exchange();
        if (current == null) {
            throw new IllegalStateException("allowed request without an exchange");
        }
        exchange = current;
        head = request;
        hasBody = current.hasBody();
        bodyBytes = 0;
        requestComplete = false;
        requestSent = false;
        responseStarted = false;
        interim = false;
        upstreamKeepAlive = false;
        closeClient = false;
        retried = false;
        if (hasBody) {
            timers.awaitBody(current.snapshot().config().limits().idleTimeout().toNanos());
        }
        connect();
    }

    /** No request body part arrived for limits.idle_timeout. */
    private void bodyTimedOut() {
        if (exchange != null && !requestComplete) {
            failOrAbort(408, ExchangeError.BODY_TIMEOUT);
        }
    }

    private void connect() {
        Exchange current = exchange;
        if (current == null) {
            return;
        }
        // the pool of the generation deciding this exchange: a reload to another upstream applies to new exchanges
        UpstreamPool pool = upstreams.poolFor(current.snapshot().config().upstream());
        Future<Channel> acquired = pool.acquire(state.channel().eventLoop());
        if (acquired.isDone()) {
            onAcquired(acquired);
        } else {
            state.pause(ConnectionState.Pause.UPSTREAM_CONNECTING);
            acquired.addListener(this::onAcquired);
        }
    }

    private void onAcquired(Future<? super Channel> acquired) {
        state.resume(ConnectionState.Pause.UPSTREAM_CONNECTING);
        Exchange current = exchange;
        if (!acquired.isSuccess()) {
            if (current != null) {
                Throwable cause = acquired.cause();
                LOG.debug("cannot reach upstream for {}", current.requestId(), cause);
                fail(502, cause instanceof UpstreamPoolExhaustedException ? ExchangeError.UPSTREAM_POOL_EXHAUSTED
                        : ExchangeError.UPSTREAM_UNREACHABLE);
            }
            return;
        }
        Channel channel = (Channel) acquired.getNow();
        if (current == null || !state.channel().isActive()) {
            UpstreamPool.release(channel, true);
            return;
        }
        UpstreamHandler handler = channel.pipeline().get(UpstreamHandler.class);
        reusedConnection = handler.reused();
        handler.lend(this, head.method());
        upstream = channel;
        current.upstreamStarted();
        channel.write(head);
        HttpContent part;
        while ((part = pending.poll()) != null) {
            channel.write(part);
        }
        if (requestComplete) {
            requestSent();
        }
        channel.flush();
        if (!channel.isWritable()) {
            state.pause(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
        }
    }

    private void onClientBody(HttpContent content) {
        Exchange current = exchange;
        if (current == null || requestComplete) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            // A broken chunk: the upstream already has part of the body, so it cannot be reused;
            // the client gets 400 if nothing of the response has been sent yet.
            content.release();
            failOrAbort(400, ExchangeError.MALFORMED_BODY);
            return;
        }
        timers.bodyRead();
        bodyBytes += content.content().readableBytes();
        if (bodyBytes > current.snapshot().config().limits().maxBodySize()) {
            content.release();
            failOrAbort(413, ExchangeError.BODY_TOO_LARGE);
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (last && !((LastHttpContent) content).trailingHeaders().isEmpty()) {
            // SPEC 3.7: request trailer fields are not forwarded; an upstream that merges them into the
            // headers would see fields the policy never saw
            ((LastHttpContent) content).trailingHeaders().clear();
        }
        Channel channel = upstream;
        if (channel == null) {
            pending.add(content);
        } else {
            channel.write(content);
            if (!channel.isWritable()) {
                state.pause(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
            }
        }
        if (last) {
            requestComplete = true;
            timers.cancelBody();
            if (channel != null) {
                channel.flush();
                requestSent();
            }
        }
    }

    private void requestSent() {
        requestSent = true;
        Exchange current = exchange;
        if (current != null && !responseStarted) {
            timers.awaitResponse(current.snapshot().config().upstream().responseTimeout().toNanos());
        }
    }

    /** No response head arrived within upstream.response_timeout of sending the request. */
    private void responseTimedOut() {
        if (exchange != null && !responseStarted) {
            fail(504, ExchangeError.UPSTREAM_TIMEOUT);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel channel = upstream;
        if (channel != null) {
            channel.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void onUpstreamMessage(HttpObject message) {
        ChannelHandlerContext client = ctx;
        Exchange current = exchange;
        if (client == null || current == null) {
            ReferenceCountUtil.release(message);
            return;
        }
        if (message.decoderResult().isFailure()) {
            ReferenceCountUtil.release(message);
            failOrAbort(502, ExchangeError.UPSTREAM_MALFORMED_RESPONSE);
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
            Channel channel = upstream;
            if (channel != null && !client.channel().isWritable()) {
                channel.config().setAutoRead(false);
            }
            if (last) {
                complete(client, current);
            }
        }
    }

    /** Forwards a response head; false when the response cannot be relayed (already answered 502). */
    private boolean onResponseHead(ChannelHandlerContext client, Exchange current, HttpResponse response) {
        int code = response.status().code();
        if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            String key = current.webSocketKey();
            if (code == 101 && key != null && upstream != null && WebSocketUpgrade.accepted(response, key)) {
                tunnel(current, response);
                return false;
            }
            if (code == 101) {
                // not a switch to the WebSocket the client asked for: the upstream connection is closed, never tunnelled
                fail(502, ExchangeError.UPSTREAM_PROTOCOL_SWITCH);
                return false;
            }
            interim = true;
            if (ResponseHeads.interimForClient(response, current.http10())) {
                client.write(response);
            }
            return true;
        }
        timers.cancelResponse();
        responseStarted = true;
        current.upstreamStatus(code);
        current.status(code);
        upstreamKeepAlive = HttpUtil.isKeepAlive(response); // before the Connection header is stripped
        closeClient = ResponseHeads.finalForClient(response, current.requestId(), current.http10(), current.method(),
                state.closeAfterResponse() || !requestComplete);
        client.write(response);
        return true;
    }

    /** The upstream accepted a WebSocket handshake: its connection leaves the pool for a tunnel (SPEC 3.7). */
    private void tunnel(Exchange current, HttpResponse switching) {
        Channel channel = upstream;
        resetExchange();
        WebSocketTunnel.open(state, current, switching, channel);
    }

    private void complete(ChannelHandlerContext client, Exchange current) {
        Channel channel = upstream;
        boolean reusable = upstreamKeepAlive && requestSent;
        resetExchange();
        if (channel != null) {
            UpstreamPool.release(channel, reusable);
        }
        if (closeClient) {
            state.ending();
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            client.flush();
        }
        current.finish();
    }

    @Override
    public void onUpstreamReadComplete() {
        ChannelHandlerContext client = ctx;
        if (client != null) {
            client.flush();
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (writable) {
            state.resume(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
        } else if (!requestComplete) {
            state.pause(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
        }
    }

    @Override
    public void onUpstreamClosed(@Nullable Throwable cause) {
        Exchange current = exchange;
        if (current == null) {
            return;
        }
        upstream = null;
        if (responseStarted) {
            abort(cause == null ? ExchangeError.UPSTREAM_CLOSED_MID_RESPONSE : ExchangeError.UPSTREAM_ERROR_MID_RESPONSE);
        } else if (reusedConnection && !retried && !hasBody && head != null && isIdempotent(head.method())) {
            retried = true;
            timers.cancelResponse();
            requestComplete = true;
            pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
            connect();
        } else {
            fail(502, cause == null ? ExchangeError.UPSTREAM_CLOSED : ExchangeError.UPSTREAM_ERROR);
        }
    }

    private static boolean isIdempotent(HttpMethod method) {
        return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS)
                || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE);
    }

    /** Answers with {@code status} if nothing of the response was sent yet, else ends both connections. */
    private void failOrAbort(int status, ExchangeError error) {
        if (exchange == null) {
            return;
        }
        if (!responseStarted) {
            fail(status, error);
        } else {
            abort(error);
        }
    }

    /** Answers the exchange with a gateway-made status, dropping the upstream connection. */
    private void fail(int status, ExchangeError error) {
        Exchange current = exchange;
        if (current == null) {
            return;
        }
        current.error(error);
        boolean close = !requestComplete || state.closeAfterResponse();
        Channel channel = upstream;
        resetExchange();
        if (channel != null) {
            UpstreamPool.release(channel, false);
        }
        GatewayResponses.send(state.channel(), current, status, close);
    }

    /** The response already started: all that can be done is to end both connections. */
    private void abort(ExchangeError error) {
        Exchange current = exchange;
        Channel channel = upstream;
        resetExchange();
        if (channel != null) {
            UpstreamPool.release(channel, false);
        }
        state.channel().close();
        if (current != null) {
            current.error(error);
            current.finish();
        }
    }

    private void resetExchange() {
        timers.cancelAll();
        state.resume(ConnectionState.Pause.UPSTREAM_BACKPRESSURE);
        state.resume(ConnectionState.Pause.UPSTREAM_CONNECTING);
        exchange = null;
        head = null;
        upstream = null;
        HttpContent part;
        while ((part = pending.poll()) != null) {
            part.release();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel channel = upstream;
        if (channel != null && ctx.channel().isWritable()) {
            channel.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Channel channel = upstream;
        Exchange current = exchange;
        resetExchange();
        if (channel != null) {
            UpstreamPool.release(channel, false);
        }
        if (current != null) {
            current.error(ExchangeError.CLIENT_CLOSED);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("client connection {} failed", ctx.channel(), cause);
        ctx.close();
    }
}
