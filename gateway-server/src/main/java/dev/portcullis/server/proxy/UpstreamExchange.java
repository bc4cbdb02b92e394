package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.transport.Outbound;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exchange in flight on one client connection, seen from its upstream side: acquires a pooled upstream
 * connection, writes the request head and streams the body to it, listens to it while it is lent, and ends
 * the exchange, returning the connection to its pool.
 *
 * <p>Implementation notes: one per client connection, created by its {@link ProxyFrontendHandler}; all state
 * is per exchange and confined to the client channel's event loop, and the upstream connection is bound to
 * the same loop by {@link UpstreamPool}. The body goes through {@link RequestBody}. A request without a body
 * that fails on a reused keep-alive connection before any response byte (the upstream closed it while idle)
 * is retried once on another connection; anything else gets 502, or 504 when no response head arrives
 * within {@code upstream.response_timeout}; a response that then stops coming for as long is cut
 * ({@link ExchangeFailures}). The retry writes the same head again: for
 * a full request (the codec's form of a request without a body) that is safe because its content is the
 * unreleasable {@code Unpooled.EMPTY_BUFFER}, so the encoder's release after the first write is a no-op,
 * and it is never released here either. What the upstream answers goes to the client through the
 * {@link ResponseRelay}.
 */
final class UpstreamExchange implements UpstreamListener {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamExchange.class);

    private final ConnectionState state;
    private final Upstreams upstreams;
    private final ExchangeTimers timers;
    private final ExchangeFailures failures;
    private final ResponseRelay relay;
    private final RequestBody body;

    private @Nullable Exchange exchange;
    private @Nullable HttpRequest head;
    private @Nullable Channel upstream;
    private boolean hasBody;
    private boolean requestComplete;
    private boolean requestSent;
    private boolean reusedConnection;
    private boolean retried;

    UpstreamExchange(ConnectionState state, Upstreams upstreams) {
        this.state = state;
        this.upstreams = upstreams;
        this.failures = new ExchangeFailures(state, this);
        this.timers = new ExchangeTimers(state, failures::bodyTimedOut, failures::responseTimedOut,
                failures::clientStalled, failures::upstreamStalled, failures::responseStalled,
                () -> Outbound.queuedBytes(upstream));
        this.relay = new ResponseRelay(state, this, failures, timers);
        this.body = new RequestBody(state, timers, failures::failOrAbort);
    }

    /** Where the response of each exchange goes to the client. */
    ResponseRelay relay() {
        return relay;
    }

    /** The exchange in flight, or null between exchanges. */
    @Nullable Exchange exchange() {
        return exchange;
    }

    /** The upstream connection lent to the exchange in flight, or null when there is none (yet). */
    @Nullable Channel upstream() {
        return upstream;
    }

    /** True once the last request body part arrived from the client. */
    boolean requestComplete() {
        return requestComplete;
    }

    /** True once the whole request was written to the upstream connection. */
    boolean requestSent() {
        return requestSent;
    }

    /**
     * An allowed request head: starts its exchange and acquires an upstream connection for it. A full request
     * (a head that is also its last content, as the codec makes of a request without a body) is the whole
     * request: it is written once, with nothing after it.
     */
    void begin(HttpRequest request) {
        Exchange current = state.exchange();
        if (current == null) {
            throw new IllegalStateException("allowed request without an exchange");
        }
        exchange = current;
        head = request;
        hasBody = current.hasBody();
        requestComplete = request instanceof LastHttpContent;
        requestSent = false;
        relay.begin();
        retried = false;
        body.begin(current.snapshot().config().limits(), hasBody && !requestComplete);
        connect();
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
            body.awaitUpstream();
            acquired.addListener(this::onAcquired);
        }
    }

    private void onAcquired(Future<? super Channel> acquired) {
        body.upstreamAcquired();
        Exchange current = exchange;
        if (!acquired.isSuccess()) {
            if (current != null) {
                Throwable cause = acquired.cause();
                LOG.debug("cannot reach upstream for {}", current.requestId(), cause);
                failures.fail(502, cause instanceof UpstreamPoolExhaustedException
                        ? ExchangeError.UPSTREAM_POOL_EXHAUSTED : ExchangeError.UPSTREAM_UNREACHABLE);
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
        body.writeQueued(channel);
        if (requestComplete) {
            requestWritten();
        }
        channel.flush();
        if (!channel.isWritable()) {
            body.holdBack();
        }
    }

    /** A request body part from the client; ownership passes here. */
    void onClientBody(HttpContent content) {
        Exchange current = exchange;
        if (current == null || requestComplete) {
            content.release();
            return;
        }
        Channel channel = upstream;
        if (body.forward(content, channel)) {
            requestComplete = true;
            if (channel != null) {
                channel.flush();
                requestWritten();
            }
        }
    }

    /**
     * The whole request is on the upstream connection: its response head is due from now, or, when the upstream
     * answered early, the rest of its response.
     */
    private void requestWritten() {
        requestSent = true;
        Exchange current = exchange;
        if (current == null) {
            return;
        }
        if (relay.responseStarted()) {
            timers.awaitMoreResponse(responseTimeoutNanos(current));
        } else {
            timers.awaitResponse(responseTimeoutNanos(current));
        }
    }

    /** {@code upstream.response_timeout} of the generation deciding {@code exchange}. */
    private static long responseTimeoutNanos(Exchange exchange) {
        return exchange.snapshot().config().upstream().responseTimeout().toNanos();
    }

    /**
     * The final response head arrived: it is no longer waited for; the rest of the response is, once the whole
     * request is sent (before, the upstream may be waiting for the body, which the body deadline watches).
     */
    void responseHeadArrived() {
        timers.cancelResponse();
        Exchange current = exchange;
        if (current != null && requestSent) {
            timers.awaitMoreResponse(responseTimeoutNanos(current));
        }
    }

    /** The client read burst ended: flush what was written to the upstream. */
    void flush() {
        Channel channel = upstream;
        if (channel != null) {
            channel.flush();
        }
    }

    @Override
    public void onUpstreamMessage(HttpObject message) {
        relay.relay(message);
    }

    @Override
    public void onUpstreamReadComplete() {
        timers.upstreamRead();
        relay.flush();
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (writable) {
            body.upstreamWritable();
        } else if (!requestComplete) {
            body.holdBack();
        }
    }

    @Override
    public void onUpstreamClosed(@Nullable Throwable cause) {
        Exchange current = exchange;
        if (current == null) {
            return;
        }
        upstream = null;
        if (relay.responseStarted()) {
            failures.abort(cause == null ? ExchangeError.UPSTREAM_CLOSED_MID_RESPONSE
                    : ExchangeError.UPSTREAM_ERROR_MID_RESPONSE);
        } else if (reusedConnection && !retried && !hasBody && head != null && isIdempotent(head.method())) {
            retried = true;
            timers.cancelResponse();
            requestComplete = true;
            if (!(head instanceof LastHttpContent)) {
                body.endWithEmptyPart();
            }
            connect();
        } else {
            failures.fail(502, cause == null ? ExchangeError.UPSTREAM_CLOSED : ExchangeError.UPSTREAM_ERROR);
        }
    }

    private static boolean isIdempotent(HttpMethod method) {
        return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS)
                || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE);
    }

    /** The client connection closed: the exchange in flight, if any, ends with it. */
    void clientClosed() {
        Exchange current = exchange;
        end(false);
        if (current != null) {
            current.error(state.closedError());
        }
    }

    /**
     * {@code drain_timeout} ended with the exchange in flight: 503 while it was never forwarded (an upstream connection
     * still being acquired), 504 once its head went upstream (the upstream may have acted on it, so it is not the
     * "never processed" a 503 tells), or both connections end once its response began.
     */
    void drainTimedOut() {
        // a retried request reached an upstream before, though it waits for a new connection now
        failures.failOrAbort(upstream == null && !retried ? 503 : 504, ExchangeError.DRAIN_TIMEOUT);
    }

    /** Ends the exchange and returns its upstream connection, if any, to the pool ({@code reusable} or closed). */
    void end(boolean reusable) {
        Channel channel = upstream;
        resetExchange();
        if (channel != null) {
            UpstreamPool.release(channel, reusable);
        }
    }

    /** Ends the exchange, leaving its upstream connection, if any, to the caller. */
    void resetExchange() {
        timers.cancelAll();
        body.reset();
        exchange = null;
        head = null;
        upstream = null;
    }
}
