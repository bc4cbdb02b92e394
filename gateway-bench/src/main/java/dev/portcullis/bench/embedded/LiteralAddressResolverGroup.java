package dev.portcullis.bench.embedded;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.DefaultNameResolver;
import io.netty.resolver.InetSocketAddressResolver;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;

/**
 * Resolves upstream addresses for a pool whose event loop is embedded: Netty's {@link AddressResolverGroup} watches
 * each loop's termination, which an embedded loop does not support. Meant for IP literals (no lookup happens); a
 * host name would be looked up with a blocking {@code InetAddress} call.
 */
public final class LiteralAddressResolverGroup extends AddressResolverGroup<InetSocketAddress> {

    @Override
    public AddressResolver<InetSocketAddress> getResolver(EventExecutor executor) {
        return newResolver(executor);
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return new InetSocketAddressResolver(executor, new DefaultNameResolver(executor));
    }

    @Override
    public void close() {
        // no resolver is kept
    }
}
