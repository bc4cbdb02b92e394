package dev.portcullis.server.proxy;

import dev.portcullis.core.config.UpstreamSettings;
import dev.portcullis.server.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keep-alive connections to the upstream, kept per event loop so that a client connection and its
 * upstream connection share one thread, and bounded by {@code upstream.max_connections} over all
 * event loops together.
 *
 * <p>Implementation notes: idle connections live in a {@link FastThreadLocal} of the event loop that
 * owns them, so taking and returning needs no lock. Shared by all loops are the open-connection count
 * (an atomic), the waiters (a {@link ConcurrentLinkedQueue}) and the {@code retired} flag (volatile).
 * When the pool is full, an acquirer waits (up to {@code connect_timeout}) for a connection returned
 * on its own loop, or for a slot freed by a close on any loop. A pool depends only on the settings that
 * its connections do ({@link #serves}); the DNS resolver belongs to {@link Upstreams}.
 */
public final class UpstreamPool {
    /** How long a connection may idle in the pool before it is closed. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final UpstreamSettings settings;
    private final Transport transport;
    private final InetSocketAddress address;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean retired;
    private final Iterable<? extends EventLoop> loops;
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final FastThreadLocal<ArrayDeque<Channel>> idle = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<Channel> initialValue() {
            return new ArrayDeque<>();
        }
    };

    /** {@code resolver} resolves the upstream's name without blocking; its owner closes it. */
    UpstreamPool(UpstreamSettings settings, Transport transport, Iterable<? extends EventLoop> loops,
            AddressResolverGroup<InetSocketAddress> resolver) {
        this.settings = settings;
        this.loops = loops;
        this.transport = transport;
        this.address = InetSocketAddress.createUnresolved(settings.host(), settings.port());
        this.resolver = resolver;
    }

    /** The settings this pool was created for; of them, it uses only those {@link #serves} compares. */
    public UpstreamSettings settings() {
        return settings;
    }

    /**
     * True when this pool's connections suit an exchange decided with {@code other}: same scheme, host,
     * port, {@code connect_timeout} and {@code max_connections}. The rest ({@code response_timeout}, ...)
     * the exchange reads from its own generation. Allocation-free: it runs for every exchange.
     */
    boolean serves(UpstreamSettings other) {
        UpstreamSettings own = settings;
        return own == other
                || (own.port() == other.port()
                        && own.maxConnections() == other.maxConnections()
                        && own.host().equals(other.host())
                        && own.scheme().equals(other.scheme())
                        && own.connectTimeout().equals(other.connectTimeout()));
    }


    /** Lends a connection to the caller, which runs on {@code loop}; the promise fails when none can be had. */
    Promise<Channel> acquire(EventLoop loop) {
        Promise<Channel> promise = loop.newPromise();
        acquire(loop, promise);
        return promise;
    }

    private void acquire(EventLoop loop, Promise<Channel> promise) {
        ArrayDeque<Channel> free = idle.get();
        Channel channel;
        while ((channel = free.pollLast()) != null) {
            if (UpstreamHandler.isClean(channel)) {
                promise.trySuccess(channel);
                return;
            }
            // bytes arrived while it idled (lines of an unsolicited response): never lent again
            channel.close();
        }
        if (tryReserveSlot()) {
            connect(loop, promise);
            return;
        }
        Waiter waiter = new Waiter(loop, promise);
        waiter.timeout = loop.schedule(
                () -> {
                    if (waiters.remove(waiter)) {
                        promise.tryFailure(new UpstreamPoolExhaustedException(settings.maxConnections()));
                    }
                },
                settings.connectTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
        waiters.add(waiter);
        // The bound is global but idle connections belong to loops: ask the others to give one up,
        // which frees a slot for this waiter (slotFreed) instead of letting it time out.
        for (EventLoop other : loops) {
            if (other != loop) {
                other.execute(this::closeOneIdleForWaiters);
            }
        }
    }

    private void closeOneIdleForWaiters() {
        if (!waiters.isEmpty()) {
            Channel spare = idle.get().pollFirst();
            if (spare != null) {
                spare.close();
            }
        }
    }

    private boolean tryReserveSlot() {
        int current;
        do {
            current = open.get();
            if (current >= settings.maxConnections()) {
                return false;
            }
        } while (!open.compareAndSet(current, current + 1));
        return true;
    }

    private void connect(EventLoop loop, Promise<Channel> promise) {
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        settings.connectTimeout().toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        UpstreamResponseDecoder decoder = new UpstreamResponseDecoder(decoderConfig());
                        ch.pipeline()
                                .addLast("decoder", decoder)
                                .addLast("encoder", new UpstreamRequestEncoder())
                                .addLast("upstream", new UpstreamHandler(UpstreamPool.this, decoder, IDLE_NANOS));
                    }
                });
        transport.configureConnecting(bootstrap);
        bootstrap.resolver(resolver);
        ChannelFuture connecting = bootstrap.connect(address);
        Channel channel = connecting.channel();
        channel.closeFuture().addListener(closed -> {
            idle.get().remove(channel);
            slotFreed(channel);
        });
        connecting.addListener(done -> {
            if (done.isSuccess()) {
                if (!promise.trySuccess(channel)) {
                    release(channel, true);
                }
            } else {
                promise.tryFailure(done.cause());
            }
        });
    }

    private static HttpDecoderConfig decoderConfig() {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(64 * 1024)
                .setMaxChunkSize(64 * 1024)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true);
    }

    /**
     * Gives a connection back after an exchange. Its {@link UpstreamHandler} returns it to the pool it
     * came from ({@link #takeBack}) at once outside a read, but when released during a read only at the
     * end of that read, and then only if nothing more arrived (SPEC 3.7). A reusable one goes to a waiter
     * on the same loop or to the idle set; otherwise (or when its pool is retired) it is closed.
     */
    static void release(Channel channel, boolean reusable) {
        UpstreamHandler handler = channel.pipeline().get(UpstreamHandler.class);
        if (handler == null) {
            channel.close();
            return;
        }
        handler.release(reusable);
    }

    /** Takes {@code channel} back; only its {@link UpstreamHandler} calls this, once it knows the connection is clean. */
    void takeBack(Channel channel, boolean reusable) {
        if (!reusable || !channel.isActive() || retired) {
            channel.close();
            return;
        }
        channel.config().setAutoRead(true);
        EventLoop loop = channel.eventLoop();
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter waiter = it.next();
            if (waiter.loop == loop && waiters.remove(waiter)) {
                waiter.cancelTimeout();
                if (waiter.promise.trySuccess(channel)) {
                    return;
                }
            }
        }
        if (!waiters.isEmpty()) {
            // Someone on another loop waits: free the slot for them rather than park it here.
            channel.close();
            return;
        }
        idle.get().addLast(channel);
    }

    private void slotFreed(Channel channel) {
        open.decrementAndGet();
        Waiter waiter = waiters.poll();
        if (waiter != null) {
            waiter.cancelTimeout();
            waiter.loop.execute(() -> acquire(waiter.loop, waiter.promise));
        }
    }

    /**
     * A newer config points elsewhere: idle connections are closed now, busy ones when their exchange
     * ends (drained, not cut). The pool still serves exchanges of older generations.
     */
    void retire() {
        retired = true;
        for (EventLoop loop : loops) {
            loop.execute(() -> {
                Channel spare;
                while ((spare = idle.get().pollFirst()) != null) {
                    spare.close();
                }
            });
        }
    }

    /** A reload went back to this pool's settings: it serves new exchanges again. */
    void unretire() {
        retired = false;
    }

    /** Connections open or being opened. */
    int openConnections() {
        return open.get();
    }

    private static final class Waiter {
        final EventLoop loop;
        final Promise<Channel> promise;
        ScheduledFuture<?> timeout;

        Waiter(EventLoop loop, Promise<Channel> promise) {
            this.loop = loop;
            this.promise = promise;
        }

        void cancelTimeout() {
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
    }
}
