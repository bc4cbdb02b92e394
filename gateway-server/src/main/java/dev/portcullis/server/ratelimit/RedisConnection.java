package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.server.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's one connection to Redis: connects (TLS for {@code rediss://}, verifying the certificate and host name
 * against the JVM's default trust store), sends AUTH and SELECT and loads the script, drops a connection that stopped
 * answering, and reconnects with backoff when it is lost.
 *
 * <p>The client is Netty's {@code codec-redis}, not Lettuce. Checked for lettuce-core 7.7.0.RELEASE: its POM
 * declares Netty 4.2.13.Final (netty-common, netty-handler, netty-transport, netty-resolver-dns; the native
 * transports optional), which our netty-bom aligns to 4.2.18.Final ({@code mvn dependency:tree}), so it pulls no
 * second Netty, and a PING and an EVAL through it worked on 4.2.18 against redis-server 7.0. It would still add
 * reactor-core 3.6.6 (with reactive-streams 1.0.4) and redis-authx-core 0.1.1-beta2, and, with its default
 * resources, event-loop and timer threads of its own, for a store that sends five commands (AUTH, SELECT, SCRIPT
 * LOAD, EVALSHA, EVAL). {@code codec-redis} is part of the netty-all the server already depends on, and runs on
 * the store's event loop.
 */
final class RedisConnection implements RedisPipeline.Listener {

    /*
     * Implementation notes: confined to the store's loop (but close()). The connection counts as up
     * once its TLS handshake, AUTH, SELECT and SCRIPT LOAD succeeded; token requests may be
     * pipelined behind the handshake before that. A failed handshake command closes the connection
     * (the calls behind it get errors). Connecting waits at most 10 x timeout (100 ms to 2 s); calls
     * made meanwhile fail at once, so a hanging connect never holds a request.
     *
     * Stalled: a connection whose oldest call (handshake command or token request) has waited
     * stallNanos, max(1 s, 3 x timeout), is dropped as if it were lost: a frozen Redis, a
     * partition without a reset, a handshake never answered. Every call has had its answer at its
     * own timeout by then; dropping fails what is still queued, and the pipeline is detached from
     * the channel first, so no late answer can ever be matched to a newer call. A watch every
     * stallNanos / 4 checks it (one timer per connection, none per call); TLS handshakes get the
     * same bound, and TCP keepalive is on for what the watch cannot see (an idle dead peer).
     *
     * Backoff: from 100 ms doubling to 2 s, reset only when a connection proved healthy (answered a
     * token request normally, or stayed up 2 s), so a store that accepts and then fails every
     * connection (closes it mid-answer, refuses AUTH) is retried every 2 s, not in a loop. For the
     * same reason, once a connection was lost young, the next ones are logged "connected" at DEBUG,
     * until one answers (logged at INFO): a flapping store logs its failures, once a second.
     */

    private static final Logger LOG = LoggerFactory.getLogger(RedisBucketStore.class);
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2_000;
    private static final long HEALTHY_UPTIME_NANOS = TimeUnit.MILLISECONDS.toNanos(MAX_BACKOFF_MILLIS);
    private static final long MIN_STALL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int STALL_TIMEOUTS = 3;
    private static final byte[] SCRIPT_LOAD = Resp.concat(Resp.bulk("SCRIPT"), Resp.bulk("LOAD"));
    /** The script, hashed when a store is opened (off the loop), not at its first handshake. */
    private static final byte[] SCRIPT_SOURCE = RedisScript.SOURCE_BULK;

    private final SharedStoreSettings settings;
    private final EventLoop loop;
    private final RedisPipeline pipeline;
    private final StoreFailures failures;
    private final @Nullable String password;
    private final long stallNanos;
    private final Bootstrap bootstrap;
    private @Nullable Channel channel;
    /** The handshake (AUTH, SELECT, SCRIPT LOAD) went out on {@link #channel}: calls may follow it. */
    private boolean handshakeSent;
    private @Nullable ScheduledFuture<?> watch;
    private int handshakePending;
    /** When the connection came up (loop ticker), or -1 while it is not up. */
    private long upSinceNanos = -1;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    /** Connections that came up and were lost before they proved healthy, since the last healthy one. */
    private int youngDrops;
    private volatile boolean closed;

    RedisConnection(SharedStoreSettings settings, EventLoop loop, Transport transport,
            AddressResolverGroup<InetSocketAddress> resolver, RedisPipeline pipeline, StoreFailures failures,
            @Nullable String password) throws SSLException {
        this.settings = settings;
        this.loop = loop;
        this.pipeline = pipeline;
        this.failures = failures;
        this.password = password;
        this.stallNanos = stallNanos(settings);
        @Nullable SslContext ssl = settings.tls()
                ? SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS").build()
                : null;
        this.bootstrap = new Bootstrap()
                .group(loop)
                .resolver(resolver)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(MIN_BACKOFF_MILLIS,
                        Math.min(MAX_BACKOFF_MILLIS, settings.timeout().toMillis() * 10)))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            SslHandler tls = ssl.newHandler(ch.alloc(), settings.host(), settings.port());
                            tls.setHandshakeTimeout(stallNanos, TimeUnit.NANOSECONDS);
                            ch.pipeline().addLast(tls);
                        }
                        ReplyBound.addDecoders(ch.pipeline(), pipeline.replies(RedisConnection.this));
                    }
                });
    }

    /** How long the oldest call may wait before the connection counts as stalled: max(1 s, 3 x timeout). */
    static long stallNanos(SharedStoreSettings settings) {
        long timeout = settings.timeout().toNanos();
        return Math.max(MIN_STALL_NANOS, timeout > Long.MAX_VALUE / STALL_TIMEOUTS ? Long.MAX_VALUE
                : timeout * STALL_TIMEOUTS);
    }

    /** The connection to send on, or null while there is none. */
    @Nullable Channel active() {
        Channel ch = channel;
        // with TLS the handshake goes out once TLS is up: a call written before would reach Redis ahead of AUTH
        return closed || ch == null || !handshakeSent || !ch.isActive() ? null : ch;
    }

    boolean isClosed() {
        return closed;
    }

    /** Starts connecting; on the loop. */
    void connect() {
        if (closed) {
            return;
        }
        ChannelFuture connecting = bootstrap.connect(settings.host(), settings.port());
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                failures.log("cannot connect: " + f.cause().getMessage());
                reconnectLater();
                return;
            }
            Channel ch = connecting.channel();
            if (closed) {
                ch.close();
                return;
            }
            opened(ch);
        });
    }

    private void opened(Channel ch) {
        channel = ch;
        handshakeSent = false;
        pipeline.attach(ch);
        ch.closeFuture().addListener(c -> drop(ch, "connection lost"));
        long period = Math.max(1, stallNanos / 4);
        watch = loop.scheduleAtFixedRate(() -> checkStalled(ch), period, period, TimeUnit.NANOSECONDS);
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls == null) {
            handshake(ch);
        } else {
            tls.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    handshake(ch);
                }
            });
        }
    }

    private void handshake(Channel ch) {
        if (!ch.isActive() || ch != channel) {
            return;
        }
        String user = settings.username();
        handshakePending = 0;
        if (password != null) {
            byte[] args = user == null
                    ? Resp.bulk(password)
                    : Resp.concat(Resp.bulk(user), Resp.bulk(password));
            pipeline.handshake(ch, RedisCall.handshake("AUTH"), user == null ? 2 : 3, Resp.bulk("AUTH"), args);
            handshakePending++;
        }
        if (settings.database() != 0) {
            pipeline.handshake(ch, RedisCall.handshake("SELECT"), 2, Resp.bulk("SELECT"),
                    Resp.bulk(Integer.toString(settings.database())));
            handshakePending++;
        }
        // the bucket script is loaded once per connection, so that calls go out as EVALSHA from the first one
        // (after a SCRIPT FLUSH or a failover the pipeline resends a call as EVAL on NOSCRIPT, which loads it
        // again); it also proves the connection usable: a server that wants a password answers NOAUTH, not up
        pipeline.handshake(ch, RedisCall.handshake("SCRIPT LOAD"), 3, SCRIPT_LOAD, SCRIPT_SOURCE);
        handshakePending++;
        handshakeSent = true;
    }

    @Override
    public void handshakeAnswered(Channel ch, String command, @Nullable String error) {
        if (error != null) {
            failures.log(command + " failed: " + error);
            ch.close();
        } else if (--handshakePending == 0 && ch == channel) {
            upSinceNanos = loop.ticker().nanoTime();
            failures.up(true);
            if (youngDrops == 0) {
                LOG.info("rate_limit_store {} connected", settings.address());
            } else {
                LOG.debug("rate_limit_store {} connected ({} connections lost young before it)", settings.address(),
                        youngDrops);
            }
        }
    }

    @Override
    public void answering(Channel ch) {
        if (youngDrops > 0) {
            LOG.info("rate_limit_store {} connected and answering ({} connections lost young before it)",
                    settings.address(), youngDrops);
        }
        healthy();
    }

    @Override
    public void demoted(Channel ch, String error) {
        failures.log("the node is read-only (" + error + "): reconnecting, to find the primary");
        drop(ch, "the node is read-only");
    }

    private void checkStalled(Channel ch) {
        long oldest = pipeline.oldestSentNanos();
        if (ch == channel && oldest >= 0 && loop.ticker().nanoTime() - oldest >= stallNanos) {
            failures.log("no answer for " + TimeUnit.NANOSECONDS.toMillis(stallNanos) + "ms with "
                    + pipeline.outstanding() + " requests waiting: dropping the connection");
            drop(ch, "connection dropped: no answer");
        }
    }

    /** The connection {@code ch} is gone or given up: calls on it fail, and a new one follows the backoff. */
    private void drop(Channel ch, String why) {
        if (channel != ch) {
            return;
        }
        channel = null;
        ScheduledFuture<?> w = watch;
        watch = null;
        if (w != null) {
            w.cancel(false);
        }
        if (upSinceNanos >= 0 && loop.ticker().nanoTime() - upSinceNanos >= HEALTHY_UPTIME_NANOS) {
            healthy();
        } else if (upSinceNanos >= 0 && !pipeline.isAnswering()) {
            youngDrops++;
        }
        upSinceNanos = -1;
        failures.up(false);
        pipeline.detach(why);
        ch.close();
        reconnectLater();
    }

    private void healthy() {
        youngDrops = 0;
        backoffMillis = MIN_BACKOFF_MILLIS;
    }

    private void reconnectLater() {
        if (closed) {
            return;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /** Closes the connection for good; the calls still waiting fail. Any thread. */
    void close() {
        closed = true;
        loop.execute(() -> {
            Channel ch = channel;
            if (ch != null) {
                drop(ch, "store closed"); // detaches the pipeline and reports the store down; no reconnect follows
            } else {
                pipeline.detach("store closed");
                failures.up(false);
            }
        });
    }
}
