package dev.portcullis.core.config;

import dev.portcullis.core.policy.Effect;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The root of {@code policy.yaml} as written, with defaults filled in (SPEC 3).
 *
 * <p>Like every {@code *Config} record this is the YAML model: values, no behaviour. It is
 * built even from a file with problems, so that all of them can be found in one pass; a value
 * that was missing or invalid is then its default or {@code null}, and has been reported.
 *
 * @param listen the public {@code host:port}
 * @param watch whether to reload when the file changes
 * @param drainTimeout how long in-flight requests may finish on shutdown
 * @param admin the admin API settings
 * @param upstream the protected service
 * @param limits request and connection limits
 * @param clients client-IP resolution settings
 * @param identity how a request's identity is established
 * @param geoip the GeoIP databases
 * @param rateLimits the named rate limiters, in file order
 * @param rateLimitStore the store of the {@code scope: shared} limiters, or null when not written
 * @param responses the bodies replacing gateway-made answers, in file order
 * @param defaultAction what happens when no rule matches ({@code default})
 * @param rules the rules in file order
 */
public record GatewayConfig(
        String listen,
        boolean watch,
        Duration drainTimeout,
        AdminConfig admin,
        UpstreamConfig upstream,
        LimitsConfig limits,
        ClientsConfig clients,
        IdentityConfig identity,
        GeoIpConfig geoip,
        List<RateLimitConfig> rateLimits,
        @Nullable RateLimitStoreConfig rateLimitStore,
        List<ResponseConfig> responses,
        Effect defaultAction,
        List<RuleConfig> rules) {

    public static final String DEFAULT_LISTEN = "0.0.0.0:8080";
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
    public static final Effect DEFAULT_ACTION = Effect.DENY;

    public GatewayConfig {
        rateLimits = List.copyOf(rateLimits);
        responses = List.copyOf(responses);
        rules = List.copyOf(rules);
    }
}
