package dev.portcullis.server.proxy;

import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.transport.Outbound;
import java.util.function.LongSupplier;

/**
 * The deadlines of the exchange in flight on one client connection: request-body inactivity
 * ({@code limits.idle_timeout}; while the gateway holds the body back, an upstream that takes none of it), the wait
 * for a response head ({@code upstream.response_timeout}), the wait for more of a response whose head was relayed
 * ({@code upstream.response_timeout} between two upstream reads, as nginx's {@code proxy_read_timeout}) and a client
 * that takes none of the response ({@code limits.idle_timeout}, as nginx's {@code send_timeout}: any progress starts
 * the period again).
 *
 * <p>Implementation notes: a request body that stops arriving, or a client that stops reading the
 * response (the relay then stops reading the upstream), would otherwise hold its upstream connection for
 * ever (slow-body and slow-read attacks exhaust the pool). The deadlines are plain fields: setting,
 * moving or clearing one neither schedules nor cancels anything. The connection's single timer
 * ({@link ConnectionState}) calls {@link #expire} when it fires, on the client channel's event loop,
 * the loop that calls every method here. The wait for more of a response runs only while the gateway reads the
 * upstream: while the client cannot take more, the relay stops reading it, the upstream waits for the client, and
 * the client-stall deadline is the one that applies; each upstream read costs one clock read, nothing more.
 */
final class ExchangeTimers implements ConnectionState.Deadlines {
    private final ConnectionState connection;
    private final Runnable bodyIdle;
    private final Runnable responseLate;
    private final Runnable clientStalled;
    private final Runnable upstreamStalled;
    private final Runnable responseStalled;
    private final LongSupplier queuedForUpstream;
    private boolean bodyPending;
    private long bodyTimeoutNanos;
    private long lastBodyReadNanos;
    /**
     * The body bytes queued for the upstream when the gateway began holding the body back (or when the body deadline
     * last passed with progress): less at the deadline means the upstream took some.
     */
    private long upstreamQueued;
    private boolean responsePending;
    private long responseDeadline;
    private boolean stallPending;
    private long stallDeadline;
    private long stallTimeoutNanos;
    /** The bytes queued for the client when the stall period began (or last had progress). */
    private long stallQueued;
    private boolean moreResponsePending;
    private long moreResponseTimeoutNanos;
    private long lastUpstreamReadNanos;
    /** True while the relay does not read the upstream, the client's connection being unable to take more. */
    private boolean clientHeld;

    /**
     * @param bodyIdle run when no body part arrived for the body timeout
     * @param responseLate run when no response head arrived within the response timeout
     * @param clientStalled run when the client could take no more of the response for the stall timeout
     * @param upstreamStalled run when the upstream took none of a body held back for it for the body timeout
     * @param responseStalled run when the upstream sent nothing more of a started response for the response timeout
     * @param queuedForUpstream the bytes written to the upstream connection and not yet taken by it
     */
    ExchangeTimers(ConnectionState connection, Runnable bodyIdle, Runnable responseLate, Runnable clientStalled,
            Runnable upstreamStalled, Runnable responseStalled, LongSupplier queuedForUpstream) {
        this.connection = connection;
        this.bodyIdle = bodyIdle;
        this.responseLate = responseLate;
        this.clientStalled = clientStalled;
        this.upstreamStalled = upstreamStalled;
        this.responseStalled = responseStalled;
        this.queuedForUpstream = queuedForUpstream;
        connection.watch(this);
    }

    /** A request body is expected: it may pause for at most {@code timeoutNanos} between parts. */
    void awaitBody(long timeoutNanos) {
        long now = System.nanoTime();
        bodyTimeoutNanos = timeoutNanos;
        lastBodyReadNanos = now;
        upstreamQueued = Long.MAX_VALUE;
        bodyPending = true;
        connection.deadlineSet(now, timeoutNanos);
    }

    /** A body part arrived. */
    void bodyRead() {
        lastBodyReadNanos = System.nanoTime();
    }

    /**
     * The gateway holds the body back (the upstream connection cannot take more): from now on the body deadline
     * watches the upstream, which must take some of what is queued for it now within each period. Called again after
     * each part written while held back, so that the measure includes it.
     */
    void bodyHeldBack() {
        if (bodyPending) {
            upstreamQueued = queuedForUpstream.getAsLong();
        }
    }

    /**
     * The gateway reads the body again (the upstream took enough of it, or is connected): the client has a whole
     * period from now, not from the last part it could send before reading stopped.
     */
    void bodyReleased() {
        if (bodyPending) {
            lastBodyReadNanos = System.nanoTime();
        }
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

    /**
     * The final response head was relayed and the whole request sent: the upstream is waited on for the rest of the
     * response, which must keep coming, at most {@code timeoutNanos} apart, while the gateway reads it.
     */
    void awaitMoreResponse(long timeoutNanos) {
        if (!moreResponsePending && timeoutNanos > 0) {
            long now = System.nanoTime();
            moreResponseTimeoutNanos = timeoutNanos;
            lastUpstreamReadNanos = now;
            moreResponsePending = true;
            connection.deadlineSet(now, timeoutNanos);
        }
    }

    /** The upstream connection read something (the end of a read burst). */
    void upstreamRead() {
        if (moreResponsePending) {
            lastUpstreamReadNanos = System.nanoTime();
        }
    }

    /**
     * The client's connection cannot take more of the response: unless it takes some of the bytes queued for it
     * within {@code timeoutNanos} (again and again), or can take more, the exchange is ended. No deadline when
     * {@code timeoutNanos} is 0. Called after each write while the client cannot take more.
     */
    void clientBlocked(long timeoutNanos) {
        clientHeld = true;
        if (timeoutNanos <= 0) {
            return;
        }
        stallQueued = queuedForClient();
        if (!stallPending) {
            long now = System.nanoTime();
            stallTimeoutNanos = timeoutNanos;
            stallDeadline = now + timeoutNanos;
            stallPending = true;
            connection.deadlineSet(now, timeoutNanos);
        }
    }

    /**
     * The client's connection can take more again (the relay reads the upstream again): the upstream has a whole
     * period from now to send more.
     */
    void clientUnblocked() {
        stallPending = false;
        if (clientHeld) {
            clientHeld = false;
            upstreamRead();
        }
    }

    /** The exchange ended: no deadline applies any more. */
    void cancelAll() {
        responsePending = false;
        bodyPending = false;
        stallPending = false;
        moreResponsePending = false;
        clientHeld = false;
    }

    /**
     * The body deadline passed. While the gateway holds the body back (the upstream connection is full, or not there
     * yet: connect_timeout bounds that), the client is not the one stalling: the upstream is, if it took none of the
     * body for a whole period (as nginx's proxy_send_timeout), unless it answered early and the gateway holds that
     * answer back because the client cannot take more: the upstream then waits for the client, which is the stall
     * (the pending body keeps the client-stall deadline from acting on its own). Whether the client took a little
     * meanwhile is not asked: the bytes flushed into the socket right after the client blocked look like progress.
     */
    private void expireBody(long now) {
        if (connection.isPaused(ConnectionState.Pause.UPSTREAM_CONNECTING)) {
            lastBodyReadNanos = now;
            return;
        }
        if (!connection.isPaused(ConnectionState.Pause.UPSTREAM_BACKPRESSURE)) {
            bodyPending = false;
            bodyIdle.run();
            return;
        }
        long queued = queuedForUpstream.getAsLong();
        if (queued < upstreamQueued) {
            upstreamQueued = queued;
            lastBodyReadNanos = now;
            return;
        }
        bodyPending = false;
        if (stallPending) {
            stallPending = false;
            clientStalled.run();
        } else {
            upstreamStalled.run();
        }
    }

    private long queuedForClient() {
        return Outbound.queuedBytes(connection.channel());
    }

    @Override
    public long expire(long now) {
        if (bodyPending && now - (lastBodyReadNanos + bodyTimeoutNanos) >= 0) {
            expireBody(now);
        }
        if (responsePending && now - responseDeadline >= 0) {
            responsePending = false;
            responseLate.run();
        }
        if (stallPending && now - stallDeadline >= 0) {
            expireStall(now);
        }
        if (moreResponsePending && now - (lastUpstreamReadNanos + moreResponseTimeoutNanos) >= 0) {
            expireMoreResponse(now);
        }
        return next(now);
    }

    private void expireStall(long now) {
        long queued = queuedForClient();
        if (queued < stallQueued || bodyPending) {
            // the client took some (or is still sending its body, which the body deadline watches)
            stallQueued = queued;
            stallDeadline = now + stallTimeoutNanos;
        } else {
            stallPending = false;
            clientStalled.run();
        }
    }

    /**
     * Nothing more of the response arrived for a whole period: the upstream stalled, unless it waits for the client.
     */
    private void expireMoreResponse(long now) {
        if (clientHeld) {
            lastUpstreamReadNanos = now; // not read meanwhile: a period from when reading resumes (clientUnblocked)
            return;
        }
        moreResponsePending = false;
        responseStalled.run();
    }

    /** The nanoseconds from {@code now} to the earliest pending deadline, or {@link Long#MAX_VALUE} when none is. */
    private long next(long now) {
        long next = Long.MAX_VALUE;
        if (bodyPending) {
            next = lastBodyReadNanos + bodyTimeoutNanos - now;
        }
        if (responsePending) {
            next = Math.min(next, responseDeadline - now);
        }
        if (stallPending) {
            next = Math.min(next, stallDeadline - now);
        }
        if (moreResponsePending) {
            next = Math.min(next, lastUpstreamReadNanos + moreResponseTimeoutNanos - now);
        }
        return next;
    }
}
