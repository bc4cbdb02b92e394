package dev.portcullis.core.identity;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link JwtIdentityResolver} runs, as opposed to what it checks: time, threads, network, environment and
 * limits.
 *
 * @param clock the time for {@code exp}/{@code nbf}/{@code iat}, the cache and the unknown-kid refetch limit
 * @param scheduler runs JWKS fetches, their retries and the periodic refresh; owned by the caller, never
 *     blocked by the resolver; a reload's successor resolver may share it
 * @param environment looks up {@code secret_env} variables ({@code System::getenv} in production)
 * @param cacheSize verified tokens kept; 0 disables the cache
 * @param initialRetryDelay the first retry after a failed JWKS fetch; each further failure doubles it
 * @param maxRetryDelay the longest retry delay (never longer than the provider's {@code jwks_refresh})
 * @param fetchTimeout a JWKS fetch that has not completed within this is abandoned and counts as failed
 * @param fetchRemoteKeys whether {@code jwks_url} key sets are fetched; false for a resolver that must not touch
 *     the network (validating a config offline), whose {@code jwks_url} providers then hold no keys
 */
public record JwtResolverOptions(
        Clock clock,
        ScheduledExecutorService scheduler,
        Function<String, @Nullable String> environment,
        int cacheSize,
        Duration initialRetryDelay,
        Duration maxRetryDelay,
        Duration fetchTimeout,
        boolean fetchRemoteKeys) {

    /** Verified tokens kept by default. */
    public static final int DEFAULT_CACHE_SIZE = 10_000;

    /** Checks bounds. */
    public JwtResolverOptions {
        if (cacheSize < 0) {
            throw new IllegalArgumentException("\"" + cacheSize + "\" is not a valid cache size (expected: >= 0)");
        }
        requirePositive(initialRetryDelay, "initial retry delay");
        requirePositive(maxRetryDelay, "max retry delay");
        requirePositive(fetchTimeout, "fetch timeout");
    }

    /**
     * The production options: {@code System::getenv}, {@value #DEFAULT_CACHE_SIZE} cached tokens, retries from
     * 1 s doubling up to 60 s, 10 s fetch timeout, {@code jwks_url} key sets fetched.
     */
    public static JwtResolverOptions defaults(Clock clock, ScheduledExecutorService scheduler) {
        return new JwtResolverOptions(clock, scheduler, System::getenv, DEFAULT_CACHE_SIZE, Duration.ofSeconds(1),
                Duration.ofSeconds(60), Duration.ofSeconds(10), true);
    }

    /**
     * A copy that never fetches a {@code jwks_url}: files and secrets are still loaded (and their problems
     * reported), but no HTTP client is built and nothing runs on the scheduler.
     */
    public JwtResolverOptions offline() {
        return new JwtResolverOptions(clock, scheduler, environment, cacheSize, initialRetryDelay, maxRetryDelay,
                fetchTimeout, false);
    }

    /** A copy with this environment lookup. */
    public JwtResolverOptions withEnvironment(Function<String, @Nullable String> newEnvironment) {
        return new JwtResolverOptions(clock, scheduler, newEnvironment, cacheSize, initialRetryDelay, maxRetryDelay,
                fetchTimeout, fetchRemoteKeys);
    }

    /** A copy with this cache size. */
    public JwtResolverOptions withCacheSize(int newCacheSize) {
        return new JwtResolverOptions(clock, scheduler, environment, newCacheSize, initialRetryDelay, maxRetryDelay,
                fetchTimeout, fetchRemoteKeys);
    }

    /** A copy with these retry delays. */
    public JwtResolverOptions withRetryDelays(Duration initial, Duration max) {
        return new JwtResolverOptions(clock, scheduler, environment, cacheSize, initial, max, fetchTimeout,
                fetchRemoteKeys);
    }

    /** A copy with this fetch timeout. */
    public JwtResolverOptions withFetchTimeout(Duration newFetchTimeout) {
        return new JwtResolverOptions(clock, scheduler, environment, cacheSize, initialRetryDelay, maxRetryDelay,
                newFetchTimeout, fetchRemoteKeys);
    }

    private static void requirePositive(Duration duration, String what) {
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("\"" + duration + "\" is not a valid " + what + " (expected: > 0)");
        }
    }
}
