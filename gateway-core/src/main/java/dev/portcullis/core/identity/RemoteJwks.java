package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSAlgorithm;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code jwks_url} key set, fetched in the background: at startup, every {@code jwks_refresh}, with
 * bounded exponential backoff after a failure, and on demand when a token names an unknown {@code kid}.
 */
final class RemoteJwks implements KeyProvider {

    /*
     * Implementation notes.
     *
     * Single flight: at most one fetch runs at a time. Whoever installs a future in `inFlight` starts the
     * fetch; everyone else joins that future. The completing fetch installs the new key set, clears
     * `inFlight` and only then completes the future, so a waiter that re-verifies sees the new keys and
     * may start a new fetch.
     *
     * On-demand fetches (unknown kid, or no keys yet) are limited to one per MISS_REFETCH_INTERVAL of
     * the injected clock, claimed by a CAS on `lastMissFetch`: a flood of tokens with made-up kids costs
     * one request per 30 s. Scheduled refreshes and retries are not limited by it.
     *
     * Every fetch is started on the scheduler, never on the caller's thread, and the HTTP client is
     * asynchronous: a request thread never waits for the network. A failed fetch keeps the last good set.
     * The next run is scheduled only by a completing fetch (refresh interval after success, backoff after
     * failure), which replaces any run already scheduled.
     */

    static final Duration MISS_REFETCH_INTERVAL = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(RemoteJwks.class);
    private static final long NEVER = Long.MIN_VALUE;

    private final URI uri;
    private final String displayUri;
    private final Set<JWSAlgorithm> algorithms;
    private final JwksHttp http;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private final Duration refreshInterval;
    private final Duration initialRetryDelay;
    private final Duration maxRetryDelay;
    private final Duration fetchTimeout;

    private final AtomicReference<@Nullable CompletableFuture<Void>> inFlight = new AtomicReference<>();
    private final AtomicLong lastMissFetch = new AtomicLong(NEVER);
    private final AtomicLong generations = new AtomicLong();
    private final LongAdder fetches = new LongAdder();
    private final LongAdder failures = new LongAdder();

    private volatile @Nullable KeySet current;
    private volatile @Nullable String document;
    private volatile @Nullable Instant lastSuccess;
    private volatile boolean closed;
    /** Touched only by the completing fetch; single flight orders them. */
    private int consecutiveFailures;
    /** Guarded by this. */
    private @Nullable ScheduledFuture<?> nextRun;

    RemoteJwks(URI uri, Set<JWSAlgorithm> algorithms, JwksHttp http, JwtResolverOptions options,
            Duration refreshInterval, @Nullable String seedDocument) {
        this.uri = uri;
        this.displayUri = display(uri);
        this.algorithms = Set.copyOf(algorithms);
        this.http = http;
        this.scheduler = options.scheduler();
        this.clock = options.clock();
        this.refreshInterval = refreshInterval;
        this.initialRetryDelay = options.initialRetryDelay();
        Duration cap = options.maxRetryDelay();
        this.maxRetryDelay = cap.compareTo(refreshInterval) < 0 ? cap : refreshInterval;
        this.fetchTimeout = options.fetchTimeout();
        if (seedDocument != null) {
            try {
                List<VerifyingKey> keys = KeyLoader.fromJwks(seedDocument, algorithms);
                this.current = new KeySet(generations.incrementAndGet(), keys);
                this.document = seedDocument;
            } catch (KeyLoader.InvalidKeysException e) {
                log.debug("jwks={} previous key set does not fit the new settings: {}", displayUri, e.getMessage());
            }
        }
    }

    /** Starts the first fetch; the resolver calls this once every provider was built. */
    void start() {
        fetch();
    }

    @Override
    public @Nullable KeySet current() {
        return current;
    }

    @Override
    public @Nullable CompletableFuture<Void> keyMissing() {
        CompletableFuture<Void> running = inFlight.get();
        if (running != null) {
            return running;
        }
        long now = clock.millis();
        long last = lastMissFetch.get();
        boolean due = last == NEVER || now < last || now - last >= MISS_REFETCH_INTERVAL.toMillis();
        if (!due || !lastMissFetch.compareAndSet(last, now)) {
            return inFlight.get();
        }
        log.debug("jwks={} refetching for a token whose key is not in the set", displayUri);
        return fetch();
    }

    @Override
    public CompletableFuture<Void> refresh() {
        return fetch();
    }

    @Override
    public @Nullable String document() {
        return document;
    }

    @Override
    public long fetches() {
        return fetches.sum();
    }

    @Override
    public long fetchFailures() {
        return failures.sum();
    }

    @Override
    public @Nullable Instant lastSuccess() {
        return lastSuccess;
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            if (nextRun != null) {
                nextRun.cancel(false);
                nextRun = null;
            }
        }
    }

    private CompletableFuture<Void> fetch() {
        while (true) {
            CompletableFuture<Void> running = inFlight.get();
            if (running != null) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (inFlight.compareAndSet(null, mine)) {
                if (closed) {
                    finish(mine);
                    return mine;
                }
                try {
                    scheduler.execute(() -> send(mine));
                } catch (RejectedExecutionException e) {
                    finish(mine);
                }
                return mine;
            }
        }
    }

    private void send(CompletableFuture<Void> done) {
        try {
            http.get(uri, fetchTimeout).whenComplete((response, error) -> complete(done, response, error));
        } catch (RuntimeException e) {
            complete(done, null, e);
        }
    }

    private void complete(CompletableFuture<Void> done, @Nullable HttpResponse<byte[]> response,
            @Nullable Throwable error) {
        try {
            String problem = error != null ? describe(error) : install(response);
            Duration next;
            if (problem == null) {
                consecutiveFailures = 0;
                lastSuccess = clock.instant();
                next = refreshInterval;
            } else {
                failures.increment();
                consecutiveFailures++;
                next = backoff(consecutiveFailures);
                KeySet kept = current;
                log.warn("jwks={} fetch failed: {}; {}; retrying in {}ms", displayUri, problem,
                        kept == null ? "no keys yet, tokens are rejected" : "keeping the last good " + kept.size()
                                + " keys", next.toMillis());
            }
            scheduleNext(next);
        } catch (RuntimeException e) {
            log.error("jwks={} unexpected failure handling a fetch", displayUri, e);
            scheduleNext(backoff(Math.max(1, consecutiveFailures)));
        } finally {
            // Counted once the fetch is over, so whoever sees the count also sees no fetch running.
            inFlight.compareAndSet(done, null);
            fetches.increment();
            done.complete(null);
        }
    }

    /** Installs the fetched key set; returns null on success, else why the response is not usable. */
    private @Nullable String install(@Nullable HttpResponse<byte[]> response) {
        if (response == null) {
            return "no response";
        }
        if (response.statusCode() != 200) {
            return "HTTP status " + response.statusCode();
        }
        String json = new String(response.body(), StandardCharsets.UTF_8);
        KeyLoader.JwksKeys read;
        try {
            read = KeyLoader.readJwks(json, algorithms);
        } catch (KeyLoader.InvalidKeysException e) {
            return "the document " + e.getMessage();
        }
        List<VerifyingKey> keys = read.keys();
        KeySet previous = current;
        KeySet candidate = new KeySet(previous == null ? 0 : previous.generation(), keys);
        document = json;
        if (previous != null && previous.sameKeys(candidate)) {
            log.debug("jwks={} unchanged: {} keys", displayUri, previous.size());
            return null;
        }
        KeySet next = new KeySet(generations.incrementAndGet(), keys);
        current = next;
        log.info("jwks={} {}: {} keys, generation {}", displayUri, previous == null ? "loaded" : "changed",
                next.size(), next.generation());
        if (!read.skipped().isEmpty()) { // with each new key set, not at every refresh
            log.warn("jwks={} {}", displayUri, read.skippedSummary());
        }
        return null;
    }

    private void finish(CompletableFuture<Void> done) {
        inFlight.compareAndSet(done, null);
        done.complete(null);
    }

    private synchronized void scheduleNext(Duration delay) {
        if (closed) {
            return;
        }
        if (nextRun != null) {
            nextRun.cancel(false);
        }
        try {
            nextRun = scheduler.schedule(this::fetch, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            nextRun = null;
            log.warn("jwks={} scheduler rejected the next refresh; keys are no longer refreshed", displayUri);
        }
    }

    private Duration backoff(int failuresInARow) {
        Duration delay = initialRetryDelay;
        for (int i = 1; i < failuresInARow && delay.compareTo(maxRetryDelay) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(maxRetryDelay) < 0 ? delay : maxRetryDelay;
    }

    private static String describe(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof CancellationException) {
            return "no complete answer in time";
        }
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** The URI without user info, query or fragment: those may hold credentials, and logs must not. */
    static String display(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }
}
