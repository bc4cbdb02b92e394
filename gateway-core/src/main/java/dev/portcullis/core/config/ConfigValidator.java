package dev.portcullis.core.config;

import dev.portcullis.core.policy.Effect;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The semantic checks on a bound {@link GatewayConfig}: addresses, the upstream URL, rule names and rule shapes.
 * The identity section is checked by {@link IdentityCompiler}, whose checks need the values it compiles.
 */
final class ConfigValidator {

    private final Problems problems;

    private ConfigValidator(Problems problems) {
        this.problems = problems;
    }

    /** Reports every semantic problem of {@code config}. */
    static void validate(GatewayConfig config, Problems problems) {
        new ConfigValidator(problems).check(config);
    }

    private void check(GatewayConfig config) {
        HostPort listen = address(config.listen(), "listen");
        HostPort admin = address(config.admin().listen(), "admin.listen");
        if (listen != null && admin != null && listen.conflictsWith(admin)) {
            problems.add("admin.listen", ConfigValues.quote(config.admin().listen()) + " conflicts with listen "
                    + ConfigValues.quote(config.listen())
                    + " (expected: a different port; the admin API is never served on the public port)");
        }
        String url = config.upstream().url();
        if (url != null) {
            try {
                UpstreamUrl.parse(url);
            } catch (IllegalArgumentException e) {
                problems.add("upstream.url", ConfigBinder.messageOf(e));
            }
        }
        rules(config.rules());
    }

    private @Nullable HostPort address(String text, String path) {
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigBinder.messageOf(e));
            return null;
        }
    }

    private void rules(List<RuleConfig> rules) {
        Map<String, Integer> firstUse = new HashMap<>();
        for (int i = 0; i < rules.size(); i++) {
            RuleConfig rule = rules.get(i);
            String path = KeyPaths.index("rules", i);
            String name = rule.name();
            if (name != null) {
                if (name.isBlank()) {
                    problems.add(KeyPaths.key(path, "name"), ConfigValues.quote(name)
                            + " is not a valid rule name (expected: a unique, non-empty name)");
                } else {
                    Integer first = firstUse.putIfAbsent(name, i);
                    if (first != null) {
                        problems.add(KeyPaths.key(path, "name"), ConfigValues.quote(name) + " already used by "
                                + KeyPaths.index("rules", first));
                    }
                }
            }
            if (rule.require() != null && rule.action() == Effect.DENY) {
                problems.add(KeyPaths.key(path, "require"),
                        "require is only allowed on rules with action allow (this rule has action deny)");
            }
            condition(rule.match(), KeyPaths.key(path, "match"));
            condition(rule.require(), KeyPaths.key(path, "require"));
        }
    }

    private void condition(@Nullable ConditionConfig condition, String path) {
        if (condition == null) {
            return;
        }
        notEmpty(condition.paths(), path, "paths", "path glob, e.g. \"/api/**\"");
        notEmpty(condition.methods(), path, "methods", "method, e.g. GET");
        notEmpty(condition.hosts(), path, "hosts", "host name, e.g. api.example.com");
        notEmpty(condition.ip(), path, "ip", "CIDR, e.g. 10.0.0.0/8");
        notEmpty(condition.roles(), path, "roles", "role, e.g. admin");
        notEmpty(condition.allRoles(), path, "all_roles", "role, e.g. admin");
        Map<String, List<String>> claims = condition.claims();
        if (claims != null) {
            String claimsPath = KeyPaths.key(path, "claims");
            if (claims.isEmpty()) {
                problems.add(claimsPath, "empty map (expected: at least one claim path, e.g. tenant)");
            }
            claims.forEach((claim, values) -> {
                if (values.isEmpty()) {
                    problems.add(KeyPaths.key(claimsPath, claim),
                            "empty list (expected: at least one claim value, e.g. [acme])");
                }
            });
        }
        if (condition.headers() != null && condition.headers().isEmpty()) {
            problems.add(KeyPaths.key(path, "headers"), "empty map (expected: at least one header name)");
        }
        notEmpty(condition.any(), path, "any", "condition");
        notEmpty(condition.all(), path, "all", "condition");
        conditions(condition.any(), KeyPaths.key(path, "any"));
        conditions(condition.all(), KeyPaths.key(path, "all"));
        condition(condition.not(), KeyPaths.key(path, "not"));
    }

    private void conditions(@Nullable List<ConditionConfig> conditions, String path) {
        if (conditions != null) {
            for (int i = 0; i < conditions.size(); i++) {
                condition(conditions.get(i), KeyPaths.index(path, i));
            }
        }
    }

    private void notEmpty(@Nullable List<?> list, String path, String key, String expected) {
        if (list != null && list.isEmpty()) {
            problems.add(KeyPaths.key(path, key), "empty list (expected: at least one " + expected + ")");
        }
    }
}
