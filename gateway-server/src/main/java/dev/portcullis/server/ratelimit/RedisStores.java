package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.SharedBucketStore;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import dev.portcullis.server.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * Opens the Redis rate limit stores of a gateway process, all on one event-loop thread of their own (started with the
 * first store), and reports them into one set of meters. Their host names are resolved by Netty's asynchronous DNS
 * resolver (hosts file first), never by a blocking lookup on that thread.
 */
public final class RedisStores implements SharedBucketStore.Factory, AutoCloseable {
    private final Transport transport;
    private final RateLimitStoreMetrics metrics = new RateLimitStoreMetrics();
    private @Nullable EventLoopGroup group;
    private @Nullable AddressResolverGroup<InetSocketAddress> resolver;
    private boolean closed;

    public RedisStores(Transport transport) {
        this.transport = transport;
    }

    /** The meters every store of this process reports into. */
    public RateLimitStoreMetrics metrics() {
        return metrics;
    }

    @Override
    public synchronized SharedBucketStore open(SharedStoreSettings settings) {
        if (closed) {
            throw new IllegalStateException("the gateway is shutting down");
        }
        EventLoopGroup loops = group;
        AddressResolverGroup<InetSocketAddress> names = resolver;
        if (loops == null || names == null) {
            loops = transport.newGroup(1);
            group = loops;
            names = new DnsAddressResolverGroup(
                    new DnsNameResolverBuilder().datagramChannelType(transport.datagramChannelClass()));
            resolver = names;
        }
        try {
            return new RedisBucketStore(settings, (EventLoop) loops.next(), transport, names, metrics);
        } catch (SSLException e) {
            throw new IllegalStateException("rate_limit_store " + settings.address() + ": cannot set up TLS: "
                    + e.getMessage(), e);
        }
    }

    /** Stops the stores' event loop; close the stores (their generations) first. */
    @Override
    public synchronized void close() {
        closed = true;
        EventLoopGroup loops = group;
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
        AddressResolverGroup<InetSocketAddress> names = resolver;
        if (names != null) {
            names.close();
        }
    }
}
