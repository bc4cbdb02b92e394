package dev.portcullis.server.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The two deadlines of the exchange in flight on one client connection: request-body inactivity
 * ({@code limits.idle_timeout}) and the wait for a response head ({@code upstream.response_timeout}).
 *
 * <p>Implementation notes: a request body that stops arriving would otherwise hold its upstream
 * connection for ever (slow-body attacks exhaust the pool). One body timer per exchange checks the
 * time of the last body read and re-arms itself for the remainder, so reads do not reschedule. Both
 * timers run on the client channel's event loop, the loop that calls every method here.
 */
final class ExchangeTimers {
    private final Channel client;
    private final Runnable bodyIdle;
    private final Runnable responseLate;
    private @Nullable ScheduledFuture<?> bodyTimer;
    private @Nullable ScheduledFuture<?> responseTimer;
    private long bodyTimeoutNanos;
    private long lastBodyReadNanos;

    /**
     * @param bodyIdle run when no body part arrived for the body timeout
     * @param responseLate run when no response head arrived within the response timeout
     */
    ExchangeTimers(Channel client, Runnable bodyIdle, Runnable responseLate) {
        this.client = client;
        this.bodyIdle = bodyIdle;
        this.responseLate = responseLate;
    }

    /** A request body is expected: it may pause for at most {@code timeoutNanos} between parts. */
    void awaitBody(long timeoutNanos) {
        bodyTimeoutNanos = timeoutNanos;
        lastBodyReadNanos = System.nanoTime();
        scheduleBodyTimer(timeoutNanos);
    }

    /** A body part arrived. */
    void bodyRead() {
        lastBodyReadNanos = System.nanoTime();
    }

    private void scheduleBodyTimer(long delayNanos) {
        bodyTimer = client.eventLoop().schedule(this::bodyTimerFired, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void bodyTimerFired() {
        bodyTimer = null;
        long idle = System.nanoTime() - lastBodyReadNanos;
        if (idle < bodyTimeoutNanos) {
            scheduleBodyTimer(bodyTimeoutNanos - idle);
        } else {
            bodyIdle.run();
        }
    }

    /** The whole body arrived, or the exchange ended: no more body deadline. */
    void cancelBody() {
        if (bodyTimer != null) {
            bodyTimer.cancel(false);
            bodyTimer = null;
        }
    }

    /** The request was sent: a response head is due within {@code timeoutNanos}, unless already awaited. */
    void awaitResponse(long timeoutNanos) {
        if (responseTimer == null) {
            responseTimer = client.eventLoop().schedule(this::responseTimerFired, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void responseTimerFired() {
        responseTimer = null;
        responseLate.run();
    }

    /** A response head arrived, the request is sent again, or the exchange ended. */
    void cancelResponse() {
        if (responseTimer != null) {
            responseTimer.cancel(false);
            responseTimer = null;
        }
    }

    /** The exchange ended: neither deadline applies any more. */
    void cancelAll() {
        cancelResponse();
        cancelBody();
    }
}
