package dev.portcullis.core.runtime;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.decision.DecisionStep;
import dev.portcullis.core.config.GeoIpSettings;
import dev.portcullis.core.geo.GeoDatabaseException;
import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.geo.MaxMindGeoLookup;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.JwtIdentityResolver;
import dev.portcullis.core.identity.JwtResolverOptions;
import dev.portcullis.core.identity.KeySourceException;
import dev.portcullis.core.ratelimit.LocalRateLimiter;
import dev.portcullis.core.ratelimit.RateLimiters;
import dev.portcullis.core.ratelimit.SharedBucketStore;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One immutable generation of the gateway's configuration: what a request is decided by from head to end.
 *
 * <p>Its configuration and compiled policy never change once published. Implementation notes: a generation
 * owns background resources (JWKS refresh tasks). When a reload replaces it, it is {@linkplain #retire()
 * retired} and closed once the last request that took it ({@link #tryAcquire()}/{@link #release()}) has
 * finished, so no request loses the resources it was decided with. The user count turns to CLOSED
 * atomically with the last release, so a request that read this generation just before the swap either
 * takes it while it is still open or sees it closed and reads the live generation again.
 */
public final class GatewaySnapshot implements AutoCloseable {
    private final CompiledConfig config;
    private final long generation;
    private final Instant loadedAt;
    private final @Nullable JwtIdentityResolver jwt;
    private final DecisionStep decisions;
    private final Clock clock;
    private final GeoLookup geo;
    private final RateLimiters limiters;
    private final SharedBucketStore.Factory stores;
    /** Requests using this generation, or {@link #CLOSED} once it was retired with none. */
    private final AtomicInteger users = new AtomicInteger();
    private static final int CLOSED = -1;
    private volatile boolean retired;
    private volatile boolean closed;

    /**
     * @param config the compiled configuration
     * @param generation increases by one with every applied (re)load, starting at 1
     * @param loadedAt when this generation was compiled
     * @param jwt the bearer-token verifier of this generation; null when no JWT provider is configured
     * @param clock where requests' "now" comes from (schedules), and the rate limiters' time
     * @param geo the GeoIP lookup of this generation ({@link GeoLookup#NONE} without {@code geoip})
     * @param previousLimiters the limiters of the generation this one replaces: unchanged limiters keep their state
     */
    public GatewaySnapshot(CompiledConfig config, long generation, Instant loadedAt, @Nullable JwtIdentityResolver jwt,
            Clock clock, GeoLookup geo, @Nullable RateLimiters previousLimiters) {
        this(config, generation, loadedAt, jwt, clock, geo, previousLimiters, SharedBucketStore.Factory.NONE);
    }

    /**
     * As the constructor above, with {@code stores} opening the {@code rate_limit_store} (kept from
     * {@code previousLimiters} when its settings did not change); later generations built by {@link #next} use it too.
     */
    public GatewaySnapshot(CompiledConfig config, long generation, Instant loadedAt, @Nullable JwtIdentityResolver jwt,
            Clock clock, GeoLookup geo, @Nullable RateLimiters previousLimiters, SharedBucketStore.Factory stores) {
        this.stores = stores;
        this.config = config;
        this.generation = generation;
        this.loadedAt = loadedAt;
        this.jwt = jwt;
        this.clock = clock;
        this.geo = geo;
        this.limiters = RateLimiters.build(config.rateLimits(), previousLimiters, System::nanoTime,
                LocalRateLimiter.DEFAULT_MAX_KEYS, config.rateLimitStore(), stores);
        this.decisions = new DecisionStep(new IdentityChain(jwt, config.identity()), config.policy(), limiters, clock,
                geo, config.geoip().database() != null);
    }

    /** A snapshot without JWT verification (tests and configs without {@code identity.jwt}). */
    public GatewaySnapshot(CompiledConfig config, long generation, Instant loadedAt) {
        this(config, generation, loadedAt, null, Clock.systemUTC(), GeoLookup.NONE, null);
    }

    /**
     * Builds the snapshot for {@code config}: loads key files and secrets, opens the GeoIP databases and starts
     * JWKS fetching on {@code scheduler}. Blocking file I/O: call it off the event loops.
     */
    public static GatewaySnapshot create(
            CompiledConfig config, long generation, Clock clock, ScheduledExecutorService scheduler)
            throws KeySourceException, GeoDatabaseException {
        return create(config, generation, clock, scheduler, SharedBucketStore.Factory.NONE);
    }

    /** As {@link #create(CompiledConfig, long, Clock, ScheduledExecutorService)}, opening shared stores with {@code stores}. */
    public static GatewaySnapshot create(CompiledConfig config, long generation, Clock clock,
            ScheduledExecutorService scheduler, SharedBucketStore.Factory stores)
            throws KeySourceException, GeoDatabaseException {
        return build(null, config, generation, clock, scheduler, stores, true);
    }

    /**
     * A snapshot that validates {@code config} without network access, for {@code portcullis check}: key files and
     * secrets are loaded and the GeoIP databases opened as {@link #create} does, but no {@code jwks_url} is fetched
     * (its provider holds no keys, so it rejects every token) and no {@code rate_limit_store} is connected. Not for
     * deciding requests. Blocking file I/O.
     */
    public static GatewaySnapshot offline(CompiledConfig config, Clock clock, ScheduledExecutorService scheduler)
            throws KeySourceException, GeoDatabaseException {
        return build(null, config, 1, clock, scheduler, SharedBucketStore.Factory.NONE, false);
    }

    /**
     * The snapshot for a reloaded {@code config} following {@code previous}: JWT counters continue, a {@code jwks_url}
     * both fetch starts with the previous key set ({@link JwtIdentityResolver#reloaded}), unchanged rate limiters keep
     * their buckets, and the GeoIP databases are opened again (a replaced file takes effect). Blocking file I/O: call
     * it off the event loops.
     */
    public static GatewaySnapshot next(
            GatewaySnapshot previous, CompiledConfig config, Clock clock, ScheduledExecutorService scheduler)
            throws KeySourceException, GeoDatabaseException {
        return build(previous, config, previous.generation + 1, clock, scheduler, previous.stores, true);
    }

    private static GatewaySnapshot build(@Nullable GatewaySnapshot previous, CompiledConfig config, long generation,
            Clock clock, ScheduledExecutorService scheduler, SharedBucketStore.Factory stores, boolean fetchRemoteKeys)
            throws KeySourceException, GeoDatabaseException {
        GeoIpSettings geoip = config.geoip();
        MaxMindGeoLookup geo = geoip.isConfigured()
                ? MaxMindGeoLookup.open(geoip.database(), geoip.asnDatabase())
                : null;
        try {
            JwtIdentityResolver before = previous == null ? null : previous.jwt;
            JwtIdentityResolver jwt;
            if (config.identity().jwtProviders().isEmpty()) {
                jwt = null;
            } else if (before != null) {
                jwt = JwtIdentityResolver.reloaded(before, config.identity().jwtProviders());
            } else {
                JwtResolverOptions options = JwtResolverOptions.defaults(clock, scheduler);
                jwt = new JwtIdentityResolver(config.identity().jwtProviders(),
                        fetchRemoteKeys ? options : options.offline());
            }
            return new GatewaySnapshot(config, generation, clock.instant(), jwt, clock,
                    geo == null ? GeoLookup.NONE : geo, previous == null ? null : previous.limiters, stores);
        } catch (KeySourceException | RuntimeException e) {
            if (geo != null) {
                geo.close();
            }
            throw e;
        }
    }

    public CompiledConfig config() {
        return config;
    }

    public long generation() {
        return generation;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    public @Nullable JwtIdentityResolver jwt() {
        return jwt;
    }

    /** The clock requests of this generation are decided by. */
    public Clock clock() {
        return clock;
    }

    /** The GeoIP lookup of this generation. */
    public GeoLookup geo() {
        return geo;
    }

    /** The rate limiters of this generation. */
    public RateLimiters limiters() {
        return limiters;
    }

    /** The identity-then-policy step of this generation. */
    public DecisionStep decisions() {
        return decisions;
    }

    /**
     * A request starts using this generation, unless it was already retired and closed; pair a true answer with
     * {@link #release()}. A request that reads the live generation and then finds it closed reads it again.
     */
    public boolean tryAcquire() {
        for (;;) {
            int n = users.get();
            if (n < 0) {
                return false;
            }
            if (users.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** As {@link #tryAcquire()}, for a generation that cannot be closed yet (tests, startup). */
    public void acquire() {
        if (!tryAcquire()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** A request that {@linkplain #tryAcquire() took} this generation has finished. */
    public void release() {
        if (users.decrementAndGet() == 0 && retired && users.compareAndSet(0, CLOSED)) {
            close();
        }
    }

    /** Requests currently using this generation. */
    public int users() {
        return Math.max(0, users.get());
    }

    /** A newer generation replaced this one: close it as soon as no request uses it. */
    public void retire() {
        retired = true;
        if (users.compareAndSet(0, CLOSED)) {
            close();
        }
    }

    /** Whether this generation's background work has stopped. */
    public boolean isClosed() {
        return closed;
    }

    /** Stops this generation's background work (JWKS refreshes); idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (jwt != null) {
            jwt.close();
        }
        limiters.close();
        if (geo instanceof AutoCloseable databases) {
            try {
                databases.close();
            } catch (Exception e) {
                // closing memory-mapped readers: nothing a caller could do
            }
        }
    }

    @Override
    public String toString() {
        return "GatewaySnapshot[generation=" + generation + ", version=" + config.version() + "]";
    }
}
