package dev.portcullis.core.config;

import dev.portcullis.core.ratelimit.RateLimitDefinition;
import java.util.ArrayList;
import java.util.List;

/** Compiles {@code rate_limits} (SPEC 3) into limiter definitions; each problem is reported at its limiter. */
final class RateLimitsCompiler {
    private RateLimitsCompiler() {}

    static List<RateLimitDefinition> compile(GatewayConfig config, Problems problems) {
        List<RateLimitDefinition> definitions = new ArrayList<>();
        for (RateLimitConfig limiter : config.rateLimits()) {
            String path = KeyPaths.key("rate_limits", limiter.name());
            if (limiter.key() == null || limiter.limit() == null || limiter.per() == null) {
                continue; // reported by the binder
            }
            RateLimitDefinition.Scope scope;
            try {
                scope = RateLimitDefinition.Scope.parse(limiter.scope());
            } catch (IllegalArgumentException e) {
                problems.add(KeyPaths.key(path, "scope"), ConfigValues.messageOf(e));
                continue;
            }
            if (scope == RateLimitDefinition.Scope.SHARED) {
                problems.add(KeyPaths.key(path, "scope"), "scope: shared is not supported yet (it needs a "
                        + "rate_limit_store; expected: local)");
                continue;
            }
            try {
                definitions.add(RateLimitDefinition.parseKey(limiter.name(), limiter.key(), limiter.limit(),
                        limiter.per(), limiter.burst(), scope));
            } catch (IllegalArgumentException e) {
                problems.add(path, ConfigValues.messageOf(e));
            }
        }
        return List.copyOf(definitions);
    }
}
