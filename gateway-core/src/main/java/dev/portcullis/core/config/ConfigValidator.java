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
                problems.add("upstream.url", ConfigValues.messageOf(e));
            }
        }
        rules(config.rules());
    }

    private @Nullable HostPort address(String text, String path) {
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigValues.messageOf(e));
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
        }
    }
}
