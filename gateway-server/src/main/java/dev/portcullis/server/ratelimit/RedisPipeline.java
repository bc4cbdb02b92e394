package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.RateLimitResult;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The commands written on a store's connection and not answered yet, in order: writes the bucket script's calls and
 * the handshake, and matches each RESP answer to the oldest call waiting.
 */
final class RedisPipeline {

    /*
     * Implementation notes: confined to the store's loop. Redis answers in order, so the calls
     * waiting are a FIFO queue, which belongs to one connection at a time, its owner: attached when
     * the connection opens, detached (every call still in it failed) when it is dropped. An answer
     * read on any other channel, such as the last bytes of a dropped connection, is thrown away, so an
     * answer is never matched to a call of a newer connection. A call that times out is completed at
     * once (its timer runs on the same loop) but stays in the queue until its answer arrives, to keep
     * the FIFO matched; at most MAX_OUTSTANDING stay (a call beyond fails at once), and the
     * connection drops an owner whose oldest call has waited too long (oldestSentNanos). A handshake
     * call's error answer is passed to the connection (which closes), not to a caller.
     */

    /**
     * Calls waiting for an answer on a connection at most; more fail at once. With the connection dropped once
     * its oldest call waited a second or three timeouts, only a Redis answering thousands of calls a second
     * later than their timeout reaches it; it bounds what a hung Redis holds to a few hundred KB.
     */
    static final int MAX_OUTSTANDING = 4_096;
    private static final byte[] SCRIPT_HEAD = Resp.arrayHead(9);
    private static final byte[] EVALSHA = Resp.bulk("EVALSHA");
    private static final byte[] EVAL = Resp.bulk("EVAL");
    private static final byte[] ONE = Resp.bulk("1");

    /** What the connection hears of the answers on it. */
    interface Listener {
        /** A handshake command was answered: {@code error} is null when it succeeded. */
        void handshakeAnswered(Channel ch, String command, @Nullable String error);

        /** {@code ch} answered a token request normally, for the first time since it was attached. */
        void answering(Channel ch);

        /** {@code ch} answered {@code -READONLY}: the node is a replica now (a failover demoted it). */
        void demoted(Channel ch, String error);
    }

    private final EventLoop loop;
    private final StoreFailures failures;
    private final long timeoutNanos;
    private final String timeoutMessage;
    private final ArrayDeque<RedisCall> inFlight = new ArrayDeque<>();
    private @Nullable Channel owner;
    private boolean answering;

    RedisPipeline(EventLoop loop, StoreFailures failures, Duration timeout) {
        this.loop = loop;
        this.failures = failures;
        this.timeoutNanos = timeout.toNanos();
        this.timeoutMessage = failures.failure("no answer within " + timeout.toMillis() + "ms").getMessage();
    }

    /** {@code ch} is the connection from now on; calls are sent on it and its answers are matched to them. */
    void attach(Channel ch) {
        failAll("connection replaced");
        owner = ch;
        answering = false;
    }

    /** The connection is dropped: no answer is read from it any more, and every call still waiting fails. */
    void detach(String why) {
        owner = null;
        failAll(why);
    }

    /** Whether the connection attached answered a token request normally since. */
    boolean isAnswering() {
        return answering;
    }

    /** When the oldest call still waiting was sent ({@link EventLoop#ticker()} time), or -1 when none waits. */
    long oldestSentNanos() {
        RedisCall oldest = inFlight.peek();
        return oldest == null ? -1 : oldest.sentNanos;
    }

    /** How many calls wait for an answer. */
    int outstanding() {
        return inFlight.size();
    }

    /** Sends a token request on {@code ch}, bounded by the timeout; on the loop. */
    void send(Channel ch, RedisCall call) {
        if (ch != owner) {
            fail(call, "not connected");
            return;
        }
        if (inFlight.size() >= MAX_OUTSTANDING) {
            fail(call, MAX_OUTSTANDING + " requests wait for an answer already");
            return;
        }
        call.timer = loop.schedule(() -> timedOut(call), timeoutNanos, TimeUnit.NANOSECONDS);
        writeScript(ch, call, false);
    }

    /** Sends a handshake command of {@code count} parts; its answer goes to the listener. */
    void handshake(Channel ch, RedisCall call, int count, byte[] name, byte[] args) {
        ByteBuf buf = ch.alloc().buffer();
        buf.writeBytes(Resp.arrayHead(count)).writeBytes(name).writeBytes(args);
        ch.writeAndFlush(buf, ch.voidPromise());
        queue(call);
    }

    /** Fails every call still waiting. */
    private void failAll(String why) {
        RedisCall call;
        while ((call = inFlight.poll()) != null) {
            fail(call, why);
        }
    }

    /** Fails {@code call} now, unless it is complete already; counted and logged once, by the store. */
    void fail(RedisCall call, String why) {
        call.cancelTimer();
        if (call.handshake == null && !call.answer.isDone()) {
            call.answer.completeExceptionally(failures.failure(why));
        }
    }

    /*
     * A call is queued once it is written: its wait is Redis's, not that of our own first use of the
     * allocator or the socket (the handshake at start, on a JVM still loading classes). No answer can
     * be read in between: both run on the store's loop.
     */
    private void queue(RedisCall call) {
        call.sentNanos = loop.ticker().nanoTime();
        inFlight.add(call);
    }

    private void writeScript(Channel ch, RedisCall call, boolean eval) {
        byte[] script = eval ? RedisScript.SOURCE_BULK : RedisScript.SHA1_BULK;
        ByteBuf buf = ch.alloc().buffer(64 + call.key.length + call.args.length + script.length);
        buf.writeBytes(SCRIPT_HEAD);
        buf.writeBytes(eval ? EVAL : EVALSHA).writeBytes(script).writeBytes(ONE);
        buf.writeBytes(call.key).writeBytes(call.args);
        ch.writeAndFlush(buf, ch.voidPromise());
        queue(call);
    }

    private void timedOut(RedisCall call) {
        call.timer = null;
        if (!call.answer.isDone()) {
            call.answer.completeExceptionally(new StoreException(timeoutMessage));
        }
    }

    /** The handler at the end of a connection's pipeline: each answer to the oldest call waiting. */
    SimpleChannelInboundHandler<RedisMessage> replies(Listener listener) {
        return new SimpleChannelInboundHandler<>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, RedisMessage reply) {
                if (ctx.channel() == owner) {
                    answered(ctx, reply, listener);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                // logged whether or not ch is still the owner: a failed TLS handshake closes the channel (and
                // so detaches it) before its exception arrives here
                failures.log("connection failed: " + cause.getMessage());
                ctx.close();
            }
        };
    }

    private void answered(ChannelHandlerContext ctx, RedisMessage reply, Listener listener) {
        RedisCall call = inFlight.poll();
        if (call == null) {
            failures.log("an answer to no request: closing the connection");
            ctx.close();
            return;
        }
        String error = reply instanceof ErrorRedisMessage e ? e.content() : null;
        if (call.handshake != null) {
            listener.handshakeAnswered(ctx.channel(), call.handshake, error);
            return;
        }
        if (error != null) {
            if (error.startsWith("NOSCRIPT") && !call.answer.isDone()) {
                writeScript(ctx.channel(), call, true);
                return;
            }
            fail(call, "error answer: " + error);
            if (error.startsWith("READONLY")) {
                listener.demoted(ctx.channel(), error);
            }
            return;
        }
        RateLimitResult result = result(reply);
        if (result == null) {
            fail(call, "unexpected answer " + reply);
            return;
        }
        call.cancelTimer();
        if (!answering) {
            answering = true;
            listener.answering(ctx.channel());
        }
        if (call.answer.complete(result)) {
            failures.answered(System.nanoTime() - call.startNanos);
        }
    }

    /** The script's answer {@code {allowed, wait in microseconds}}, or null when it is something else. */
    private static @Nullable RateLimitResult result(RedisMessage reply) {
        if (!(reply instanceof ArrayRedisMessage array) || array.children().size() != 2) {
            return null;
        }
        List<RedisMessage> children = array.children();
        if (!(children.get(0) instanceof IntegerRedisMessage allowed)
                || !(children.get(1) instanceof IntegerRedisMessage waitMicros)) {
            return null;
        }
        if (allowed.value() == 1) {
            return RateLimitResult.Admitted.INSTANCE;
        }
        long micros = Math.max(0, waitMicros.value());
        return new RateLimitResult.Limited(micros > Long.MAX_VALUE / 1_000 ? Long.MAX_VALUE : micros * 1_000);
    }
}
