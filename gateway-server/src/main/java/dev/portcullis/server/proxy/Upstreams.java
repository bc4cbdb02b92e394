package dev.portcullis.server.proxy;

import dev.portcullis.core.config.UpstreamSettings;
import dev.portcullis.server.transport.Transport;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * The upstream connection pools of a server, following the live config: one pool per distinct
 * {@code upstream} section. When a reload changes it, new exchanges get a new pool and the old one is
 * retired (idle connections closed, busy ones closed when their exchange ends).
 *
 * <p>Implementation notes: the lookup on the request path compares the exchange's settings with the
 * current pool's by identity, then by value, and takes a lock only when a generation that is not the
 * current one asks (for the few exchanges still running on an older config after a reload).
 * {@code max_connections} bounds each pool; while an old pool drains, both pools together may hold more.
 */
public final class Upstreams implements AutoCloseable {
    private final Transport transport;
    private final Iterable<? extends EventLoop> loops;
    private volatile UpstreamPool current;
    private final List<UpstreamPool> retired = new ArrayList<>();

    public Upstreams(UpstreamSettings initial, Transport transport, Iterable<? extends EventLoop> loops) {
        this.transport = transport;
        this.loops = loops;
        this.current = new UpstreamPool(initial, transport, loops);
    }

    /** The pool for an exchange decided with {@code settings}. */
    UpstreamPool poolFor(UpstreamSettings settings) {
        UpstreamPool pool = current;
        if (pool.settings() == settings || pool.settings().equals(settings)) {
            return pool;
        }
        return older(settings);
    }

    private synchronized UpstreamPool older(UpstreamSettings settings) {
        for (UpstreamPool pool : retired) {
            if (pool.settings().equals(settings)) {
                return pool;
            }
        }
        // a generation between two reloads that no exchange took before: serve it from a retired pool of its own
        UpstreamPool pool = new UpstreamPool(settings, transport, loops);
        pool.retire();
        retired.add(pool);
        return pool;
    }

    /** A reload applied {@code settings}: new exchanges use a pool for them; the previous pool drains. */
    public synchronized void follow(UpstreamSettings settings) {
        UpstreamPool pool = current;
        if (pool.settings().equals(settings)) {
            return;
        }
        UpstreamPool next = null;
        for (UpstreamPool old : retired) {
            if (old.settings().equals(settings)) {
                next = old;
            }
        }
        if (next != null) {
            retired.remove(next);
            next.unretire();
        } else {
            next = new UpstreamPool(settings, transport, loops);
        }
        pool.retire();
        retired.add(pool);
        retired.removeIf(old -> old.openConnections() == 0 && old != pool && closeQuietly(old));
        current = next;
    }

    private static boolean closeQuietly(UpstreamPool pool) {
        pool.close();
        return true;
    }

    /** The pool new exchanges use. */
    public UpstreamPool current() {
        return current;
    }

    /** Releases every pool's resolver; call after the event loops have stopped. */
    @Override
    public synchronized void close() {
        current.close();
        for (UpstreamPool pool : retired) {
            pool.close();
        }
        retired.clear();
    }
}
