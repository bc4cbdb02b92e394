package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.BucketRate;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.SharedBucketStore;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import dev.portcullis.server.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared bucket store on Redis: one pipelined connection per store, on one event loop, that runs the bucket
 * script with {@code EVALSHA} (falling back to {@code EVAL} when Redis answers {@code NOSCRIPT}), reconnects with
 * backoff, and completes every answer within the store's {@code timeout}.
 */
final class RedisBucketStore implements SharedBucketStore {

    /*
     * Implementation notes: everything but take() runs on the store's event loop. Requests are
     * written in order and Redis answers in order, so the calls waiting for an answer are a FIFO
     * queue. A call that times out is completed at once (its timer runs on the same loop) but
     * stays in the queue until its answer arrives, to keep the FIFO matched. The connection
     * starts with AUTH and SELECT in the same pipeline (a failed AUTH fails the calls behind it,
     * whose NOAUTH answers are errors). While the connection is down every call fails at once,
     * and a reconnect is tried with a backoff from 100 ms doubling to 2 s. Failures are counted
     * (RateLimitStoreMetrics) and logged at most once per second.
     */

    private static final Logger LOG = LoggerFactory.getLogger(RedisBucketStore.class);
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2_000;
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Calls waiting for an answer at most; more fail at once (a Redis that stopped answering). */
    private static final int MAX_IN_FLIGHT = 65_536;
    private static final byte[] EVALSHA = bulk("EVALSHA");
    private static final byte[] EVAL = bulk("EVAL");
    private static final byte[] SHA = bulk(RedisScript.SHA1);
    private static final byte[] SOURCE = bulk(RedisScript.SOURCE);
    private static final byte[] ONE = bulk("1");

    private final SharedStoreSettings settings;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final @Nullable SslContext ssl;
    private final @Nullable String password;
    private final RateLimitStoreMetrics metrics;
    private final long timeoutNanos;
    /** The script arguments of each limiter's rate (its ttl follows from the rate), encoded once. */
    private final ConcurrentHashMap<BucketRate, byte[]> argsByRate = new ConcurrentHashMap<>();

    // confined to the loop
    private final ArrayDeque<Call> inFlight = new ArrayDeque<>();
    private @Nullable Channel channel;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private int unlogged;
    private boolean up;
    private volatile boolean closed;

    /** One request for a token: what to send again after NOSCRIPT, and whom to tell. */
    private static final class Call {
        final CompletableFuture<RateLimitResult> answer = new CompletableFuture<>();
        final byte[] key;
        final byte[] args;
        final long startNanos;
        @Nullable ScheduledFuture<?> timer;
        /** AUTH or SELECT of the handshake: its answer is checked, not passed on. */
        final @Nullable String handshake;

        Call(byte[] key, byte[] args, long startNanos, @Nullable String handshake) {
            this.key = key;
            this.args = args;
            this.startNanos = startNanos;
            this.handshake = handshake;
        }
    }

    RedisBucketStore(SharedStoreSettings settings, EventLoop loop, Transport transport, RateLimitStoreMetrics metrics)
            throws SSLException {
        this.settings = settings;
        this.loop = loop;
        this.metrics = metrics;
        this.timeoutNanos = settings.timeout().toNanos();
        this.password = settings.passwordEnv() == null ? null : System.getenv(settings.passwordEnv());
        if (settings.passwordEnv() != null && password == null) {
            LOG.warn("rate_limit_store {}: environment variable {} is not set; connecting without a password",
                    settings.address(), settings.passwordEnv());
        }
        this.ssl = settings.tls() ? SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS").build()
                : null;
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(100,
                        Math.min(MAX_BACKOFF_MILLIS, settings.timeout().toMillis() * 10)))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), settings.host(), settings.port()));
                        }
                        ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(), new Replies());
                    }
                });
        loop.execute(this::connect);
    }

    @Override
    public CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttlMillis) {
        byte[] args = argsByRate.get(rate);
        if (args == null) {
            args = argsByRate.computeIfAbsent(rate, r -> args(r, ttlMillis));
        }
        Call call = new Call(bulk(key), args, System.nanoTime(), null);
        if (loop.inEventLoop()) {
            send(call);
        } else {
            loop.execute(() -> send(call));
        }
        return call.answer;
    }

    private void send(Call call) {
        Channel ch = channel;
        if (closed || ch == null || !ch.isActive()) {
            fail(call, closed ? "store closed" : "not connected");
            return;
        }
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            fail(call, "too many requests waiting for an answer");
            return;
        }
        call.timer = loop.schedule(() -> timeout(call), timeoutNanos, TimeUnit.NANOSECONDS);
        write(ch, call, false);
    }

    private void write(Channel ch, Call call, boolean eval) {
        inFlight.add(call);
        ByteBuf buf = ch.alloc().buffer(64 + call.key.length + call.args.length + (eval ? SOURCE.length : 0));
        buf.writeBytes("*9\r\n".getBytes(StandardCharsets.US_ASCII));
        buf.writeBytes(eval ? EVAL : EVALSHA).writeBytes(eval ? SOURCE : SHA).writeBytes(ONE);
        buf.writeBytes(call.key).writeBytes(call.args);
        ch.writeAndFlush(buf, ch.voidPromise());
    }

    private void timeout(Call call) {
        if (!call.answer.isDone()) {
            fail(call, "no answer within " + settings.timeout().toMillis() + "ms",
                    new TimeoutException("rate_limit_store " + settings.address() + ": no answer within timeout"));
        }
    }

    private void fail(Call call, String why) {
        fail(call, why, new IllegalStateException("rate_limit_store " + settings.address() + ": " + why));
    }

    private void fail(Call call, String why, Exception cause) {
        if (call.timer != null) {
            call.timer.cancel(false);
        }
        if (call.handshake == null && call.answer.completeExceptionally(cause)) {
            metrics.error();
            logFailure(why);
        }
    }

    private void logFailure(String why) {
        long now = System.nanoTime();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            LOG.warn("rate_limit_store {}: {} ({} more failures in the last second); on_error {} decides",
                    settings.address(), why, unlogged, settings.onError().code());
            lastLogNanos = now;
            unlogged = 0;
        } else {
            unlogged++;
        }
    }

    private void connect() {
        if (closed) {
            return;
        }
        ChannelFuture connecting = bootstrap.connect(settings.host(), settings.port());
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                logFailure("cannot connect: " + f.cause().getMessage());
                reconnectLater();
                return;
            }
            Channel ch = connecting.channel();
            if (closed) {
                ch.close();
                return;
            }
            channel = ch;
            handshake(ch);
            ch.closeFuture().addListener(c -> disconnected(ch));
        });
    }

    private void handshake(Channel ch) {
        String user = settings.username();
        if (password != null) {
            byte[] args = user == null
                    ? concat(bulk(password))
                    : concat(bulk(user), bulk(password));
            command(ch, new Call(new byte[0], new byte[0], System.nanoTime(), "AUTH"),
                    user == null ? 2 : 3, bulk("AUTH"), args);
        }
        if (settings.database() != 0) {
            command(ch, new Call(new byte[0], new byte[0], System.nanoTime(), "SELECT"), 2, bulk("SELECT"),
                    bulk(Integer.toString(settings.database())));
        }
        backoffMillis = MIN_BACKOFF_MILLIS;
        markUp(true);
        LOG.info("rate_limit_store {} connected", settings.address());
    }

    private void command(Channel ch, Call call, int count, byte[] name, byte[] args) {
        inFlight.add(call);
        ByteBuf buf = ch.alloc().buffer();
        buf.writeBytes(("*" + count + "\r\n").getBytes(StandardCharsets.US_ASCII)).writeBytes(name).writeBytes(args);
        ch.writeAndFlush(buf, ch.voidPromise());
    }

    private void disconnected(Channel ch) {
        if (channel != ch) {
            return;
        }
        channel = null;
        markUp(false);
        Call call;
        while ((call = inFlight.poll()) != null) {
            fail(call, "connection lost");
        }
        reconnectLater();
    }

    private void reconnectLater() {
        if (closed) {
            return;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /** Matches each answer to the oldest call waiting. */
    private final class Replies extends SimpleChannelInboundHandler<RedisMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage reply) {
            Call call = inFlight.poll();
            if (call == null) {
                ctx.close();
                return;
            }
            if (call.handshake != null) {
                if (reply instanceof ErrorRedisMessage error) {
                    LOG.warn("rate_limit_store {}: {} failed: {}", settings.address(), call.handshake,
                            error.content());
                }
                return;
            }
            if (reply instanceof ErrorRedisMessage error) {
                if (error.content().startsWith("NOSCRIPT") && !call.answer.isDone()) {
                    write(ctx.channel(), call, true);
                    return;
                }
                fail(call, "error answer: " + error.content());
                return;
            }
            RateLimitResult result = result(reply);
            if (result == null) {
                fail(call, "unexpected answer " + reply);
                return;
            }
            if (call.timer != null) {
                call.timer.cancel(false);
            }
            if (call.answer.complete(result)) {
                metrics.answered(System.nanoTime() - call.startNanos);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            logFailure("connection failed: " + cause.getMessage());
            ctx.close();
        }
    }

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

    @Override
    public void close() {
        closed = true;
        loop.execute(() -> {
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
            Call call;
            while ((call = inFlight.poll()) != null) {
                fail(call, "store closed");
            }
            markUp(false);
        });
    }

    private void markUp(boolean isUp) {
        if (up != isUp) {
            up = isUp;
            metrics.up(isUp);
        }
    }

    /** The five script arguments after the key: unit (us), refill, cost, capacity, ttl (ms). */
    private static byte[] args(BucketRate rate, long ttlMillis) {
        return concat(bulk(Long.toString(rate.unitNanos() / 1_000)), bulk(Long.toString(rate.refill())),
                bulk(Long.toString(rate.cost())), bulk(Long.toString(rate.capacity())),
                bulk(Long.toString(ttlMillis)));
    }

    /** {@code text} as a RESP bulk string. */
    private static byte[] bulk(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + bytes.length + 2];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(bytes, 0, out, head.length, bytes.length);
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    @Override
    public String toString() {
        return "RedisBucketStore[" + settings.address() + "]";
    }
}
