package dev.portcullis.server.exchange;

import dev.portcullis.core.net.IpAddress;
import dev.portcullis.server.transport.Outbound;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Per-connection state shared by the handlers of one client channel: the current exchange, the
 * connection's deadlines and the reasons reading is paused.
 *
 * <p>Confined to the channel's event loop. Reading is paused while any of the pause reasons holds
 * (a pipelined request is queued, the upstream cannot take more body or, in a WebSocket tunnel, more
 * relayed bytes, the upstream is not connected yet, the identity waits for signing keys) so that one
 * mechanism owns {@code autoRead}.
 *
 * <p>Implementation notes: deadlines are checked lazily by one {@link ConnectionTimer} per connection: the idle and
 * head deadlines between exchanges ({@link ConnectionPhase}) and the exchange's own ({@link Deadlines}).
 */
public final class ConnectionState {
    private static final AttributeKey<ConnectionState> KEY = AttributeKey.valueOf("portcullis.connection");

    /** Reasons to stop reading from the client. */
    public enum Pause {
        /** A request arrived before the previous exchange finished. */
        PIPELINED,
        /** The upstream connection cannot take more (request body, or bytes relayed by a tunnel). */
        UPSTREAM_BACKPRESSURE,
        /** The upstream connection is being acquired. */
        UPSTREAM_CONNECTING,
        /** The decision waits for the identity provider's signing keys. */
        IDENTITY,
        /** Bytes after a request asking to switch protocols wait for its answer (HTTP, or tunnelled bytes). */
        UPGRADE
    }

    /** Deadlines of the exchange in flight, checked by the connection's timer. */
    public interface Deadlines {
        /**
         * Acts on every deadline that has passed at {@code now} (System.nanoTime()).
         *
         * @return the nanoseconds until the next deadline still pending, or {@link Long#MAX_VALUE} for none
         */
        long expire(long now);
    }

    private final Channel channel;
    private final ServerContext server;
    private final ConnectionPhase phase;
    private final ConnectionTimer timer;
    private int pauses;
    private @Nullable Deadlines watched;
    private @Nullable Exchange exchange;
    private final PeerAddress peer;
    private boolean closeAfterResponse;
    private boolean ending;
    private boolean drainEnded;
    private final HeadBudget.Account headBytes;
    private final ClientStall stall;

    public ConnectionState(Channel channel, ServerContext server, long headTimeoutNanos, long idleTimeoutNanos) {
        this.channel = channel;
        this.server = server;
        this.headBytes = server.heads().new Account();
        this.stall = new ClientStall(channel, server.stalled());
        this.peer = new PeerAddress(channel);
        this.phase = new ConnectionPhase(this, headTimeoutNanos, idleTimeoutNanos);
        this.timer = new ConnectionTimer(channel,
                Math.min(positiveOrMax(headTimeoutNanos), positiveOrMax(idleTimeoutNanos)), this::expire);
        channel.attr(KEY).set(this);
    }

    /** The state of {@code channel}, set up by the channel initializer. */
    public static ConnectionState of(Channel channel) {
        ConnectionState state = channel.attr(KEY).get();
        if (state == null) {
            throw new IllegalStateException("channel has no connection state: " + channel);
        }
        return state;
    }

    /** The state of {@code channel}, or null when it is not a client connection of the proxy listener. */
    public static @Nullable ConnectionState find(Channel channel) {
        return channel.attr(KEY).get();
    }

    public Channel channel() {
        return channel;
    }

    public ServerContext server() {
        return server;
    }

    /** The TCP peer's address (0.0.0.0 when the channel has none), read once per connection. */
    public IpAddress peer() {
        return peer.address();
    }

    /** The TCP peer's address as text, built once per connection. */
    public String peerText() {
        return peer.text();
    }

    public @Nullable Exchange exchange() {
        return exchange;
    }

    /** True when the response to the current request must end the connection. */
    public boolean closeAfterResponse() {
        return closeAfterResponse || server.isDraining();
    }

    public void closeAfterResponse(boolean close) {
        this.closeAfterResponse = close;
    }

    /**
     * An answer that closes the connection has been written: nothing read after it on this connection
     * (a pipelined request, the rest of a body) is decided or forwarded any more (SPEC 3.7).
     */
    public void ending() {
        ending = true;
    }

    /** True once {@link #ending()} was called. */
    public boolean isEnding() {
        return ending;
    }

    public void pause(Pause reason) {
        pauses |= 1 << reason.ordinal();
        channel.config().setAutoRead(false);
    }

    /** Whether reading is paused for {@code reason} (among others, perhaps). */
    public boolean isPaused(Pause reason) {
        return (pauses & 1 << reason.ordinal()) != 0;
    }

    public void resume(Pause reason) {
        pauses &= ~(1 << reason.ordinal());
        if (pauses == 0 && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    /** Starts an exchange for a request head that has just been decoded. */
    public Exchange begin(String requestId, String method, String rawPath) {
        headBytes.releaseAll();
        stall.exchangeBegins();
        phase.busy();
        closeAfterResponse = false;
        Exchange started = new Exchange(this, requestId, method, rawPath);
        exchange = started;
        server.exchangeStarted();
        return started;
    }

    void exchangeFinished(Exchange finished) {
        server.exchangeFinished(finished);
        if (exchange == finished) {
            exchange = null;
            server.exchangeEnded();
            stall.exchangeEnded();
            if (channel.isActive()) {
                awaitNextHead();
            }
        }
    }

    /** Connection opened or previous exchange done: the idle timeout runs until the first byte of a head. */
    public void awaitNextHead() {
        phase.awaitNextHead();
    }

    /**
     * {@code n} bytes were read: between exchanges they are a head's, held until it completes ({@link HeadBudget});
     * false when the server's unfinished heads exceed their budget, and this connection must close.
     */
    public boolean headBytesReceived(int n) {
        return exchange != null || headBytes.add(n);
    }

    /**
     * The channel's writability changed: while it cannot take more, what is queued for its client counts against the
     * stalled clients' budget ({@link StalledBudget}).
     */
    public void writabilityChanged() {
        stall.writabilityChanged();
    }

    /** Bytes arrived: if they begin a new request head, the head timeout starts. */
    public void bytesReceived() {
        phase.bytesReceived();
    }

    /**
     * Where to ask whether the beginning of a request head is already buffered (it arrived while the previous
     * exchange was in progress): set by the channel initializer, which owns the decoder.
     */
    public void headBuffered(BooleanSupplier started) {
        phase.headBuffered(started);
    }

    /** The exchange deadlines the connection's timer checks; one holder per connection. */
    public void watch(Deadlines deadlines) {
        this.watched = deadlines;
    }

    /**
     * A deadline of the {@linkplain #watch watched} exchange was set to {@code now + timeoutNanos}: the
     * timer fires by then.
     */
    public void deadlineSet(long now, long timeoutNanos) {
        timer.deadlineSet(now, timeoutNanos);
    }

    /**
     * The timer fired: acts on the deadlines passed at {@code now}; returns the nanoseconds to the next one
     * (package-private for tests).
     */
    long expire(long now) {
        phase.expire(now);
        Deadlines exchangeDeadlines = watched;
        long next = exchangeDeadlines == null ? Long.MAX_VALUE : exchangeDeadlines.expire(now);
        // after the exchange's: ending the exchange begins the next phase
        return Math.min(next, phase.remaining(now));
    }

    /** Closes the connection when no exchange is in progress; used when draining. */
    public void closeIfIdle() {
        if (exchange == null && !phase.isBusy()) {
            if (Outbound.queuedBytes(channel) > 0) {
                // the last response is still being written: closed once it is (the drain waits, up to drain_timeout);
                // meanwhile nothing more is read, and a request waiting behind it is dropped, never forwarded
                ending();
                phase.stop();
                channel.config().setAutoRead(false);
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                channel.close();
            }
        }
    }

    /**
     * {@code drain_timeout} ended with this connection's exchange in flight: the handler holding the exchange ends it
     * ({@link DrainTimeoutEvent}), and an exchange that the closing connection still ends is logged
     * {@code drain_timeout}, not {@code client_closed}. Returns a future done once what was written to the client
     * until now (the 503 or 504) is flushed to the socket, or failed.
     */
    public ChannelFuture endForDrain() {
        if (exchange == null) {
            return channel.newSucceededFuture();
        }
        drainEnded = true;
        channel.pipeline().fireUserEventTriggered(DrainTimeoutEvent.INSTANCE);
        // a write completes only after every write before it: this one waits for the 503 or 504
        return channel.isActive() ? channel.writeAndFlush(Unpooled.EMPTY_BUFFER) : channel.newSucceededFuture();
    }

    /** Why an exchange ends with its connection: the client went away, or the gateway closed it when draining ended. */
    public ExchangeError closedError() {
        return drainEnded ? ExchangeError.DRAIN_TIMEOUT : ExchangeError.CLIENT_CLOSED;
    }

    /**
     * The connection closed: an exchange still open ends with it, status 499 when the client went away before its
     * response; when the drain's end closed it, the status stays what was sent (0 for nothing), never 499.
     */
    public void released() {
        headBytes.releaseAll();
        stall.released();
        phase.stop();
        timer.cancel();
        if (exchange != null) {
            Exchange abandoned = exchange;
            if (abandoned.status() == 0 && !drainEnded) {
                abandoned.status(499);
            }
            abandoned.error(closedError());
            abandoned.finish();
        }
    }

    private static long positiveOrMax(long nanos) {
        return nanos > 0 ? nanos : Long.MAX_VALUE;
    }
}
