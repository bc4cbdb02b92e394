package dev.portcullis.core.config;

import dev.portcullis.core.ratelimit.RateLimitDefinition;
import java.util.ArrayList;
import java.util.List;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import org.jspecify.annotations.Nullable;

/** Compiles {@code rate_limits} (SPEC 3) into limiter definitions; each problem is reported at its limiter. */
final class RateLimitsCompiler {
    private RateLimitsCompiler() {}

    /** {@code rate_limit_store}, validated; null when not written or invalid (reported). */
    static @Nullable SharedStoreSettings store(GatewayConfig config, Problems problems) {
        RateLimitStoreConfig store = config.rateLimitStore();
        if (store == null || store.url() == null) {
            return null;
        }
        // password_env is checked apart from the URL, so that a problem in each is reported at once
        boolean passwordValid = true;
        try {
            SharedStoreSettings.checkPasswordEnv(store.passwordEnv());
        } catch (IllegalArgumentException e) {
            problems.add("rate_limit_store.redis.password_env", ConfigValues.messageOf(e));
            passwordValid = false;
        }
        try {
            SharedStoreSettings settings = SharedStoreSettings.parse(store.url(),
                    passwordValid ? store.passwordEnv() : null, store.timeout(), store.onError());
            return passwordValid ? settings : null;
        } catch (IllegalArgumentException e) {
            problems.add("rate_limit_store.redis.url", ConfigValues.messageOf(e));
            return null;
        }
    }

    static List<RateLimitDefinition> compile(
            GatewayConfig config, @Nullable SharedStoreSettings store, Problems problems) {
        List<RateLimitDefinition> definitions = new ArrayList<>();
        for (RateLimitConfig limiter : config.rateLimits()) {
            String path = KeyPaths.key("rate_limits", limiter.name());
            // key and scope are checked whatever else is wrong, so that every problem is reported at its own key;
            // a missing key, limit or per, or a limit or per that is not a valid value, was reported by the binder
            // (and reads as null)
            boolean complete = limiter.key() != null && limiter.limit() != null && limiter.per() != null;
            if (limiter.key() != null) {
                try {
                    RateLimitDefinition.checkKey(limiter.key());
                } catch (IllegalArgumentException e) {
                    problems.add(KeyPaths.key(path, "key"), ConfigValues.messageOf(e));
                    complete = false;
                }
            }
            RateLimitDefinition.Scope scope;
            try {
                scope = RateLimitDefinition.Scope.parse(limiter.scope());
            } catch (IllegalArgumentException e) {
                problems.add(KeyPaths.key(path, "scope"), ConfigValues.messageOf(e));
                continue;
            }
            if (scope == RateLimitDefinition.Scope.SHARED && store == null) {
                if (config.rateLimitStore() == null) {
                    problems.add(KeyPaths.key(path, "scope"), "scope: shared needs a rate_limit_store, and there is "
                            + "none (expected: a rate_limit_store.redis section, or scope: local)");
                }
                continue;
            }
            if (!complete) {
                continue;
            }
            try {
                // what is left is how the fields go together (e.g. a refill too fine for the store), at the limiter
                definitions.add(RateLimitDefinition.parseKey(limiter.name(), limiter.key(), limiter.limit(),
                        limiter.per(), limiter.burst(), scope));
            } catch (IllegalArgumentException e) {
                problems.add(path, ConfigValues.messageOf(e));
            }
        }
        return List.copyOf(definitions);
    }
}
