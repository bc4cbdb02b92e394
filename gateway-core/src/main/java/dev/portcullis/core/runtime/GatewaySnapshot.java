package dev.portcullis.core.runtime;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.identity.JwtIdentityResolver;
import dev.portcullis.core.identity.JwtResolverOptions;
import dev.portcullis.core.identity.KeySourceException;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * One immutable generation of the gateway's configuration: what a request is decided by from head to end.
 *
 * @param config the compiled configuration
 * @param generation increases by one with every applied (re)load, starting at 1
 * @param loadedAt when this generation was compiled
 * @param jwt the bearer-token verifier of this generation; null when no JWT provider is configured
 */
public record GatewaySnapshot(
        CompiledConfig config, long generation, Instant loadedAt, @Nullable JwtIdentityResolver jwt)
        implements AutoCloseable {

    /** A snapshot without JWT verification (tests and configs without {@code identity.jwt}). */
    public GatewaySnapshot(CompiledConfig config, long generation, Instant loadedAt) {
        this(config, generation, loadedAt, null);
    }

    /**
     * Builds the snapshot for {@code config}: loads key files and secrets and starts JWKS fetching on
     * {@code scheduler}. Blocking file I/O: call it off the event loops.
     */
    public static GatewaySnapshot create(
            CompiledConfig config, long generation, Clock clock, ScheduledExecutorService scheduler)
            throws KeySourceException {
        JwtIdentityResolver jwt = config.identity().jwtProviders().isEmpty()
                ? null
                : new JwtIdentityResolver(
                        config.identity().jwtProviders(), JwtResolverOptions.defaults(clock, scheduler));
        return new GatewaySnapshot(config, generation, clock.instant(), jwt);
    }

    /** Stops this generation's background work (JWKS refreshes). */
    @Override
    public void close() {
        if (jwt != null) {
            jwt.close();
        }
    }
}
