package dev.portcullis.server.reload;

import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.ReloadOutcome;
import dev.portcullis.core.runtime.Reloader;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.metrics.GatewayMetrics;
import dev.portcullis.server.proxy.Upstreams;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The reloading of a gateway started from a config file: its {@link Reloader} (which SIGHUP, {@code POST /reload}
 * and the watcher all go through), the {@link ConfigWatcher} that the live config's {@code watch:} turns on and
 * off, and what a reload changes besides the snapshot: the metrics and the upstream pools.
 *
 * <p>Implementation notes. Each applied reload re-reads {@code watch:}, so a reload can start or stop the watcher.
 * A reload still running while the gateway closes finishes inside {@link #close()}; {@code closed} is set first so
 * that a change the watcher sees meanwhile queues no other reload, and the watcher is stopped once more after that
 * reload, which may have checked {@code closed} just before it was set.
 */
public final class LiveReload implements AutoCloseable {
    private final Reloader reloader;
    private final ConfigWatcher watcher;
    private volatile boolean closed;

    /**
     * @param source the config file, read again on every reload
     * @param snapshots where the live generation is published; must hold one already
     * @param keys the scheduler of JWKS refreshes of new generations
     * @param metrics told of new configs and of each outcome
     * @param upstreams switched to a changed upstream
     */
    public LiveReload(Path source, SnapshotHolder snapshots, ScheduledExecutorService keys, GatewayMetrics metrics,
            Upstreams upstreams) {
        this.watcher = new ConfigWatcher(source, this::reloadFromWatch);
        this.reloader = new Reloader(source, snapshots, Clock.systemUTC(), keys,
                List.of(new ReloadEffects(metrics, upstreams)));
    }

    /** What a reload changes besides the snapshot; named, so that Reloader's warning names it if it throws. */
    private final class ReloadEffects implements Reloader.Listener {
        private final GatewayMetrics metrics;
        private final Upstreams upstreams;

        ReloadEffects(GatewayMetrics metrics, Upstreams upstreams) {
            this.metrics = metrics;
            this.upstreams = upstreams;
        }

        @Override
        public void preparing(GatewaySnapshot next) {
            // the new rules' meters exist before the first request of the new generation
            metrics.configLoaded(next);
        }

        @Override
        public void applied(GatewaySnapshot previous, GatewaySnapshot next, ReloadOutcome.Applied outcome) {
            upstreams.follow(next.config().upstream());
            watch(next);
            metrics.reloadSucceeded();
        }

        @Override
        public void rejected(ReloadOutcome.Rejected outcome) {
            metrics.reloadFailed();
        }
    }

    /** The reloader that every trigger goes through. */
    public Reloader reloader() {
        return reloader;
    }

    /**
     * Watches the file if {@code initial} says {@code watch: true}; called once the gateway serves. An edit made
     * while it was starting still counts as a change, since the watcher compares with {@code initial}'s version.
     */
    public void start(GatewaySnapshot initial) {
        watch(initial);
    }

    private void reloadFromWatch() {
        if (!closed) {
            reloader.reload("watch");
        }
    }

    /** Starts or stops watching the config file as {@code live}'s {@code watch} says. */
    private void watch(GatewaySnapshot live) {
        if (live.config().watch() && !closed) {
            watcher.start(live.config().version());
        } else {
            watcher.stop();
        }
    }

    /**
     * Stops watching, waits for a reload in progress (see {@link Reloader#close()}), then stops watching again: that
     * reload may have read {@code closed} before it was set and started the watcher after the first stop.
     */
    @Override
    public void close() {
        closed = true;
        watcher.stop();
        reloader.close();
        watcher.stop();
    }
}
