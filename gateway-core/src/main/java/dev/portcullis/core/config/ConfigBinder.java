package dev.portcullis.core.config;

import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Mode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Binds a located YAML tree to the {@code *Config} records, reporting unknown keys, wrong types and bad values. It
 * binds the root, the server sections and the rules with their conditions itself; {@link IdentityBinder} and
 * {@link ResourcesBinder} bind the identity and resource sections, all with the readers of {@link YamlValues}.
 */
final class ConfigBinder {

    /*
     * Implementation notes: binding never stops at a problem. A value that cannot be bound is
     * reported at its own location and replaced by its default (or null, for values without
     * one), so that the rest of the file is still bound and checked. Indexes must keep matching
     * the file for the problems found later, by path, so an unusable item is never just left
     * out of a list: a rules entry that is not a map becomes a nameless placeholder, an any/all
     * entry that is not a map becomes the empty condition, and a list of strings with an
     * unusable item is dropped whole. Keys that belong to features not built yet are
     * recognised, so that their problem says so instead of calling them unknown.
     */

    private static final List<String> ROOT_KEYS = List.of("listen", "watch", "drain_timeout", "admin", "upstream",
            "limits", "clients", "identity", "geoip", "rate_limits", "rate_limit_store", "default", "responses", "rules");
    private static final Set<String> ROOT_NOT_YET = Set.of();
    private static final List<String> ADMIN_KEYS = List.of("listen");
    private static final List<String> UPSTREAM_KEYS =
            List.of("url", "connect_timeout", "response_timeout", "max_connections", "case_insensitive_paths");
    private static final List<String> LIMITS_KEYS = List.of("max_uri_length", "max_header_size", "max_body_size",
            "header_timeout", "idle_timeout", "max_connections", "allow_get_body");
    private static final List<String> CLIENTS_KEYS = List.of("trusted_proxies");
    private static final List<String> RULE_KEYS =
            List.of("name", "match", "require", "action", "deny_status", "rate_limit", "mode");
    private static final Set<String> RULE_NOT_YET = Set.of();
    private static final Map<String, Effect> DEFAULT_ACTIONS = ordered("deny", Effect.DENY, "allow", Effect.ALLOW);
    private static final Map<String, Effect> RULE_ACTIONS = ordered("allow", Effect.ALLOW, "deny", Effect.DENY);
    private static final Map<String, Mode> MODES = ordered("enforce", Mode.ENFORCE, "audit", Mode.AUDIT);
    private static final Map<String, Integer> DENY_STATUSES = ordered("403", 403, "404", 404);

    /** The largest size that fits the {@code int} limits. */
    private static final long MAX_INT_SIZE = Integer.MAX_VALUE;

    private final YamlValues read;
    private final Problems problems;
    private final IdentityBinder identity;
    private final ResourcesBinder resources;

    private ConfigBinder(Problems problems) {
        this.read = new YamlValues(problems);
        this.problems = problems;
        this.identity = new IdentityBinder(read);
        this.resources = new ResourcesBinder(read);
    }

    /** Binds the document; returns null when it is not a mapping at all (reported). */
    static @Nullable GatewayConfig bind(YamlNode root, Problems problems) {
        ConfigBinder binder = new ConfigBinder(problems);
        if (!(root instanceof YamlNode.Mapping mapping)) {
            binder.read.typeProblem(root, "", "a map of settings");
            return null;
        }
        return binder.root(mapping);
    }

    private GatewayConfig root(YamlNode.Mapping mapping) {
        YamlSection root = new YamlSection(read, mapping, "", ROOT_KEYS, ROOT_NOT_YET);
        return new GatewayConfig(
                root.string("listen", GatewayConfig.DEFAULT_LISTEN),
                root.bool("watch", false),
                root.duration("drain_timeout", GatewayConfig.DEFAULT_DRAIN_TIMEOUT, true),
                admin(root.section("admin", ADMIN_KEYS)),
                upstream(root.section("upstream", UPSTREAM_KEYS)),
                limits(root.section("limits", LIMITS_KEYS)),
                clients(root.section("clients", CLIENTS_KEYS)),
                identity.identity(root),
                resources.geoip(root),
                resources.rateLimits(root),
                resources.rateLimitStore(root),
                resources.responses(root),
                root.oneOf("default", "default", DEFAULT_ACTIONS, GatewayConfig.DEFAULT_ACTION),
                rules(root));
    }

    private AdminConfig admin(YamlSection admin) {
        return new AdminConfig(admin.string("listen", AdminConfig.DEFAULT.listen()));
    }

    private UpstreamConfig upstream(YamlSection upstream) {
        return new UpstreamConfig(
                upstream.requiredString("url", "the URL of the protected service, e.g. http://127.0.0.1:3000"),
                upstream.duration("connect_timeout", UpstreamConfig.DEFAULT_CONNECT_TIMEOUT, false),
                upstream.duration("response_timeout", UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT, false),
                upstream.integer("max_connections", UpstreamConfig.DEFAULT_MAX_CONNECTIONS, 1),
                upstream.bool("case_insensitive_paths", false));
    }

    private LimitsConfig limits(YamlSection limits) {
        LimitsConfig defaults = LimitsConfig.DEFAULT;
        return new LimitsConfig(
                limits.size("max_uri_length", defaults.maxUriLength(), 1, MAX_INT_SIZE),
                limits.size("max_header_size", defaults.maxHeaderSize(), 1, MAX_INT_SIZE),
                limits.size("max_body_size", defaults.maxBodySize(), 0, Long.MAX_VALUE),
                limits.duration("header_timeout", defaults.headerTimeout(), false),
                limits.duration("idle_timeout", defaults.idleTimeout(), false),
                limits.integer("max_connections", defaults.maxConnections(), 1),
                limits.bool("allow_get_body", defaults.allowGetBody()));
    }

    private ClientsConfig clients(YamlSection clients) {
        List<String> trusted = clients.strings("trusted_proxies", "a list of CIDRs");
        return new ClientsConfig(trusted == null ? List.of() : trusted);
    }

    private List<RuleConfig> rules(YamlSection root) {
        YamlNode node = root.node("rules");
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence sequence)) {
            read.typeProblem(node, "rules", "a list of rules");
            return List.of();
        }
        List<RuleConfig> rules = new ArrayList<>();
        for (YamlNode item : sequence.items()) {
            String path = KeyPaths.index("rules", rules.size());
            problems.remember(path, item.location());
            if (item instanceof YamlNode.Mapping mapping) {
                rules.add(rule(new YamlSection(read, mapping, path, RULE_KEYS, RULE_NOT_YET)));
            } else {
                read.typeProblem(item, path, "a rule (a map with name, match, action ...)");
                rules.add(new RuleConfig(null, null, null, RuleConfig.DEFAULT_ACTION,
                        RuleConfig.DEFAULT_DENY_STATUS, RuleConfig.DEFAULT_MODE, null));
            }
        }
        return rules;
    }

    private RuleConfig rule(YamlSection rule) {
        return new RuleConfig(
                rule.requiredString("name", "a unique rule name, e.g. block-abusive-networks"),
                optionalCondition(rule, "match"),
                optionalCondition(rule, "require"),
                rule.oneOf("action", "action", RULE_ACTIONS, RuleConfig.DEFAULT_ACTION),
                rule.oneOf("deny_status", "deny_status", DENY_STATUSES, RuleConfig.DEFAULT_DENY_STATUS),
                rule.oneOf("mode", "mode", MODES, RuleConfig.DEFAULT_MODE),
                rule.optionalString("rate_limit"));
    }

    /** {@code match} or {@code require}: absent, or written with no value, means "every request". */
    private @Nullable ConditionConfig optionalCondition(YamlSection owner, String key) {
        YamlNode node = owner.node(key);
        if (node == null || YamlValues.isNull(node)) {
            return null;
        }
        return condition(node, owner.path(key));
    }

    private @Nullable ConditionConfig condition(YamlNode node, String path) {
        if (!(node instanceof YamlNode.Mapping mapping)) {
            read.typeProblem(node, path, "a condition (a map with paths, methods, ip ...)");
            return null;
        }
        YamlSection condition = new YamlSection(read, mapping, path, ConditionKeys.NAMES, ConditionKeys.NOT_YET);
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConditionKey<?> key : ConditionKeys.ALL) {
            YamlNode value = condition.node(key.name());
            if (value != null) {
                Object bound = key.bind(value, condition.path(key.name()), conditionReader);
                if (bound != null) {
                    values.put(key.name(), bound);
                }
            }
        }
        return new ConditionConfig(values);
    }

    private @Nullable List<ConditionConfig> conditions(YamlNode node, String path) {
        if (!(node instanceof YamlNode.Sequence sequence)) {
            read.typeProblem(node, path, "a list of conditions");
            return null;
        }
        List<ConditionConfig> conditions = new ArrayList<>();
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            ConditionConfig condition = condition(item, itemPath);
            conditions.add(condition == null ? ConditionConfig.ALWAYS : condition);
        }
        return conditions;
    }

    /** The YAML readers condition keys bind with. */
    private final ConditionKey.Reader conditionReader = new ConditionKey.Reader() {
        @Override
        public @Nullable List<String> strings(YamlNode node, String path, String expected) {
            return read.strings(node, path, expected);
        }

        @Override
        public @Nullable Boolean bool(YamlNode node, String path) {
            return read.bool(node, path);
        }

        @Override
        public @Nullable Map<String, List<String>> stringLists(
                YamlNode node, String path, String expected, ConditionKey.ListReader values) {
            return read.stringLists(node, path, expected, values);
        }

        @Override
        public @Nullable Map<String, YamlNode> section(YamlNode node, String path, List<String> keys, String expected) {
            if (!(node instanceof YamlNode.Mapping mapping)) {
                read.typeProblem(node, path, expected);
                return null;
            }
            return new YamlSection(read, mapping, path, keys, Set.of()).values();
        }

        @Override
        public @Nullable ConditionConfig condition(YamlNode node, String path) {
            return ConfigBinder.this.condition(node, path);
        }

        @Override
        public @Nullable List<ConditionConfig> conditions(YamlNode node, String path) {
            return ConfigBinder.this.conditions(node, path);
        }

        @Override
        public @Nullable String string(YamlNode node, String path) {
            return read.string(node, path);
        }

        @Override
        public ConditionKey.ListReader claimValues() {
            return read::claimValues;
        }
    };

    private static <T> Map<String, T> ordered(String firstKey, T first, String secondKey, T second) {
        Map<String, T> map = new LinkedHashMap<>();
        map.put(firstKey, first);
        map.put(secondKey, second);
        return map;
    }
}
