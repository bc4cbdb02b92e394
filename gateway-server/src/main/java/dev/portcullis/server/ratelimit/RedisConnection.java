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
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's one connection to Redis: connects (TLS for {@code rediss://}, verifying the certificate and host name
 * against the JVM's default trust store), sends AUTH and SELECT (or PING), and reconnects with backoff when it is
 * lost.
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
final class RedisConnection implements RedisPipeline.HandshakeListener {

    /*
     * Implementation notes: confined to the store's loop (but close()). The connection counts as up
     * once its TLS handshake, AUTH and SELECT (without them, a PING) succeeded; token requests may be
     * pipelined behind the handshake before that. A failed handshake command closes the connection
     * (the calls behind it get errors), and the next attempt follows the backoff: from 100 ms
     * doubling to 2 s, reset only by a connection that came up. Connecting waits at most 10 x
     * timeout (100 ms to 2 s); calls made meanwhile fail at once, so a hanging connect never holds
     * a request.
     */

    private static final Logger LOG = LoggerFactory.getLogger(RedisBucketStore.class);
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2_000;
    private static final byte[] SCRIPT_LOAD = Resp.concat(Resp.bulk("SCRIPT"), Resp.bulk("LOAD"));

    private final SharedStoreSettings settings;
    private final EventLoop loop;
    private final RedisPipeline pipeline;
    private final StoreFailures failures;
    private final @Nullable String password;
    private final Bootstrap bootstrap;
    private @Nullable Channel channel;
    private int handshakePending;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private volatile boolean closed;

    RedisConnection(SharedStoreSettings settings, EventLoop loop, Transport transport,
            AddressResolverGroup<InetSocketAddress> resolver, RedisPipeline pipeline, StoreFailures failures,
            @Nullable String password) throws SSLException {
        this.settings = settings;
        this.loop = loop;
        this.pipeline = pipeline;
        this.failures = failures;
        this.password = password;
        @Nullable SslContext ssl = settings.tls()
                ? SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS").build()
                : null;
        this.bootstrap = new Bootstrap()
                .group(loop)
                .resolver(resolver)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(MIN_BACKOFF_MILLIS,
                        Math.min(MAX_BACKOFF_MILLIS, settings.timeout().toMillis() * 10)))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), settings.host(), settings.port()));
                        }
                        ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(), pipeline.replies(RedisConnection.this));
                    }
                });
    }

    /** The connection to send on, or null while there is none. */
    @Nullable Channel active() {
        Channel ch = channel;
        return closed || ch == null || !ch.isActive() ? null : ch;
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
            channel = ch;
            ch.closeFuture().addListener(c -> disconnected(ch));
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
        });
    }

    private void handshake(Channel ch) {
        if (!ch.isActive()) {
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
        pipeline.handshake(ch, RedisCall.handshake("SCRIPT LOAD"), 3, SCRIPT_LOAD, RedisScript.SOURCE_BULK);
        handshakePending++;
    }

    @Override
    public void handshakeAnswered(Channel ch, String command, @Nullable String error) {
        if (error != null) {
            failures.log(command + " failed: " + error);
            ch.close();
        } else if (--handshakePending == 0 && ch == channel) {
            connected();
        }
    }

    private void connected() {
        backoffMillis = MIN_BACKOFF_MILLIS;
        failures.up(true);
        LOG.info("rate_limit_store {} connected", settings.address());
    }

    private void disconnected(Channel ch) {
        if (channel != ch) {
            return;
        }
        channel = null;
        failures.up(false);
        pipeline.failAll("connection lost");
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

    /** Closes the connection for good; the calls still waiting fail. Any thread. */
    void close() {
        closed = true;
        loop.execute(() -> {
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
            pipeline.failAll("store closed");
            failures.up(false);
        });
    }
}
