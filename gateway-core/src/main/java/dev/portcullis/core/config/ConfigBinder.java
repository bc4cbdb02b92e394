package dev.portcullis.core.config;

import dev.portcullis.core.identity.JwtProviderSettings;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Mode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Binds a located YAML tree to the {@code *Config} records, reporting unknown keys, wrong types and bad values. */
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
            "limits", "clients", "identity", "geoip", "rate_limits", "default", "responses", "rules");
    private static final Set<String> ROOT_NOT_YET = Set.of();
    private static final List<String> ADMIN_KEYS = List.of("listen");
    private static final List<String> UPSTREAM_KEYS =
            List.of("url", "connect_timeout", "response_timeout", "max_connections", "case_insensitive_paths");
    private static final List<String> LIMITS_KEYS = List.of("max_uri_length", "max_header_size", "max_body_size",
            "header_timeout", "idle_timeout", "max_connections", "allow_get_body");
    private static final List<String> CLIENTS_KEYS = List.of("trusted_proxies");
    private static final List<String> IDENTITY_KEYS = List.of("jwt", "forwarded", "upstream_headers");
    private static final List<String> JWT_KEYS = List.of("issuer", "audience", "algorithms", "jwks_file", "jwks_url",
            "public_key_file", "secret_env", "jwks_refresh", "subject_claim", "roles_claim", "clock_skew", "require_exp",
            "types");
    private static final List<String> FORWARDED_KEYS = List.of("trusted_proxies", "user_header", "roles_header");
    private static final List<String> UPSTREAM_HEADERS_KEYS = List.of("subject", "roles");
    private static final List<String> RULE_KEYS =
            List.of("name", "match", "require", "action", "deny_status", "rate_limit", "mode");
    private static final Set<String> RULE_NOT_YET = Set.of();
    private static final List<String> GEOIP_KEYS = List.of("database", "asn_database");
    private static final List<String> RATE_LIMIT_KEYS = List.of("key", "limit", "per", "burst", "scope");
    private static final List<String> RESPONSE_KEYS = List.of("content_type", "body", "body_file");
    private static final Map<String, Effect> DEFAULT_ACTIONS = ordered("deny", Effect.DENY, "allow", Effect.ALLOW);
    private static final Map<String, Effect> RULE_ACTIONS = ordered("allow", Effect.ALLOW, "deny", Effect.DENY);
    private static final Map<String, Mode> MODES = ordered("enforce", Mode.ENFORCE, "audit", Mode.AUDIT);
    private static final Map<String, Integer> DENY_STATUSES = ordered("403", 403, "404", 404);

    /** The largest size that fits the {@code int} limits. */
    private static final long MAX_INT_SIZE = Integer.MAX_VALUE;

    private final Problems problems;

    private ConfigBinder(Problems problems) {
        this.problems = problems;
    }

    /** Binds the document; returns null when it is not a mapping at all (reported). */
    static @Nullable GatewayConfig bind(YamlNode root, Problems problems) {
        ConfigBinder binder = new ConfigBinder(problems);
        if (!(root instanceof YamlNode.Mapping mapping)) {
            binder.typeProblem(root, "", "a map of settings");
            return null;
        }
        return binder.root(mapping);
    }

    private GatewayConfig root(YamlNode.Mapping mapping) {
        Section root = new Section(mapping, "", ROOT_KEYS, ROOT_NOT_YET);
        return new GatewayConfig(
                root.string("listen", GatewayConfig.DEFAULT_LISTEN),
                root.bool("watch", false),
                root.duration("drain_timeout", GatewayConfig.DEFAULT_DRAIN_TIMEOUT, true),
                admin(root.section("admin", ADMIN_KEYS)),
                upstream(root.section("upstream", UPSTREAM_KEYS)),
                limits(root.section("limits", LIMITS_KEYS)),
                clients(root.section("clients", CLIENTS_KEYS)),
                identity(root.section("identity", IDENTITY_KEYS)),
                geoip(root.section("geoip", GEOIP_KEYS)),
                rateLimits(root),
                responses(root),
                root.oneOf("default", "default", DEFAULT_ACTIONS, GatewayConfig.DEFAULT_ACTION),
                rules(root));
    }

    private GeoIpConfig geoip(Section geoip) {
        return new GeoIpConfig(geoip.optionalString("database"), geoip.optionalString("asn_database"));
    }

    /** {@code rate_limits}: a map of limiter name to its settings, in file order. */
    private List<RateLimitConfig> rateLimits(Section root) {
        List<RateLimitConfig> limiters = new ArrayList<>();
        YamlNode node = root.node("rate_limits");
        if (node == null || isNull(node)) {
            return limiters;
        }
        if (!(node instanceof YamlNode.Mapping mapping)) {
            typeProblem(node, "rate_limits", "a map of limiter names to {key, limit, per, burst}");
            return limiters;
        }
        for (YamlNode.Entry entry : mapping.entries()) {
            String path = KeyPaths.key("rate_limits", entry.key());
            problems.remember(path, entry.keyLocation());
            if (!(entry.value() instanceof YamlNode.Mapping settings)) {
                typeProblem(entry.value(), path, "a limiter, e.g. { key: subject, limit: 100, per: 1m }");
                continue;
            }
            Section limiter = new Section(settings, path, RATE_LIMIT_KEYS, Set.of());
            Integer limit = limiter.node("limit") == null ? null : limiter.optionalInteger("limit", 1);
            if (limiter.node("limit") == null) {
                problems.add(path, "required key limit is missing (expected: the number of requests per `per`, e.g. 100)");
            }
            if (limiter.node("per") == null) {
                problems.add(path, "required key per is missing (expected: the refill period, e.g. 1m)");
            }
            limiters.add(new RateLimitConfig(entry.key(),
                    limiter.requiredString("key", "subject, client_ip or header:<Name>"),
                    limit == null ? null : limit.longValue(),
                    limiter.optionalDuration("per", false),
                    limiter.integer("burst", 0, 0),
                    limiter.string("scope", "local")));
        }
        return limiters;
    }

    /** {@code responses}: a map of status to the body that replaces the gateway's, in file order. */
    private List<ResponseConfig> responses(Section root) {
        List<ResponseConfig> responses = new ArrayList<>();
        YamlNode node = root.node("responses");
        if (node == null || isNull(node)) {
            return responses;
        }
        if (!(node instanceof YamlNode.Mapping mapping)) {
            typeProblem(node, "responses", "a map of statuses to { body | body_file, content_type }");
            return responses;
        }
        for (YamlNode.Entry entry : mapping.entries()) {
            String path = KeyPaths.key("responses", entry.key());
            problems.remember(path, entry.keyLocation());
            Integer status = ConfigValues.status(entry.key());
            if (status == null) {
                problems.add(entry.keyLocation(), path, ConfigValues.quote(entry.key())
                        + " is not a status (expected: a status the gateway answers, e.g. 403)");
                continue;
            }
            if (!(entry.value() instanceof YamlNode.Mapping settings)) {
                typeProblem(entry.value(), path, "a response, e.g. { body: '...', content_type: text/plain }");
                continue;
            }
            Section response = new Section(settings, path, RESPONSE_KEYS, Set.of());
            responses.add(new ResponseConfig(status, response.optionalString("content_type"),
                    response.optionalString("body"), response.optionalString("body_file")));
        }
        return responses;
    }

    private AdminConfig admin(Section admin) {
        return new AdminConfig(admin.string("listen", AdminConfig.DEFAULT.listen()));
    }

    private UpstreamConfig upstream(Section upstream) {
        return new UpstreamConfig(
                upstream.requiredString("url", "the URL of the protected service, e.g. http://127.0.0.1:3000"),
                upstream.duration("connect_timeout", UpstreamConfig.DEFAULT_CONNECT_TIMEOUT, false),
                upstream.duration("response_timeout", UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT, false),
                upstream.integer("max_connections", UpstreamConfig.DEFAULT_MAX_CONNECTIONS, 1),
                upstream.bool("case_insensitive_paths", false));
    }

    private LimitsConfig limits(Section limits) {
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

    private ClientsConfig clients(Section clients) {
        List<String> trusted = clients.strings("trusted_proxies", "a list of CIDRs");
        return new ClientsConfig(trusted == null ? List.of() : trusted);
    }

    private IdentityConfig identity(Section identity) {
        List<JwtProviderConfig> jwt = jwtProviders(identity);
        ForwardedConfig forwarded = forwarded(identity);
        Section upstream = identity.section("upstream_headers", UPSTREAM_HEADERS_KEYS);
        UpstreamHeadersConfig defaults = UpstreamHeadersConfig.DEFAULT;
        return new IdentityConfig(jwt, forwarded, new UpstreamHeadersConfig(
                upstream.string("subject", defaults.subject()), upstream.string("roles", defaults.roles())));
    }

    /** {@code identity.jwt}: one provider map, or a list of them. */
    private List<JwtProviderConfig> jwtProviders(Section identity) {
        YamlNode node = identity.node("jwt");
        if (node == null || isNull(node)) {
            return List.of();
        }
        String path = identity.path("jwt");
        if (node instanceof YamlNode.Mapping mapping) {
            return List.of(jwtProvider(new Section(mapping, path, JWT_KEYS, Set.of())));
        }
        if (!(node instanceof YamlNode.Sequence sequence)) {
            typeProblem(node, path, "a jwt provider (a map with issuer, jwks_url ...) or a list of them");
            return List.of();
        }
        if (sequence.items().isEmpty()) {
            problems.add(node.location(), path, "empty list (expected: at least one jwt provider)");
        }
        List<JwtProviderConfig> providers = new ArrayList<>();
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            if (item instanceof YamlNode.Mapping mapping) {
                providers.add(jwtProvider(new Section(mapping, itemPath, JWT_KEYS, Set.of())));
            } else {
                typeProblem(item, itemPath, "a jwt provider (a map with issuer, jwks_url ...)");
            }
        }
        return providers;
    }

    private JwtProviderConfig jwtProvider(Section provider) {
        return new JwtProviderConfig(
                provider.path,
                provider.optionalString("issuer"),
                audience(provider),
                provider.strings("algorithms", "a list of algorithms, e.g. [RS256, ES256]"),
                provider.optionalString("jwks_file"),
                provider.optionalString("jwks_url"),
                provider.optionalString("public_key_file"),
                provider.optionalString("secret_env"),
                provider.optionalDuration("jwks_refresh", false),
                provider.string("subject_claim", JwtProviderSettings.DEFAULT_SUBJECT_CLAIM),
                provider.string("roles_claim", JwtProviderSettings.DEFAULT_ROLES_CLAIM),
                provider.duration("clock_skew", JwtProviderSettings.DEFAULT_CLOCK_SKEW, true),
                provider.bool("require_exp", true),
                provider.strings("types", "a list of typ header values, e.g. [at+jwt, JWT]"));
    }

    /** {@code audience}: one string or a list of them; empty when not written or unusable (reported). */
    private List<String> audience(Section provider) {
        YamlNode node = provider.node("audience");
        if (node == null) {
            return List.of();
        }
        String path = provider.path("audience");
        if (node instanceof YamlNode.Sequence) {
            List<String> audiences = strings(node, path, "a list of audiences");
            return audiences == null ? List.of() : audiences;
        }
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, "an audience or a list of them, e.g. [orders-api]");
            return List.of();
        }
        return List.of(text);
    }

    /** {@code identity.forwarded}: null when not written, written with no value, or not a map (reported). */
    private @Nullable ForwardedConfig forwarded(Section identity) {
        YamlNode node = identity.node("forwarded");
        Section forwarded = identity.section("forwarded", FORWARDED_KEYS);
        if (!(node instanceof YamlNode.Mapping)) {
            return null;
        }
        return new ForwardedConfig(
                forwarded.requiredStrings("trusted_proxies",
                        "a list of CIDRs: the authenticating proxy's address, e.g. [\"10.0.0.7/32\"]"),
                forwarded.requiredString("user_header", "the header naming the user, e.g. X-Forwarded-User"),
                forwarded.optionalString("roles_header"));
    }

    private List<RuleConfig> rules(Section root) {
        YamlNode node = root.node("rules");
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence sequence)) {
            typeProblem(node, "rules", "a list of rules");
            return List.of();
        }
        List<RuleConfig> rules = new ArrayList<>();
        for (YamlNode item : sequence.items()) {
            String path = KeyPaths.index("rules", rules.size());
            problems.remember(path, item.location());
            if (item instanceof YamlNode.Mapping mapping) {
                rules.add(rule(new Section(mapping, path, RULE_KEYS, RULE_NOT_YET)));
            } else {
                typeProblem(item, path, "a rule (a map with name, match, action ...)");
                rules.add(new RuleConfig(null, null, null, RuleConfig.DEFAULT_ACTION,
                        RuleConfig.DEFAULT_DENY_STATUS, RuleConfig.DEFAULT_MODE, null));
            }
        }
        return rules;
    }

    private RuleConfig rule(Section rule) {
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
    private @Nullable ConditionConfig optionalCondition(Section owner, String key) {
        YamlNode node = owner.node(key);
        if (node == null || isNull(node)) {
            return null;
        }
        return condition(node, owner.path(key));
    }

    private @Nullable ConditionConfig condition(YamlNode node, String path) {
        if (!(node instanceof YamlNode.Mapping mapping)) {
            typeProblem(node, path, "a condition (a map with paths, methods, ip ...)");
            return null;
        }
        Section condition = new Section(mapping, path, ConditionKeys.NAMES, ConditionKeys.NOT_YET);
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
            typeProblem(node, path, "a list of conditions");
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

    /**
     * A map of names (claim paths, header names) to lists read by {@code values}. The name is the value checked
     * later, so problems about it point at the key. Entries with unusable values are left out; left with none,
     * the key is as good as unwritten.
     */
    private @Nullable Map<String, List<String>> stringLists(
            YamlNode node, String path, String expected, ConditionKey.ListReader values) {
        if (!(node instanceof YamlNode.Mapping mapping)) {
            typeProblem(node, path, expected);
            return null;
        }
        Map<String, List<String>> lists = new LinkedHashMap<>();
        for (YamlNode.Entry entry : mapping.entries()) {
            String entryPath = KeyPaths.key(path, entry.key());
            problems.remember(entryPath, entry.keyLocation());
            List<String> list = values.read(entry.value(), entryPath);
            if (list != null) {
                lists.put(entry.key(), list);
            }
        }
        return lists.isEmpty() && !mapping.entries().isEmpty() ? null : lists;
    }

    /** The YAML readers condition keys bind with. */
    private final ConditionKey.Reader conditionReader = new ConditionKey.Reader() {
        @Override
        public @Nullable List<String> strings(YamlNode node, String path, String expected) {
            return ConfigBinder.this.strings(node, path, expected);
        }

        @Override
        public @Nullable Boolean bool(YamlNode node, String path) {
            return ConfigBinder.this.bool(node, path);
        }

        @Override
        public @Nullable Map<String, List<String>> stringLists(
                YamlNode node, String path, String expected, ConditionKey.ListReader values) {
            return ConfigBinder.this.stringLists(node, path, expected, values);
        }

        @Override
        public @Nullable Map<String, YamlNode> section(YamlNode node, String path, List<String> keys, String expected) {
            if (!(node instanceof YamlNode.Mapping mapping)) {
                typeProblem(node, path, expected);
                return null;
            }
            return new Section(mapping, path, keys, Set.of()).values();
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
            return ConfigBinder.this.string(node, path);
        }

        @Override
        public ConditionKey.ListReader claimValues() {
            return ConfigBinder.this::claimValues;
        }
    };

    private @Nullable List<String> claimValues(YamlNode node, String path) {
        if (!(node instanceof YamlNode.Sequence sequence)) {
            typeProblem(node, path, "a list of claim values, e.g. [acme]");
            return null;
        }
        List<String> values = new ArrayList<>();
        boolean complete = true;
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            String value = claimValue(item, itemPath);
            if (value == null) {
                complete = false;
            } else {
                values.add(value);
            }
        }
        return complete ? values : null;
    }

    /** A claim value as the text it compares by: {@code 42}, {@code 1.5}, {@code true} (see ClaimPath.matchesAny). */
    private @Nullable String claimValue(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar scalar) {
            switch (scalar.kind()) {
                case STRING -> {
                    return scalar.text();
                }
                case INTEGER, DECIMAL -> {
                    return ConfigValues.claimNumber(scalar.text());
                }
                case BOOLEAN -> {
                    return scalar.text().toLowerCase(Locale.ROOT);
                }
                case INVALID -> {
                    return null;
                }
                default -> {
                    // null: reported below
                }
            }
        }
        typeProblem(node, path, "a string, number or boolean");
        return null;
    }

    private @Nullable List<String> strings(YamlNode node, String path, String expected) {
        if (!(node instanceof YamlNode.Sequence sequence)) {
            typeProblem(node, path, expected);
            return null;
        }
        List<String> strings = new ArrayList<>();
        boolean complete = true;
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            String value = string(item, itemPath);
            if (value == null) {
                complete = false;
            } else {
                strings.add(value);
            }
        }
        return complete ? strings : null;
    }

    private @Nullable String string(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar scalar) {
            switch (scalar.kind()) {
                case STRING, INTEGER, DECIMAL -> {
                    return scalar.text();
                }
                case INVALID -> {
                    return null;
                }
                default -> {
                    // a boolean or null where text was expected: reported below
                }
            }
        }
        typeProblem(node, path, "a string");
        return null;
    }

    private @Nullable Boolean bool(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar scalar && scalar.kind() == YamlNode.Kind.BOOLEAN) {
            return Boolean.parseBoolean(scalar.text());
        }
        typeProblem(node, path, "true or false");
        return null;
    }

    private @Nullable Integer integer(YamlNode node, String path, int min) {
        if (!(node instanceof YamlNode.Scalar scalar)
                || scalar.kind() != YamlNode.Kind.INTEGER
                || !ConfigValues.isInteger(scalar.text())) {
            typeProblem(node, path, "an integer");
            return null;
        }
        long value;
        try {
            value = Long.parseLong(scalar.text());
        } catch (NumberFormatException e) {
            value = Long.MAX_VALUE;
        }
        if (value < min) {
            problems.add(node.location(), path, scalar.text() + " is out of range (expected: at least " + min + ")");
            return null;
        }
        if (value > Integer.MAX_VALUE) {
            problems.add(node.location(), path,
                    scalar.text() + " is out of range (expected: at most " + Integer.MAX_VALUE + ")");
            return null;
        }
        return (int) value;
    }

    private @Nullable Duration duration(YamlNode node, String path, boolean allowZero) {
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, "a duration, e.g. 10s");
            return null;
        }
        try {
            Duration duration = ConfigValues.parseDuration(text);
            if (duration.isZero() && !allowZero) {
                problems.add(node.location(), path,
                        ConfigValues.quote(text) + " is too short (expected: more than 0, e.g. 10s)");
                return null;
            }
            return duration;
        } catch (IllegalArgumentException e) {
            problems.add(node.location(), path, ConfigValues.messageOf(e));
            return null;
        }
    }

    private @Nullable Long size(YamlNode node, String path, long min, long max) {
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, "a size, e.g. 16KiB");
            return null;
        }
        try {
            long size = ConfigValues.parseSize(text);
            if (size < min) {
                problems.add(node.location(), path,
                        ConfigValues.quote(text) + " is too small (expected: at least " + min + " byte)");
                return null;
            }
            if (size > max) {
                problems.add(node.location(), path,
                        ConfigValues.quote(text) + " is too large (expected: less than 2GiB)");
                return null;
            }
            return size;
        } catch (IllegalArgumentException e) {
            problems.add(node.location(), path, ConfigValues.messageOf(e));
            return null;
        }
    }

    private <T> @Nullable T oneOf(YamlNode node, String path, String thing, Map<String, T> options) {
        String alternatives = alternatives(options.keySet());
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, alternatives);
            return null;
        }
        T value = options.get(text);
        if (value == null) {
            problems.add(node.location(), path,
                    describe(node) + " is not a valid " + thing + " (expected: " + alternatives + ")");
        }
        return value;
    }

    /** The text of a string or number scalar; null for anything else. */
    private static @Nullable String textOf(YamlNode node) {
        if (node instanceof YamlNode.Scalar scalar) {
            YamlNode.Kind kind = scalar.kind();
            if (kind == YamlNode.Kind.STRING || kind == YamlNode.Kind.INTEGER || kind == YamlNode.Kind.DECIMAL) {
                return scalar.text();
            }
        }
        return null;
    }

    private void typeProblem(YamlNode node, String path, String expected) {
        if (node instanceof YamlNode.Scalar scalar && scalar.kind() == YamlNode.Kind.INVALID) {
            return;
        }
        problems.add(node.location(), path, "expected " + expected + ", got " + describe(node));
    }

    private static String describe(YamlNode node) {
        if (node instanceof YamlNode.Mapping) {
            return "a map";
        }
        if (node instanceof YamlNode.Sequence) {
            return "a list";
        }
        YamlNode.Scalar scalar = (YamlNode.Scalar) node;
        return scalar.kind() == YamlNode.Kind.STRING ? ConfigValues.quote(scalar.text()) : scalar.text();
    }

    private static boolean isNull(YamlNode node) {
        return node instanceof YamlNode.Scalar scalar && scalar.kind() == YamlNode.Kind.NULL;
    }

    private static String alternatives(Set<String> options) {
        List<String> list = List.copyOf(options);
        if (list.size() == 1) {
            return list.get(0);
        }
        return String.join(", ", list.subList(0, list.size() - 1)) + " or " + list.get(list.size() - 1);
    }

    private static <T> Map<String, T> ordered(String firstKey, T first, String secondKey, T second) {
        Map<String, T> map = new LinkedHashMap<>();
        map.put(firstKey, first);
        map.put(secondKey, second);
        return map;
    }

    /** One mapping being bound: reports unknown and not-yet-supported keys, then hands out typed values. */
    private final class Section {

        private final String path;
        private final Map<String, YamlNode> values = new HashMap<>();

        /** A section that was not written: every value is its default. */
        Section(String path) {
            this.path = path;
        }

        Section(YamlNode.Mapping mapping, String path, List<String> keys, Set<String> notYet) {
            this.path = path;
            problems.remember(path, mapping.location());
            for (YamlNode.Entry entry : mapping.entries()) {
                String key = entry.key();
                String keyPath = KeyPaths.key(path, key);
                if (!keys.contains(key)) {
                    problems.add(entry.keyLocation(), keyPath, "unknown key " + ConfigValues.quote(key)
                            + " (expected one of: " + String.join(", ", keys) + ")");
                } else if (notYet.contains(key)) {
                    problems.add(entry.keyLocation(), keyPath, key + " is not supported yet");
                } else {
                    values.put(key, entry.value());
                    problems.remember(keyPath, entry.value().location());
                }
            }
        }

        String path(String key) {
            return KeyPaths.key(path, key);
        }

        /** The written, known keys and their values. */
        Map<String, YamlNode> values() {
            return values;
        }

        @Nullable YamlNode node(String key) {
            return values.get(key);
        }

        /** A nested section; absent or written with no value means all defaults. */
        Section section(String key, List<String> keys) {
            YamlNode node = values.get(key);
            if (node instanceof YamlNode.Mapping mapping) {
                return new Section(mapping, path(key), keys, Set.of());
            }
            if (node != null && !isNull(node)) {
                typeProblem(node, path(key), "a map");
            }
            return new Section(path(key));
        }

        String string(String key, String fallback) {
            YamlNode node = values.get(key);
            String value = node == null ? null : ConfigBinder.this.string(node, path(key));
            return value == null ? fallback : value;
        }

        /** The string at {@code key}; null when not written, or unusable (reported). */
        @Nullable String optionalString(String key) {
            YamlNode node = values.get(key);
            return node == null ? null : ConfigBinder.this.string(node, path(key));
        }

        @Nullable String requiredString(String key, String expected) {
            YamlNode node = values.get(key);
            if (node == null) {
                problems.add(path(key), "required key is missing (expected: " + expected + ")");
                return null;
            }
            return ConfigBinder.this.string(node, path(key));
        }

        boolean bool(String key, boolean fallback) {
            YamlNode node = values.get(key);
            Boolean value = node == null ? null : ConfigBinder.this.bool(node, path(key));
            return value == null ? fallback : value;
        }

        /** The boolean at {@code key}; null when not written, or unusable (reported). */
        @Nullable Boolean optionalBool(String key) {
            YamlNode node = values.get(key);
            return node == null ? null : ConfigBinder.this.bool(node, path(key));
        }

        /** The integer at {@code key}; null when not written, or unusable (reported). */
        @Nullable Integer optionalInteger(String key, int min) {
            YamlNode node = values.get(key);
            return node == null ? null : ConfigBinder.this.integer(node, path(key), min);
        }

        int integer(String key, int fallback, int min) {
            YamlNode node = values.get(key);
            Integer value = node == null ? null : ConfigBinder.this.integer(node, path(key), min);
            return value == null ? fallback : value;
        }

        Duration duration(String key, Duration fallback, boolean allowZero) {
            YamlNode node = values.get(key);
            Duration value = node == null ? null : ConfigBinder.this.duration(node, path(key), allowZero);
            return value == null ? fallback : value;
        }

        /** The duration at {@code key}; null when not written, or unusable (reported). */
        @Nullable Duration optionalDuration(String key, boolean allowZero) {
            YamlNode node = values.get(key);
            return node == null ? null : ConfigBinder.this.duration(node, path(key), allowZero);
        }

        long size(String key, long fallback, long min, long max) {
            YamlNode node = values.get(key);
            Long value = node == null ? null : ConfigBinder.this.size(node, path(key), min, max);
            return value == null ? fallback : value;
        }

        <T> T oneOf(String key, String thing, Map<String, T> options, T fallback) {
            YamlNode node = values.get(key);
            T value = node == null ? null : ConfigBinder.this.oneOf(node, path(key), thing, options);
            return value == null ? fallback : value;
        }

        @Nullable List<String> strings(String key, String expected) {
            YamlNode node = values.get(key);
            return node == null ? null : ConfigBinder.this.strings(node, path(key), expected);
        }

        /** The list of strings at {@code key}; null when missing or unusable (both reported). */
        @Nullable List<String> requiredStrings(String key, String expected) {
            YamlNode node = values.get(key);
            if (node == null) {
                problems.add(path(key), "required key is missing (expected: " + expected + ")");
                return null;
            }
            return ConfigBinder.this.strings(node, path(key), expected);
        }
    }
}
