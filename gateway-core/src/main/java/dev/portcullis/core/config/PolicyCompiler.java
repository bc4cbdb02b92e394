package dev.portcullis.core.config;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.policy.AllOf;
import dev.portcullis.core.policy.AnyOf;
import dev.portcullis.core.policy.AuthenticatedMatcher;
import dev.portcullis.core.policy.ClaimMatcher;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.HeaderMatcher;
import dev.portcullis.core.policy.HostMatcher;
import dev.portcullis.core.policy.HostPattern;
import dev.portcullis.core.policy.IpMatcher;
import dev.portcullis.core.policy.MethodMatcher;
import dev.portcullis.core.policy.Mode;
import dev.portcullis.core.policy.Not;
import dev.portcullis.core.policy.PathGlob;
import dev.portcullis.core.policy.PathMatcher;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.RoleBits;
import dev.portcullis.core.policy.RoleMatcher;
import dev.portcullis.core.policy.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** Compiles the rules of a {@link GatewayConfig} into a {@link Policy}, reporting each element that fails. */
final class PolicyCompiler {

    /*
     * Implementation notes: the element factories of the policy and net packages (PathGlob,
     * HostPattern, Cidr, method checks) are the validators of their syntax; their exception
     * messages already show the value and what was expected, so they are reported as they are,
     * at the element's own path. Compilation carries on past a failed element to find the
     * next problem; rules and the Policy are only built from a config without any. Empty
     * lists are left out here: ConfigValidator reports them, in the config's own words.
     */

    private final Problems problems;
    private final boolean caseInsensitivePaths;
    private final boolean hasCountryDatabase;
    private final boolean hasAsnDatabase;
    private final List<String> limiters = new ArrayList<>();
    private final RoleBits roleBits = new RoleBits();

    private PolicyCompiler(Problems problems, boolean caseInsensitivePaths, boolean hasCountryDatabase,
            boolean hasAsnDatabase) {
        this.problems = problems;
        this.caseInsensitivePaths = caseInsensitivePaths;
        this.hasCountryDatabase = hasCountryDatabase;
        this.hasAsnDatabase = hasAsnDatabase;
    }

    /** Compiles the rules and default; returns null if this or any earlier step reported a problem. */
    static @Nullable Policy compile(GatewayConfig config, Problems problems) {
        return compile(config, problems, RuleIndexBudget.ofThisJvm());
    }

    /**
     * As {@link #compile(GatewayConfig, Problems)}, refusing rules whose index would take more than {@code indexBudget}
     * bytes ({@link RuleIndexBudget}).
     */
    static @Nullable Policy compile(GatewayConfig config, Problems problems, long indexBudget) {
        // whether a database was written, not whether it was found: a missing file is reported once, at its key
        return new PolicyCompiler(problems, config.upstream().caseInsensitivePaths(),
                config.geoip().database() != null, config.geoip().asnDatabase() != null).policy(config, indexBudget);
    }

    private @Nullable Policy policy(GatewayConfig config, long indexBudget) {
        for (RateLimitConfig limiter : config.rateLimits()) {
            limiters.add(limiter.name());
        }
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < config.rules().size(); i++) {
            Rule rule = rule(config.rules().get(i), KeyPaths.index("rules", i));
            if (rule != null) {
                rules.add(rule);
            }
        }
        roleBits.freeze();
        if (!problems.isEmpty()) {
            return null;
        }
        RuleIndexBudget.check(config.rules(), indexBudget, problems);
        if (!problems.isEmpty()) {
            return null;
        }
        try {
            return new Policy(rules, config.defaultAction(), caseInsensitivePaths);
        } catch (IllegalArgumentException e) {
            problems.add("rules", ConfigValues.messageOf(e));
            return null;
        }
    }

    private @Nullable Rule rule(RuleConfig rule, String path) {
        RequestMatcher match = condition(rule.match(), KeyPaths.key(path, "match"));
        RequestMatcher require = condition(rule.require(), KeyPaths.key(path, "require"));
        String limiter = rule.rateLimit();
        if (limiter != null && !limiters.contains(limiter)) {
            problems.add(KeyPaths.key(path, "rate_limit"), ConfigValues.quote(limiter) + " is not a rate limiter"
                    + (limiters.isEmpty() ? " (expected: a name defined under rate_limits; there are none)"
                            : " (expected one of: " + String.join(", ", limiters) + ")"));
        }
        if (limiter != null && rule.action() == Effect.DENY) {
            problems.add(KeyPaths.key(path, "rate_limit"),
                    "rate_limit is only allowed on rules with action allow (this rule has action deny)");
        } else if (limiter != null && rule.mode() == Mode.AUDIT) {
            // an audit rule records only its allow or deny: counting its requests would take tokens an enforcing
            // rule sharing the limiter needs, so its limiter is not applied, and a dry run shows no 429
            problems.warn(KeyPaths.key(path, "rate_limit"), "rate_limit has no effect on a rule with mode audit:"
                    + " its requests are neither counted nor limited, and its audit outcome never says 429"
                    + " (expected: no rate_limit here, or mode enforce)");
        }
        warnOfGetWithoutHead(rule, path);
        String name = rule.name();
        if (name == null || !problems.isEmpty()) {
            return null;
        }
        try {
            return new Rule(name, match, require, rule.action(), rule.denyStatus(), rule.mode(), rule.rateLimit());
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigValues.messageOf(e));
            return null;
        }
    }

    /**
     * A rule that restricts access and lists GET but not HEAD treats HEAD otherwise than GET, though most upstreams
     * answer HEAD with their GET handler (nginx's {@code limit_except GET} allows HEAD too): a HEAD request does not
     * hold in its {@code match} and goes on to the next rules, where a deny rule or a {@code require} meant to stop
     * it; in its {@code require}, HEAD is denied where GET is allowed. Only the top-level {@code methods} of each.
     */
    private void warnOfGetWithoutHead(RuleConfig rule, String path) {
        boolean restricts = rule.action() == Effect.DENY || rule.require() != null && !rule.require().isEmpty();
        if (restricts) {
            warnOfGetWithoutHead(rule.match(), KeyPaths.key(path, "match"),
                    "a HEAD request is not matched by this rule and goes on to the rules after it");
        }
        if (rule.action() == Effect.ALLOW) {
            warnOfGetWithoutHead(rule.require(), KeyPaths.key(path, "require"),
                    "a HEAD request this rule matches is denied while GET is allowed");
        }
    }

    private void warnOfGetWithoutHead(@Nullable ConditionConfig condition, String path, String outcome) {
        List<String> methods = condition == null ? null : condition.value(ConditionKeys.METHODS);
        if (methods == null || !methods.contains("GET") || methods.contains("HEAD")) {
            return;
        }
        List<String> expected = new ArrayList<>(methods);
        expected.add(expected.indexOf("GET") + 1, "HEAD");
        problems.warn(KeyPaths.key(path, "methods"), "GET without HEAD: " + outcome + ", though most upstreams"
                + " answer HEAD with their GET handler (expected: " + expected + ")");
    }

    /** The matcher for a condition: its keys ANDed in the order of SPEC 3.2; no condition or no keys holds always. */
    private RequestMatcher condition(@Nullable ConditionConfig condition, String path) {
        if (condition == null || condition.isEmpty()) {
            return RequestMatcher.always();
        }
        List<RequestMatcher> parts = new ArrayList<>();
        for (ConditionKey<?> key : ConditionKeys.ALL) {
            Object value = condition.values().get(key.name());
            if (value != null) {
                key.compileBound(value, KeyPaths.key(path, key.name()), keys, parts);
            }
        }
        if (parts.isEmpty()) {
            return RequestMatcher.always();
        }
        return parts.size() == 1 ? parts.get(0) : AllOf.of(parts);
    }

    /** What condition keys compile with. */
    private final ConditionKey.Compiler keys = new ConditionKey.Compiler() {
        @Override
        public boolean caseInsensitivePaths() {
            return caseInsensitivePaths;
        }

        @Override
        public boolean hasCountryDatabase() {
            return hasCountryDatabase;
        }

        @Override
        public boolean hasAsnDatabase() {
            return hasAsnDatabase;
        }

        @Override
        public RoleBits roleBits() {
            return roleBits;
        }

        @Override
        public void warning(String path, String message) {
            problems.warn(path, message);
        }

        @Override
        public void problem(String path, String message) {
            problems.add(path, message);
        }

        @Override
        public <E> @Nullable List<E> each(@Nullable List<String> texts, String path, ConditionKey.Factory<E> factory) {
            return PolicyCompiler.this.each(texts, path, factory::apply);
        }

        @Override
        public @Nullable RequestMatcher build(String path, ConditionKey.MatcherFactory factory) {
            try {
                return factory.get();
            } catch (IllegalArgumentException e) {
                problems.add(path, ConfigValues.messageOf(e));
                return null;
            }
        }

        @Override
        public RequestMatcher condition(@Nullable ConditionConfig nested, String path) {
            return PolicyCompiler.this.condition(nested, path);
        }
    };

    /** Applies {@code factory} to each text, reporting each failure at its index; null if any failed. */
    private <T> @Nullable List<T> each(@Nullable List<String> texts, String path, Function<String, T> factory) {
        if (texts == null) {
            return null;
        }
        List<T> compiled = new ArrayList<>(texts.size());
        boolean complete = true;
        for (int i = 0; i < texts.size(); i++) {
            try {
                compiled.add(factory.apply(texts.get(i)));
            } catch (IllegalArgumentException e) {
                problems.add(KeyPaths.index(path, i), ConfigValues.messageOf(e));
                complete = false;
            }
        }
        return complete ? compiled : null;
    }
}
