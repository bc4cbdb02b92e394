package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.ConnectionState;

/**
 * The two deadlines of the exchange in flight on one client connection: request-body inactivity
 * ({@code limits.idle_timeout}) and the wait for a response head ({@code upstream.response_timeout}).
 *
 * <p>Implementation notes: a request body that stops arriving would otherwise hold its upstream
 * connection for ever (slow-body attacks exhaust the pool). The deadlines are plain fields: setting,
 * moving or clearing one neither schedules nor cancels anything. The connection's single timer
 * ({@link ConnectionState}) calls {@link #expire} when it fires, on the client channel's event loop,
 * the loop that calls every method here.
 */
final class ExchangeTimers implements ConnectionState.Deadlines {
    private final ConnectionState connection;
    private final Runnable bodyIdle;
    private final Runnable responseLate;
    private boolean bodyPending;
    private long bodyTimeoutNanos;
    private long lastBodyReadNanos;
    private boolean responsePending;
    private long responseDeadline;

    /**
     * @param bodyIdle run when no body part arrived for the body timeout
     * @param responseLate run when no response head arrived within the response timeout
     */
    ExchangeTimers(ConnectionState connection, Runnable bodyIdle, Runnable responseLate) {
        this.connection = connection;
        this.bodyIdle = bodyIdle;
        this.responseLate = responseLate;
        connection.watch(this);
    }

    /** A request body is expected: it may pause for at most {@code timeoutNanos} between parts. */
    void awaitBody(long timeoutNanos) {
        long now = System.nanoTime();
        bodyTimeoutNanos = timeoutNanos;
        lastBodyReadNanos = now;
        bodyPending = true;
        connection.deadlineSet(now, timeoutNanos);
    }

    /** A body part arrived. */
    void bodyRead() {
        lastBodyReadNanos = System.nanoTime();
    }

    /** The whole body arrived, or the exchange ended: no more body deadline. */
    void cancelBody() {
        bodyPending = false;
    }

    /** The request was sent: a response head is due within {@code timeoutNanos}, unless already awaited. */
    void awaitResponse(long timeoutNanos) {
        if (!responsePending) {
            long now = System.nanoTime();
            responseDeadline = now + timeoutNanos;
            responsePending = true;
            connection.deadlineSet(now, timeoutNanos);
        }
    }

    /** A response head arrived, the request is sent again, or the exchange ended. */
    void cancelResponse() {
        responsePending = false;
    }

    /** The exchange ended: neither deadline applies any more. */
    void cancelAll() {
        responsePending = false;
        bodyPending = false;
    }

    @Override
    public long expire(long now) {
        if (bodyPending && now - (lastBodyReadNanos + bodyTimeoutNanos) >= 0) {
            bodyPending = false;
            bodyIdle.run();
        }
        if (responsePending && now - responseDeadline >= 0) {
            responsePending = false;
            responseLate.run();
        }
        long next = Long.MAX_VALUE;
        if (bodyPending) {
            next = lastBodyReadNanos + bodyTimeoutNanos - now;
        }
        if (responsePending) {
            next = Math.min(next, responseDeadline - now);
        }
        return next;
    }
}
