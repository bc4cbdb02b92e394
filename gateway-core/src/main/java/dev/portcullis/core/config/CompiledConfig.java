package dev.portcullis.core.config;

import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A loaded, valid and compiled config: immutable, with no string left that still has to be parsed.
 *
 * @param source the file it was loaded from, as shown in messages
 * @param version {@code sha256:} and the lower-case hex SHA-256 of the file's bytes
 * @param listen the public address
 * @param adminListen the admin API address
 * @param watch whether to reload when the file changes
 * @param drainTimeout how long in-flight requests may finish on shutdown
 * @param upstream the protected service
 * @param limits request and connection limits
 * @param clientIps client-IP resolution behind the trusted proxies
 * @param identity identity providers and headers; {@link IdentitySettings#NONE} when the section is absent
 * @param policy the compiled rules and default
 * @param geoip the GeoIP database files
 * @param responses the bodies replacing gateway-made answers
 * @param rateLimits the named rate limiters
 * @param rateLimitStore where the {@code scope: shared} limiters' buckets live; null when not configured
 * @param warnings settings that are valid but risky, in file order: {@code check} prints them and {@code run}
 *     logs them ({@link ConfigProblem#renderAsWarning()})
 */
public record CompiledConfig(
        String source,
        String version,
        HostPort listen,
        HostPort adminListen,
        boolean watch,
        Duration drainTimeout,
        UpstreamSettings upstream,
        Limits limits,
        ClientIpResolver clientIps,
        IdentitySettings identity,
        Policy policy,
        GeoIpSettings geoip,
        CustomResponses responses,
        List<RateLimitDefinition> rateLimits,
        @Nullable SharedStoreSettings rateLimitStore,
        List<ConfigProblem> warnings) {

    /** Copies the warnings. */
    public CompiledConfig {
        warnings = List.copyOf(warnings);
        rateLimits = List.copyOf(rateLimits);
    }
}
