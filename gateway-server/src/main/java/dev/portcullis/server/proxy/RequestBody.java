package dev.portcullis.server.proxy;

import dev.portcullis.core.config.Limits;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ConnectionState.Pause;
import dev.portcullis.server.exchange.ExchangeError;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * The request body of the exchange in flight, on its way from the client to the upstream: each part is counted
 * against {@code limits.max_body_size} and written to the upstream connection, or queued until that connection is
 * there. While the upstream is not connected yet, or its connection cannot take more, the gateway stops reading the
 * client (holds the body back), and the body deadline watches the upstream's progress instead of the client's
 * ({@link ExchangeTimers}).
 *
 * <p>Implementation notes: one per client connection, owned by its {@link UpstreamExchange}; confined to the client
 * channel's event loop. It keeps the body deadline informed (expected, read, held back, released, complete); the
 * timers hear of each hold and release before reading stops or starts again: resuming can read, and run the
 * connection's timer, at once.
 */
final class RequestBody {
    private final ConnectionState state;
    private final ExchangeTimers timers;
    private final Refusal refusal;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
    private long bytes;
    private long maxBytes;

    /** How a refused part ends the exchange ({@link ExchangeFailures#failOrAbort}). */
    @FunctionalInterface
    interface Refusal {
        void refuse(int status, ExchangeError error);
    }

    RequestBody(ConnectionState state, ExchangeTimers timers, Refusal refusal) {
        this.state = state;
        this.timers = timers;
        this.refusal = refusal;
    }

    /**
     * A request begins: its body may have at most {@code limits.max_body_size}; when one is still {@code expected},
     * it may pause for at most {@code limits.idle_timeout} between parts.
     */
    void begin(Limits limits, boolean expected) {
        this.bytes = 0;
        this.maxBytes = limits.maxBodySize();
        if (expected) {
            timers.awaitBody(limits.idleTimeout().toNanos());
        }
    }

    /**
     * A part from the client (ownership passes here), written to {@code upstream} or queued while it is null.
     *
     * @return true when the part was the last and went on (no body deadline any more); false when more is due, or
     *     when the part was refused and the exchange failed (400 for a broken chunk, 413 past the size limit)
     */
    boolean forward(HttpContent content, @Nullable Channel upstream) {
        if (content.decoderResult().isFailure()) {
            // A broken chunk: the upstream already has part of the body, so it cannot be reused;
            // the client gets 400 if nothing of the response has been sent yet.
            content.release();
            refusal.refuse(400, ExchangeError.MALFORMED_BODY);
            return false;
        }
        timers.bodyRead();
        bytes += content.content().readableBytes();
        if (bytes > maxBytes) {
            content.release();
            refusal.refuse(413, ExchangeError.BODY_TOO_LARGE);
            return false;
        }
        boolean last = content instanceof LastHttpContent;
        if (last && !((LastHttpContent) content).trailingHeaders().isEmpty()) {
            // SPEC 3.7: request trailer fields are not forwarded; an upstream that merges them into the
            // headers would see fields the policy never saw
            ((LastHttpContent) content).trailingHeaders().clear();
        }
        if (upstream == null) {
            pending.add(content);
        } else {
            upstream.write(content);
            if (!upstream.isWritable()) {
                holdBack();
            }
        }
        if (last) {
            timers.cancelBody();
        }
        return last;
    }

    /** The request is sent again on another connection: it ends with an empty last part. */
    void endWithEmptyPart() {
        pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** The upstream connection is being acquired: nothing more is read from the client until it is there. */
    void awaitUpstream() {
        state.pause(Pause.UPSTREAM_CONNECTING);
    }

    /** The acquisition ended, connected or not: it no longer stops reading the client. */
    void upstreamAcquired() {
        release(Pause.UPSTREAM_CONNECTING);
    }

    /** Writes the parts that waited for the upstream connection (after the request head). */
    void writeQueued(Channel upstream) {
        HttpContent part;
        while ((part = pending.poll()) != null) {
            upstream.write(part);
        }
    }

    /**
     * The upstream connection cannot take more: stop reading the client, and measure the upstream's progress from
     * what is queued for it now (called again after each part written meanwhile, so the measure includes it).
     */
    void holdBack() {
        timers.bodyHeldBack();
        state.pause(Pause.UPSTREAM_BACKPRESSURE);
    }

    /** The upstream connection can take more: it no longer stops reading the client. */
    void upstreamWritable() {
        release(Pause.UPSTREAM_BACKPRESSURE);
    }

    private void release(Pause reason) {
        if (state.isPaused(reason)) {
            timers.bodyReleased();
            state.resume(reason);
        }
    }

    /** The exchange ended: the parts still queued are dropped, and the upstream no longer stops reading the client. */
    void reset() {
        state.resume(Pause.UPSTREAM_BACKPRESSURE);
        state.resume(Pause.UPSTREAM_CONNECTING);
        HttpContent part;
        while ((part = pending.poll()) != null) {
            part.release();
        }
    }
}
