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
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The commands written on a store's connection and not answered yet, in order: writes the bucket script's calls and
 * the handshake, and matches each RESP answer to the oldest call waiting.
 */
final class RedisPipeline {

    /*
     * Implementation notes: confined to the store's loop. Redis answers in order, so the calls
     * waiting are a FIFO queue. A call that times out is completed at once (its timer runs on the
     * same loop) but stays in the queue until its answer arrives, to keep the FIFO matched. A
     * handshake call's error answer is passed to the connection (which closes), not to a caller.
     */

    /** Calls waiting for an answer at most; more fail at once (a Redis that stopped answering). */
    private static final int MAX_IN_FLIGHT = 65_536;
    private static final byte[] SCRIPT_HEAD = Resp.arrayHead(9);
    private static final byte[] EVALSHA = Resp.bulk("EVALSHA");
    private static final byte[] EVAL = Resp.bulk("EVAL");
    private static final byte[] ONE = Resp.bulk("1");

    /** What the connection hears of its handshake's answers. */
    interface HandshakeListener {
        /** A handshake command was answered: {@code error} is null when it succeeded. */
        void handshakeAnswered(Channel ch, String command, @Nullable String error);
    }

    private final EventLoop loop;
    private final StoreFailures failures;
    private final Duration timeout;
    private final ArrayDeque<RedisCall> inFlight = new ArrayDeque<>();

    RedisPipeline(EventLoop loop, StoreFailures failures, Duration timeout) {
        this.loop = loop;
        this.failures = failures;
        this.timeout = timeout;
    }

    /** Sends a token request on {@code ch}, bounded by the timeout; on the loop. */
    void send(Channel ch, RedisCall call) {
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            fail(call, "too many requests waiting for an answer");
            return;
        }
        call.timer = loop.schedule(() -> timedOut(call), timeout.toNanos(), TimeUnit.NANOSECONDS);
        writeScript(ch, call, false);
    }

    /** Sends a handshake command of {@code count} parts; its answer goes to the handshake listener. */
    void handshake(Channel ch, RedisCall call, int count, byte[] name, byte[] args) {
        inFlight.add(call);
        ByteBuf buf = ch.alloc().buffer();
        buf.writeBytes(Resp.arrayHead(count)).writeBytes(name).writeBytes(args);
        ch.writeAndFlush(buf, ch.voidPromise());
    }

    /** Fails every call still waiting (the connection is gone). */
    void failAll(String why) {
        RedisCall call;
        while ((call = inFlight.poll()) != null) {
            fail(call, why);
        }
    }

    /** Fails {@code call} now; counted and logged once, by the store, when this completes its answer. */
    void fail(RedisCall call, String why) {
        call.cancelTimer();
        if (call.handshake == null) {
            call.answer.completeExceptionally(failures.failure(why));
        }
    }

    private void writeScript(Channel ch, RedisCall call, boolean eval) {
        inFlight.add(call);
        byte[] script = eval ? RedisScript.SOURCE_BULK : RedisScript.SHA1_BULK;
        ByteBuf buf = ch.alloc().buffer(64 + call.key.length + call.args.length + script.length);
        buf.writeBytes(SCRIPT_HEAD);
        buf.writeBytes(eval ? EVAL : EVALSHA).writeBytes(script).writeBytes(ONE);
        buf.writeBytes(call.key).writeBytes(call.args);
        ch.writeAndFlush(buf, ch.voidPromise());
    }

    private void timedOut(RedisCall call) {
        if (!call.answer.isDone()) {
            call.answer.completeExceptionally(new TimeoutException(failures.failure(
                    "no answer within " + timeout.toMillis() + "ms").getMessage()));
        }
    }

    /** The handler at the end of the connection's pipeline: each answer to the oldest call waiting. */
    SimpleChannelInboundHandler<RedisMessage> replies(HandshakeListener listener) {
        return new SimpleChannelInboundHandler<>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, RedisMessage reply) {
                answered(ctx, reply, listener);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                failures.log("connection failed: " + cause.getMessage());
                ctx.close();
            }
        };
    }

    private void answered(ChannelHandlerContext ctx, RedisMessage reply, HandshakeListener listener) {
        RedisCall call = inFlight.poll();
        if (call == null) {
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
            return;
        }
        RateLimitResult result = result(reply);
        if (result == null) {
            fail(call, "unexpected answer " + reply);
            return;
        }
        call.cancelTimer();
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
