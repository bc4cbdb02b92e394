package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.exchange.GatewayResponses;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;

/**
 * How the exchange in flight on one client connection ends when it fails: with a gateway-made status
 * (400, 408, 413, 502, 503, 504) while nothing of the response was sent, else by ending both connections.
 *
 * <p>Implementation notes: one per client connection, created by its {@link UpstreamExchange}, which owns
 * the exchange and its upstream connection; confined to the client channel's event loop. The upstream
 * connection of a failed exchange is never reused: part of the request or of the response may still be
 * on it.
 */
final class ExchangeFailures {
    private final ConnectionState state;
    private final UpstreamExchange upstreamSide;

    ExchangeFailures(ConnectionState state, UpstreamExchange upstreamSide) {
        this.state = state;
        this.upstreamSide = upstreamSide;
    }

    /** No request body part arrived for limits.idle_timeout. */
    void bodyTimedOut() {
        if (upstreamSide.exchange() != null && !upstreamSide.requestComplete()) {
            failOrAbort(408, ExchangeError.BODY_TIMEOUT);
        }
    }

    /** No response head arrived within upstream.response_timeout of sending the request. */
    void responseTimedOut() {
        if (upstreamSide.exchange() != null && !upstreamSide.relay().responseStarted()) {
            fail(504, ExchangeError.UPSTREAM_TIMEOUT);
        }
    }

    /**
     * The upstream took none of the request body for limits.idle_timeout while the gateway held the client back for
     * it (nginx: proxy_send_timeout): 504, or both connections end once the response started.
     */
    void upstreamStalled() {
        failOrAbort(504, ExchangeError.UPSTREAM_TIMEOUT);
    }

    /**
     * The upstream sent nothing more of a response whose head was relayed for upstream.response_timeout while the
     * gateway read it (nginx: proxy_read_timeout): both connections end, the response being incomplete.
     */
    void responseStalled() {
        if (upstreamSide.exchange() != null && upstreamSide.relay().responseStarted()) {
            abort(ExchangeError.UPSTREAM_STALLED);
        }
    }

    /**
     * The client took none of the response for limits.idle_timeout while the relay waited for it (nginx: send_timeout),
     * or none of what is queued for it while stalled clients held more than their budget: both connections end, so
     * that a client that stops reading cannot hold an upstream connection.
     */
    void clientStalled() {
        if (upstreamSide.exchange() != null) {
            abort(ExchangeError.CLIENT_STALLED);
        }
    }

    /** Answers with {@code status} if nothing of the response was sent yet, else ends both connections. */
    void failOrAbort(int status, ExchangeError error) {
        if (upstreamSide.exchange() == null) {
            return;
        }
        if (!upstreamSide.relay().responseStarted()) {
            fail(status, error);
        } else {
            abort(error);
        }
    }

    /** Answers the exchange with a gateway-made status, dropping the upstream connection. */
    void fail(int status, ExchangeError error) {
        Exchange current = upstreamSide.exchange();
        if (current == null) {
            return;
        }
        current.error(error);
        boolean close = !upstreamSide.requestComplete() || state.closeAfterResponse();
        upstreamSide.end(false);
        GatewayResponses.send(state.channel(), current, status, close);
    }

    /**
     * The response already started: all that can be done is to end both connections. What was relayed but not yet
     * flushed (a head and body parts decoded from the same read as the failure) is flushed first, and the close
     * follows at once: what the client's socket accepts then is sent (all of it, unless the client is slow to read),
     * so the client receives a truncated response rather than nothing. An HTTP/1.1 client can tell it is truncated
     * (a chunked body without its last chunk, or fewer bytes than Content-Length); to an HTTP/1.0 client a body may
     * end with the connection, so that connection is reset (SO_LINGER 0) instead of closed, which it cannot take for
     * the end of a complete response.
     */
    void abort(ExchangeError error) {
        Exchange current = upstreamSide.exchange();
        upstreamSide.end(false);
        Channel client = state.channel();
        client.flush();
        if (current != null && current.http10()) {
            client.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        client.close();
        if (current != null) {
            current.error(error);
            current.finish();
        }
    }
}
