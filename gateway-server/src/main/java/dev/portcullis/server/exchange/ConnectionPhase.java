package dev.portcullis.server.exchange;

import dev.portcullis.server.http.RequestIds;
import dev.portcullis.server.transport.Outbound;
import java.util.function.BooleanSupplier;

/**
 * Where a client connection is between exchanges, and that phase's deadline: idle (waiting for the first byte of a
 * request head, {@code limits.idle_timeout}), reading a head ({@code limits.header_timeout}, then 408), or busy with
 * an exchange (whose own deadlines its {@link ConnectionState.Deadlines} keep).
 *
 * <p>Implementation notes: a connection is idle only once it has nothing left to write: when the idle timeout passes
 * while the client is still taking the last response, slowly (the bytes the gateway has not written yet went down
 * since the period began), another period begins; a client that took none of it for a whole period is disconnected
 * (as nginx's {@code send_timeout}), since closing drops what was not written yet. The deadline is a plain field that
 * the connection's timer checks ({@link ConnectionTimer}). Confined to the channel's event loop.
 */
final class ConnectionPhase {
    private enum Phase {
        IDLE,
        READING_HEAD,
        BUSY
    }

    private final ConnectionState connection;
    private final long headTimeoutNanos;
    private final long idleTimeoutNanos;
    private Phase phase = Phase.IDLE;
    private boolean deadlineSet;
    private long deadline;
    /** The bytes of the last response still to be written when the idle period began. */
    private long idleQueuedBytes;
    private BooleanSupplier headBuffered = () -> false;

    ConnectionPhase(ConnectionState connection, long headTimeoutNanos, long idleTimeoutNanos) {
        this.connection = connection;
        this.headTimeoutNanos = headTimeoutNanos;
        this.idleTimeoutNanos = idleTimeoutNanos;
    }

    /** An exchange began: its own deadlines apply until it finishes. */
    void busy() {
        deadlineSet = false;
        phase = Phase.BUSY;
    }

    /** True while an exchange is in progress. */
    boolean isBusy() {
        return phase == Phase.BUSY;
    }

    /** Where to ask whether the beginning of a head is already buffered. */
    void headBuffered(BooleanSupplier started) {
        headBuffered = started;
    }

    /**
     * Connection opened or previous exchange done: the idle timeout runs until the first byte of a head; the head
     * timeout at once when part of the next head arrived while the exchange was in progress (a client that
     * pipelines the beginning of a head and never completes it gets its 408, as one that sends it later).
     */
    void awaitNextHead() {
        if (headBuffered.getAsBoolean()) {
            phase = Phase.READING_HEAD;
            startDeadline(headTimeoutNanos);
        } else {
            awaitNextHeadIdle();
        }
    }

    /** The idle timeout runs until the first byte of a head (or until the client took what is queued for it). */
    private void awaitNextHeadIdle() {
        phase = Phase.IDLE;
        idleQueuedBytes = Outbound.queuedBytes(connection.channel());
        startDeadline(idleTimeoutNanos);
    }

    /** Bytes arrived: if they begin a new request head, the head timeout starts. */
    void bytesReceived() {
        if (phase == Phase.IDLE) {
            phase = Phase.READING_HEAD;
            startDeadline(headTimeoutNanos);
        }
    }

    /** No phase deadline any more: the connection is ending. */
    void stop() {
        deadlineSet = false;
    }

    private void startDeadline(long timeoutNanos) {
        if (timeoutNanos > 0) {
            long now = System.nanoTime();
            deadline = now + timeoutNanos;
            deadlineSet = true;
            connection.deadlineSet(now, timeoutNanos);
        } else {
            deadlineSet = false;
        }
    }

    /** Acts on the phase deadline if it passed at {@code now}. */
    void expire(long now) {
        if (deadlineSet && now - deadline >= 0) {
            deadlineSet = false;
            if (phase == Phase.IDLE) {
                idleExpired();
            } else if (phase == Phase.READING_HEAD) {
                headExpired();
            }
        }
    }

    /** The nanoseconds from {@code now} to the phase deadline, or {@link Long#MAX_VALUE} when none is pending. */
    long remaining(long now) {
        return deadlineSet ? deadline - now : Long.MAX_VALUE;
    }

    private void idleExpired() {
        if (connection.exchange() != null) {
            return;
        }
        long queued = Outbound.queuedBytes(connection.channel());
        if (queued > 0 && queued < idleQueuedBytes) {
            awaitNextHeadIdle(); // still taking the last response: not idle yet
        } else {
            connection.channel().close();
        }
    }

    private void headExpired() {
        if (connection.exchange() != null) {
            return;
        }
        if (connection.isPaused(ConnectionState.Pause.PIPELINED)) {
            // a whole head is queued until the client takes the last response: the idle rules apply
            awaitNextHeadIdle();
        } else {
            Exchange timedOut = connection.begin(RequestIds.create(), "", "");
            // logged from when its head began (or, begun during the previous exchange, from that exchange's end)
            timedOut.startedAt(deadline - headTimeoutNanos);
            timedOut.clientIp(connection.peerText());
            GatewayResponses.reject(connection.channel(), timedOut, Rejection.HEADER_TIMEOUT);
        }
    }
}
