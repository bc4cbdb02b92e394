package dev.portcullis.server.metrics;

import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Rule;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeListener;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.proxy.Upstreams;
import io.micrometer.core.instrument.Counter;
import dev.portcullis.core.geo.GeoDatabaseInfo;
import dev.portcullis.core.geo.MaxMindGeoLookup;
import dev.portcullis.core.ratelimit.RateLimiter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's metrics registry (SPEC 5), fed by every finished exchange and by the reload code, and rendered
 * as Prometheus text by the admin {@code /metrics} endpoint.
 *
 * <p>Every label value comes from the configuration (rule names, issuers, the config version) or from a fixed
 * set (decisions, status classes, reject reasons), never from a request, so the number of series is bounded by
 * the configs loaded.
 */
public final class GatewayMetrics implements ExchangeListener, AutoCloseable {

    /*
     * Implementation notes.
     *
     * Hot path: exchangeFinished runs on an event loop for every request. It finds the RuleMeters of the
     * deciding rule (one ConcurrentHashMap.get, or a field for the two fixed labels), increments a counter
     * held in an array slot, and records two timers. Nothing is allocated once each combination has been seen
     * (a unit test checks that no meter is created on a repeat). RuleMeters are created for every rule when a
     * config is loaded; a rule seen first in an exchange (a race with a reload) is created then.
     *
     * Series of rules that a reload removed stay until restart: they are cumulative counters, and dropping
     * them would lose increments a scrape has not seen yet. Their number is bounded by the configs loaded.
     */

    /** The {@code rule} label of requests decided by the policy's {@code default}. */
    public static final String DEFAULT_RULE = "(default)";
    /** The {@code rule} label of requests answered before any rule ran (400, 408, 413, ...; client gone). */
    public static final String NO_RULE = "(none)";

    static final String REQUESTS = "portcullis.requests";
    static final String AUDIT_DECISIONS = "portcullis.audit.decisions";

    /** Histogram bucket bounds shared by the request and upstream durations, 1 ms to 60 s. */
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
        Duration.ofSeconds(30), Duration.ofSeconds(60)
    };

    private final SnapshotHolder snapshots;
    private final PrometheusMeterRegistry registry;
    private final ConcurrentHashMap<String, RuleMeters> rules = new ConcurrentHashMap<>();
    private final RuleMeters defaultRule;
    private final RuleMeters noRule;
    private final Timer requestDuration;
    private final Timer upstreamDuration;
    private final Counter reloadSuccesses;
    private final Counter reloadFailures;
    private final JwtMetrics jwt;
    /** Held for the MXBeans its meters read (a function meter holds them only weakly). */
    private final JvmGcScrapeMetrics gc;
    private @Nullable Gauge configInfo;
    private @Nullable String configVersion;
    private @Nullable FunctionCounter accessLogDropped;
    private final Set<String> rateLimitedNames = new HashSet<>();
    private final List<Gauge> geoInfo = new ArrayList<>();
    private @Nullable RateLimitStoreMetrics rateLimitStore;
    /** Held strongly: a function counter only keeps a weak reference to its source. */
    private @Nullable LongSupplier accessLogDroppedSource;

    /** A registry for the gateway serving {@code snapshots}; registers the current config's meters, if any. */
    public GatewayMetrics(SnapshotHolder snapshots) {
        this.snapshots = snapshots;
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.defaultRule = new RuleMeters(DEFAULT_RULE, registry);
        this.noRule = new RuleMeters(NO_RULE, registry);
        this.requestDuration = Timer.builder("portcullis.request.duration")
                .description("Time from the request head to the end of the response")
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
        this.upstreamDuration = Timer.builder("portcullis.upstream.duration")
                .description("Time from writing the request upstream to the end of its response (proxied requests)")
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
        this.reloadSuccesses = reloads("success");
        this.reloadFailures = reloads("failure");
        this.jwt = new JwtMetrics(snapshots, registry);
        new JvmMemoryMetrics().bindTo(registry);
        this.gc = new JvmGcScrapeMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        NettyMemoryMetrics.bind(registry);
        GatewaySnapshot current = snapshots.current();
        if (current != null) {
            configLoaded(current);
        }
    }

    /** Registers the gauges of what {@code context} and {@code upstreams} hold open ({@link ConnectionMetrics}). */
    public void connections(ServerContext context, Upstreams upstreams) {
        ConnectionMetrics.bind(registry, context, upstreams);
    }

    /** The registry, for the admin endpoint. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void exchangeFinished(Exchange exchange) {
        String rule = exchange.rule();
        RuleMeters meters = rule != null ? rule(rule) : exchange.decision() != null ? defaultRule : noRule;
        String decision = exchange.decisionLabel();
        int index = decision == null ? RuleMeters.NO_DECISION : decision.equals("allow") ? RuleMeters.ALLOW
                : RuleMeters.DENY;
        List<AuditOutcome> audit = exchange.audit();
        for (int i = 0; i < audit.size(); i++) {
            AuditOutcome outcome = audit.get(i);
            rule(outcome.rule()).audit(outcome.decision());
        }
        requestDuration.record(exchange.durationNanos(), TimeUnit.NANOSECONDS);
        long upstream = exchange.upstreamNanos();
        if (upstream >= 0) {
            upstreamDuration.record(upstream, TimeUnit.NANOSECONDS);
        }
        // counted last: a scrape that sees the request counted sees its durations and audit outcomes too
        meters.request(index, exchange.status());
    }

    /** Counts an applied reload ({@code portcullis_config_reloads_total{result="success"}}). */
    public void reloadSucceeded() {
        reloadSuccesses.increment();
    }

    /** Counts a rejected reload ({@code portcullis_config_reloads_total{result="failure"}}). */
    public void reloadFailed() {
        reloadFailures.increment();
    }

    /**
     * A config is live or about to be (a reload calls this just before the snapshot holder swaps it in):
     * {@code portcullis_config_info{version}} now names {@code version} alone, and the meters of its rules and JWT
     * providers are registered, those of providers it no longer has removed; the rate limit store's meters are there
     * if and only if it has a {@code rate_limit_store}.
     */
    public synchronized void configLoaded(GatewaySnapshot current) {
        String version = current.config().version();
        if (!version.equals(configVersion)) {
            Gauge next = Gauge.builder("portcullis.config.info", () -> 1)
                    .description("The version (sha256 of the file) of the live config; always 1")
                    .tag("version", version)
                    .register(registry);
            if (configInfo != null) {
                registry.remove(configInfo);
            }
            configInfo = next;
            configVersion = version;
        }
        for (Rule rule : current.config().policy().rules()) {
            rule(rule.name());
        }
        for (RateLimiter limiter : current.limiters().all()) {
            rateLimited(limiter.name());
        }
        geoDatabases(current);
        jwt.providersChanged(current);
        if (rateLimitStore != null) {
            rateLimitStore.configured(current.limiters().store() != null);
        }
    }

    /**
     * Exports the rate limit store's meters while the live config has a {@code rate_limit_store}: from now if the
     * current one has, and from each (re)load that adds one until the (re)load that removes it.
     */
    public synchronized void rateLimitStore(RateLimitStoreMetrics store) {
        rateLimitStore = store;
        GatewaySnapshot current = snapshots.current();
        store.bind(registry, current != null && current.limiters().store() != null);
    }

    /**
     * {@code portcullis_geoip_database_info{database,build_date}} 1 for each GeoIP database of the live config
     * (what a reload opened), replacing the series of the previous one.
     */
    private void geoDatabases(GatewaySnapshot live) {
        for (Gauge old : geoInfo) {
            registry.remove(old);
        }
        geoInfo.clear();
        if (live.geo() instanceof MaxMindGeoLookup databases) {
            for (GeoDatabaseInfo info : databases.databases()) {
                geoInfo.add(Gauge.builder("portcullis.geoip.database.info", () -> 1)
                        .description("The GeoIP databases in use, by role and build date; always 1")
                        .tag("database", info.database())
                        .tag("type", info.type())
                        .tag("build_date", info.buildDate().toString())
                        .register(registry));
            }
        }
    }

    /**
     * {@code portcullis_rate_limited_total{limiter}}: requests the limiter refused, read from the live generation's
     * limiter of that name (its count starts again when a reload changes the limiter's definition).
     */
    private void rateLimited(String name) {
        if (rateLimitedNames.add(name)) {
            FunctionCounter.builder("portcullis.rate.limited", snapshots, s -> {
                        GatewaySnapshot live = s.current();
                        RateLimiter limiter = live == null ? null : live.limiters().get(name);
                        return limiter == null ? 0 : limiter.limitedCount();
                    })
                    .description("Requests answered 429 by a rate limiter")
                    .tag("limiter", name)
                    .register(registry);
        }
    }

    /**
     * Exports {@code dropped} (access log lines dropped because the writer fell behind) as
     * {@code portcullis_access_log_dropped_total}, replacing an earlier source.
     */
    public synchronized void accessLogDropped(LongSupplier dropped) {
        if (accessLogDropped != null) {
            registry.remove(accessLogDropped);
        }
        accessLogDroppedSource = dropped;
        accessLogDropped = FunctionCounter.builder("portcullis.access.log.dropped", dropped, LongSupplier::getAsLong)
                .description("Access log lines dropped because the log writer fell behind")
                .register(registry);
    }

    /** Closes the registry. */
    @Override
    public void close() {
        registry.close();
    }

    private RuleMeters rule(String name) {
        RuleMeters meters = rules.get(name);
        return meters != null ? meters : rules.computeIfAbsent(name, n -> new RuleMeters(n, registry));
    }

    private Counter reloads(String result) {
        return Counter.builder("portcullis.config.reloads")
                .description("Config reloads, applied (success) or rejected (failure)")
                .tag("result", result)
                .register(registry);
    }
}
