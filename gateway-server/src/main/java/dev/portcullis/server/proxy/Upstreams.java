package dev.portcullis.server.proxy;

import dev.portcullis.core.config.UpstreamSettings;
import dev.portcullis.server.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The upstream connection pools of a server, following the live config: one pool per distinct
 * connection target (scheme, host, port, {@code connect_timeout}, {@code max_connections}). When a
 * reload changes the target, new exchanges get a new pool and the old one is retired (idle connections
 * closed, busy ones closed when their exchange ends); a reload that changes only what an exchange reads
 * from its own generation ({@code response_timeout}, {@code case_insensitive_paths}) keeps the pool.
 *
 * <p>Implementation notes: the lookup on the request path compares the exchange's settings with the
 * current pool's by identity, then field by field, and takes a lock only when a generation with another
 * target asks (for the few exchanges still running on an older config after a reload).
 * {@code max_connections} bounds each pool; while an old pool drains, both pools together may hold more.
 * All pools share one DNS resolver group, which lives as long as this object: a resolver may only be
 * closed once the event loops that use it have stopped.
 */
public final class Upstreams implements AutoCloseable {
    private final Transport transport;
    private final Iterable<? extends EventLoop> loops;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private volatile UpstreamPool current;
    private final List<UpstreamPool> retired = new ArrayList<>();

    public Upstreams(UpstreamSettings initial, Transport transport, Iterable<? extends EventLoop> loops) {
        // Names are resolved by Netty's asynchronous DNS resolver (hosts file first), never by a
        // blocking InetAddress lookup on an event loop; literal addresses need no lookup at all.
        this(initial, transport, loops, new DnsAddressResolverGroup(
                new DnsNameResolverBuilder().datagramChannelType(transport.datagramChannelClass())));
    }

    /**
     * As the other constructor, with {@code resolver} resolving upstream names (which this object closes): for
     * benchmarks that run the pool on embedded event loops, where the DNS resolver cannot run.
     */
    public Upstreams(UpstreamSettings initial, Transport transport, Iterable<? extends EventLoop> loops,
            AddressResolverGroup<InetSocketAddress> resolver) {
        this.transport = transport;
        this.loops = loops;
        this.resolver = resolver;
        this.current = newPool(initial);
    }

    private UpstreamPool newPool(UpstreamSettings settings) {
        return new UpstreamPool(settings, transport, loops, resolver);
    }

    /** The pool for an exchange decided with {@code settings}. */
    UpstreamPool poolFor(UpstreamSettings settings) {
        UpstreamPool pool = current;
        if (pool.serves(settings)) {
            return pool;
        }
        return older(settings);
    }

    private synchronized UpstreamPool older(UpstreamSettings settings) {
        for (UpstreamPool pool : retired) {
            if (pool.serves(settings)) {
                return pool;
            }
        }
        // a generation between two reloads that no exchange took before: serve it from a retired pool of its own
        UpstreamPool pool = newPool(settings);
        pool.retire();
        retired.add(pool);
        return pool;
    }

    /** A reload applied {@code settings}: new exchanges use a pool for them; the previous pool drains. */
    public synchronized void follow(UpstreamSettings settings) {
        UpstreamPool pool = current;
        if (pool.serves(settings)) {
            return;
        }
        UpstreamPool next = null;
        for (UpstreamPool old : retired) {
            if (old.serves(settings)) {
                next = old;
            }
        }
        if (next != null) {
            retired.remove(next);
            next.unretire();
        } else {
            next = newPool(settings);
        }
        pool.retire();
        retired.add(pool);
        // a drained pool holds nothing but its idle list; the shared resolver stays open
        retired.removeIf(old -> old.openConnections() == 0 && old != pool);
        current = next;
    }

    /** Upstream connections open or being opened, in every pool (the current one and those draining). */
    public synchronized int openConnections() {
        int open = current.openConnections();
        for (UpstreamPool pool : retired) {
            open += pool.openConnections();
        }
        return open;
    }

    /** The pool new exchanges use. */
    public UpstreamPool current() {
        return current;
    }

    /** Releases the shared DNS resolver; call after the event loops have stopped. */
    @Override
    public synchronized void close() {
        retired.clear();
        resolver.close();
    }
}
