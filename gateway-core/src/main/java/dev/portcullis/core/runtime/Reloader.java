package dev.portcullis.core.runtime;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.config.ConfigResourceException;
import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.config.HostPort;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file into a new {@link GatewaySnapshot} (SPEC 3.8): read, parse, validate, compile,
 * load key material, then swap atomically; an invalid file is rejected and the old generation keeps serving.
 *
 * <p>Implementation notes. All work runs on one dedicated thread, never an event loop, so reloads are
 * serialized. They are also coalesced: a request made while another is still queued joins it, and one
 * made while a reload runs queues exactly one more, which reads the file as it is then. A burst of
 * triggers therefore costs at most two reloads and ends on the newest file. A replaced generation is
 * {@linkplain GatewaySnapshot#retire() retired}: closed once no request uses it.
 *
 * <p>{@code listen} and {@code admin.listen} are only bound at start, so a reload warns whenever the new file's
 * addresses differ from those of the generation the reloader started with (the addresses serving), not from the
 * previous file's: a second reload of a moved address still warns, and moving it back does not. An address with
 * port 0 is compared as written, not with the port the system picked.
 */
public final class Reloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);

    /** Told of every reload's outcome, on the reload thread. */
    public interface Listener {
        /**
         * {@code next} is built and about to be swapped in: the moment to prepare what requests of the new
         * generation will need (e.g. their meters), so that nothing is created on the request path.
         */
        default void preparing(GatewaySnapshot next) {}

        /** {@code next} replaced {@code previous}. */
        default void applied(GatewaySnapshot previous, GatewaySnapshot next, ReloadOutcome.Applied outcome) {}

        /** The file was rejected; the live generation did not change. */
        default void rejected(ReloadOutcome.Rejected outcome) {}
    }

    private final Path file;
    private final SnapshotHolder holder;
    private final Clock clock;
    private final ScheduledExecutorService keys;
    private final List<Listener> listeners;
    /** The addresses bound at start, from the generation the holder held when this reloader was made. */
    private final HostPort listening;
    private final HostPort adminListening;
    private final ExecutorService worker;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private @Nullable CompletableFuture<ReloadOutcome> queued;
    private volatile ReloadOutcome.@Nullable Rejected lastError;

    /**
     * @param file the config file, read again on every reload
     * @param holder where the live generation is published; must hold one already, the one whose {@code listen}
     *     and {@code admin.listen} the gateway binds (reloads warn when a file moves them)
     * @param clock the clock of new generations
     * @param keys the scheduler of JWKS refreshes
     * @param listeners told of each outcome
     */
    public Reloader(Path file, SnapshotHolder holder, Clock clock, ScheduledExecutorService keys,
            List<Listener> listeners) {
        this.file = file;
        this.holder = holder;
        this.clock = clock;
        this.keys = keys;
        this.listeners = List.copyOf(listeners);
        CompiledConfig started = Objects.requireNonNull(holder.current(), "no config loaded yet").config();
        this.listening = started.listen();
        this.adminListening = started.adminListen();
        this.worker = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "portcullis-reload");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** The config file this reloader reads. */
    public Path file() {
        return file;
    }

    /**
     * Asks for a reload; never blocks. The future completes, on the reload thread, with the outcome of
     * the reload that read the file after this call.
     *
     * @param trigger what asked, for the log: {@code SIGHUP}, {@code admin}, {@code watch}
     */
    public synchronized CompletableFuture<ReloadOutcome> reload(String trigger) {
        CompletableFuture<ReloadOutcome> pending = queued;
        if (pending != null) {
            return pending;
        }
        CompletableFuture<ReloadOutcome> next = new CompletableFuture<>();
        queued = next;
        try {
            worker.execute(() -> run(trigger));
        } catch (RuntimeException e) {
            // the worker is shut down: the gateway is stopping
            queued = null;
            next.completeExceptionally(e);
        }
        return next;
    }

    private void run(String trigger) {
        CompletableFuture<ReloadOutcome> mine;
        synchronized (this) {
            mine = queued;
            queued = null;
        }
        ReloadOutcome outcome;
        try {
            outcome = apply(trigger);
        } catch (RuntimeException | Error e) {
            LOG.error("config reload ({}) failed unexpectedly; the current config stays", trigger, e);
            outcome = reject(trigger, "internal error: " + e.getClass().getSimpleName(), List.of());
        }
        if (mine != null) {
            mine.complete(outcome);
        }
    }

    private ReloadOutcome apply(String trigger) {
        GatewaySnapshot previous = holder.current();
        if (previous == null) {
            return reject(trigger, "no config loaded yet", List.of());
        }
        CompiledConfig loaded;
        try {
            loaded = ConfigLoader.load(file);
        } catch (ConfigException e) {
            return reject(trigger, e.problems());
        } catch (IOException e) {
            String problem = ConfigText.unreadable(file, e);
            return reject(trigger, problem, List.of(problem));
        }
        GatewaySnapshot next;
        try {
            next = GatewaySnapshot.next(previous, loaded, clock, keys);
        } catch (ConfigResourceException e) {
            return reject(trigger, ResourceFailures.problems(file, loaded, e, clock, keys));
        }
        List<String> warnings = prepare(next);
        holder.swap(next);
        previous.retire();
        applied.incrementAndGet();
        lastError = null;
        CompiledConfig config = next.config();
        ReloadOutcome.Applied outcome =
                new ReloadOutcome.Applied(clock.instant(), trigger, next.generation(), config.version(), warnings);
        LOG.info("config reloaded ({}): generation {} version {} with {} rules", trigger, next.generation(),
                config.version(), config.policy().rules().size());
        for (String warning : warnings) {
            LOG.warn("config reloaded ({}): {}", trigger, warning);
        }
        for (Listener listener : listeners) {
            try {
                listener.applied(previous, next, outcome);
            } catch (RuntimeException e) {
                LOG.warn("reload listener {} failed", listener.getClass().getSimpleName(), e);
            }
        }
        return outcome;
    }

    /** The rejection of every one of {@code problems}, each rendered as {@code FILE:LINE:COLUMN: path: message}. */
    private ReloadOutcome.Rejected reject(String trigger, List<ConfigProblem> problems) {
        List<String> rendered = new ArrayList<>(problems.size());
        for (ConfigProblem problem : problems) {
            rendered.add(problem.render());
        }
        return reject(trigger, ConfigProblem.summary(problems.size(), file), rendered);
    }

    /** The warnings of applying {@code next}, once the listeners prepared for it; closes it if that fails. */
    private List<String> prepare(GatewaySnapshot next) {
        try {
            List<String> warnings = warnings(next.config());
            for (Listener listener : listeners) {
                try {
                    listener.preparing(next);
                } catch (RuntimeException e) {
                    LOG.warn("reload listener {} failed", listener.getClass().getSimpleName(), e);
                }
            }
            return warnings;
        } catch (RuntimeException | Error e) {
            next.close();
            throw e;
        }
    }

    /** What the operator should know about applying {@code config}, served on the addresses bound at start. */
    private List<String> warnings(CompiledConfig config) {
        List<String> warnings = new ArrayList<>(2);
        for (ConfigProblem warning : config.warnings()) {
            warnings.add(warning.renderAsWarning());
        }
        if (!config.listen().equals(listening)) {
            warnings.add("listen changed from " + listening + " to " + config.listen()
                    + ": still serving on the old address until restarted");
        }
        if (!config.adminListen().equals(adminListening)) {
            warnings.add("admin.listen changed from " + adminListening + " to " + config.adminListen()
                    + ": still serving on the old address until restarted");
        }
        return warnings;
    }

    private ReloadOutcome.Rejected reject(String trigger, String error, List<String> problems) {
        ReloadOutcome.Rejected outcome = new ReloadOutcome.Rejected(clock.instant(), trigger, error, problems);
        rejected.incrementAndGet();
        lastError = outcome;
        LOG.error("config reload ({}) rejected, the current config stays: {}", trigger, error);
        for (String problem : problems) {
            LOG.error("config reload ({}) rejected: {}", trigger, problem);
        }
        for (Listener listener : listeners) {
            try {
                listener.rejected(outcome);
            } catch (RuntimeException e) {
                LOG.warn("reload listener {} failed", listener.getClass().getSimpleName(), e);
            }
        }
        return outcome;
    }

    /** The last rejected reload since the live generation was applied, or null. */
    public ReloadOutcome.@Nullable Rejected lastError() {
        return lastError;
    }

    /** Reloads applied since start. */
    public long appliedCount() {
        return applied.get();
    }

    /** Reloads rejected since start. */
    public long rejectedCount() {
        return rejected.get();
    }

    /**
     * Stops the reload thread: a reload in progress finishes (waited for, up to 10 s, so that it cannot swap in a
     * generation after the gateway closed its last one), and so do queued ones.
     */
    @Override
    public void close() {
        worker.shutdown();
        try {
            if (!worker.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("a config reload was still running at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
