package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.BucketRate;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.SharedBucketStore;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import dev.portcullis.server.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
     * Implementation notes: take() may run on any thread; the rest runs on the store's event loop.
     * RedisConnection owns the connection and its lifecycle, RedisPipeline the calls waiting for
     * an answer (and their timeout), StoreFailures the meters and the rate-limited log. While the
     * connection is down every call fails at once. Every answer that completes exceptionally (a
     * failure, the timeout, or the waiting request's own timer) is counted and logged exactly once,
     * where it completes; one the waiting request cancelled (its client went away) is neither.
     */

    private static final Logger LOG = LoggerFactory.getLogger(RedisBucketStore.class);

    private final SharedStoreSettings settings;
    private final EventLoop loop;
    private final StoreFailures failures;
    private final RedisPipeline pipeline;
    private final RedisConnection connection;
    /** The script arguments of each limiter's rate (its ttl follows from the rate), encoded once. */
    private final ConcurrentHashMap<BucketRate, byte[]> argsByRate = new ConcurrentHashMap<>();

    RedisBucketStore(SharedStoreSettings settings, EventLoop loop, Transport transport,
            AddressResolverGroup<InetSocketAddress> resolver, RateLimitStoreMetrics metrics) throws SSLException {
        this.settings = settings;
        this.loop = loop;
        this.failures = new StoreFailures(settings, metrics, System::nanoTime,
                (task, delayNanos) -> loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS));
        this.pipeline = new RedisPipeline(loop, failures, settings.timeout());
        this.connection = new RedisConnection(settings, loop, transport, resolver, pipeline, failures,
                password(settings));
        loop.execute(connection::connect);
    }

    private static @Nullable String password(SharedStoreSettings settings) {
        String env = settings.passwordEnv();
        if (env == null) {
            return null;
        }
        String password = System.getenv(env);
        if (password == null) {
            LOG.warn("rate_limit_store {}: environment variable {} is not set; connecting without a password",
                    settings.address(), env);
        }
        return password;
    }

    @Override
    public CompletableFuture<RateLimitResult> take(String key, BucketRate rate, long ttlMillis) {
        byte[] args = argsByRate.get(rate);
        if (args == null) {
            args = argsByRate.computeIfAbsent(rate, r -> args(r, ttlMillis));
        }
        RedisCall call = RedisCall.take(Resp.bulk(key), args);
        call.answer.whenComplete((result, error) -> {
            // cancelled: the request stopped waiting (its client went away), on_error decided nothing
            if (error != null && !(error instanceof CancellationException)) {
                failures.answerFailed(error);
            }
        });
        if (loop.inEventLoop()) {
            send(call);
        } else {
            loop.execute(() -> send(call));
        }
        return call.answer;
    }

    private void send(RedisCall call) {
        Channel ch = connection.active();
        if (ch == null) {
            pipeline.fail(call, connection.isClosed() ? "store closed" : "not connected");
            return;
        }
        pipeline.send(ch, call);
    }

    @Override
    public void close() {
        connection.close();
    }

    /** The five script arguments after the key: unit (us), refill, cost, capacity, ttl (ms). */
    private static byte[] args(BucketRate rate, long ttlMillis) {
        return Resp.concat(Resp.bulk(Long.toString(rate.unitNanos() / 1_000)), Resp.bulk(Long.toString(rate.refill())),
                Resp.bulk(Long.toString(rate.cost())), Resp.bulk(Long.toString(rate.capacity())),
                Resp.bulk(Long.toString(ttlMillis)));
    }

    @Override
    public String toString() {
        return "RedisBucketStore[" + settings.address() + "]";
    }
}
