package dev.portcullis.core.config;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.policy.AllOf;
import dev.portcullis.core.policy.AnyOf;
import dev.portcullis.core.policy.AuthenticatedMatcher;
import dev.portcullis.core.policy.ClaimMatcher;
import dev.portcullis.core.policy.HeaderMatcher;
import dev.portcullis.core.policy.HostMatcher;
import dev.portcullis.core.policy.HostPattern;
import dev.portcullis.core.policy.IpMatcher;
import dev.portcullis.core.policy.MethodMatcher;
import dev.portcullis.core.policy.Not;
import dev.portcullis.core.policy.PathGlob;
import dev.portcullis.core.policy.PathMatcher;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.RoleMatcher;
import dev.portcullis.core.policy.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
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

    private PolicyCompiler(Problems problems, boolean caseInsensitivePaths) {
        this.problems = problems;
        this.caseInsensitivePaths = caseInsensitivePaths;
    }

    /** Compiles the rules and default; returns null if this or any earlier step reported a problem. */
    static @Nullable Policy compile(GatewayConfig config, Problems problems) {
        return new PolicyCompiler(problems, config.upstream().caseInsensitivePaths()).policy(config);
    }

    /** Parses a list of CIDRs such as {@code clients.trusted_proxies}; invalid entries are reported and left out. */
    static CidrSet cidrs(List<String> texts, String path, Problems problems) {
        List<Cidr> cidrs = new PolicyCompiler(problems, false).each(texts, path, Cidr::parse);
        return cidrs == null ? CidrSet.EMPTY : CidrSet.of(cidrs);
    }

    private @Nullable Policy policy(GatewayConfig config) {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < config.rules().size(); i++) {
            Rule rule = rule(config.rules().get(i), KeyPaths.index("rules", i));
            if (rule != null) {
                rules.add(rule);
            }
        }
        if (!problems.isEmpty()) {
            return null;
        }
        try {
            return new Policy(rules, config.defaultAction(), caseInsensitivePaths);
        } catch (IllegalArgumentException e) {
            problems.add("rules", ConfigBinder.messageOf(e));
            return null;
        }
    }

    private @Nullable Rule rule(RuleConfig rule, String path) {
        RequestMatcher match = condition(rule.match(), KeyPaths.key(path, "match"));
        RequestMatcher require = condition(rule.require(), KeyPaths.key(path, "require"));
        String name = rule.name();
        if (name == null || !problems.isEmpty()) {
            return null;
        }
        try {
            return new Rule(name, match, require, rule.action(), rule.denyStatus(), rule.mode());
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigBinder.messageOf(e));
            return null;
        }
    }

    /** The matcher for a condition: its keys ANDed in the order of SPEC 3.2; no condition or no keys holds always. */
    private RequestMatcher condition(@Nullable ConditionConfig condition, String path) {
        if (condition == null || condition.isEmpty()) {
            return RequestMatcher.always();
        }
        List<RequestMatcher> parts = new ArrayList<>();

        String pathsPath = KeyPaths.key(path, "paths");
        List<PathGlob> globs = each(condition.paths(), pathsPath, glob -> PathGlob.compile(glob, caseInsensitivePaths));
        if (globs != null && !globs.isEmpty()) {
            add(parts, pathsPath, () -> PathMatcher.of(globs));
        }

        String methodsPath = KeyPaths.key(path, "methods");
        List<String> methods = each(condition.methods(), methodsPath, method -> {
            MethodMatcher.checkMethod(method);
            return method;
        });
        if (methods != null && !methods.isEmpty()) {
            add(parts, methodsPath, () -> MethodMatcher.of(methods));
        }

        String hostsPath = KeyPaths.key(path, "hosts");
        List<HostPattern> hosts = each(condition.hosts(), hostsPath, HostPattern::compile);
        if (hosts != null && !hosts.isEmpty()) {
            add(parts, hostsPath, () -> HostMatcher.of(hosts));
        }

        String ipPath = KeyPaths.key(path, "ip");
        List<String> ipTexts = condition.ip();
        List<Cidr> cidrs = each(ipTexts, ipPath, Cidr::parse);
        if (ipTexts != null && cidrs != null && !cidrs.isEmpty()) {
            add(parts, ipPath, () -> IpMatcher.of(CidrSet.of(cidrs), ipTexts));
        }

        Boolean authenticated = condition.authenticated();
        if (authenticated != null) {
            parts.add(AuthenticatedMatcher.of(authenticated));
        }

        String rolesPath = KeyPaths.key(path, "roles");
        List<String> roles = each(condition.roles(), rolesPath, RoleMatcher::checkRole);
        if (roles != null && !roles.isEmpty()) {
            add(parts, rolesPath, () -> RoleMatcher.any(roles));
        }
        String allRolesPath = KeyPaths.key(path, "all_roles");
        List<String> allRoles = each(condition.allRoles(), allRolesPath, RoleMatcher::checkRole);
        if (allRoles != null && !allRoles.isEmpty()) {
            add(parts, allRolesPath, () -> RoleMatcher.all(allRoles));
        }

        Map<String, List<String>> claims = condition.claims();
        if (claims != null) {
            String claimsPath = KeyPaths.key(path, "claims");
            claims.forEach((claim, values) -> {
                if (!values.isEmpty()) {
                    add(parts, KeyPaths.key(claimsPath, claim),
                            () -> ClaimMatcher.of(ClaimPath.compile(claim), values));
                }
            });
        }

        Map<String, List<String>> headers = condition.headers();
        if (headers != null && !headers.isEmpty()) {
            String headersPath = KeyPaths.key(path, "headers");
            headers.forEach((name, values) ->
                    add(parts, KeyPaths.key(headersPath, name), () -> HeaderMatcher.of(name, values)));
        }

        List<RequestMatcher> any = conditions(condition.any(), KeyPaths.key(path, "any"));
        if (any != null && !any.isEmpty()) {
            add(parts, KeyPaths.key(path, "any"), () -> AnyOf.of(any));
        }
        List<RequestMatcher> all = conditions(condition.all(), KeyPaths.key(path, "all"));
        if (all != null && !all.isEmpty()) {
            add(parts, KeyPaths.key(path, "all"), () -> AllOf.of(all));
        }
        ConditionConfig not = condition.not();
        if (not != null) {
            RequestMatcher negated = condition(not, KeyPaths.key(path, "not"));
            add(parts, KeyPaths.key(path, "not"), () -> Not.of(negated));
        }

        if (parts.isEmpty()) {
            return RequestMatcher.always();
        }
        return parts.size() == 1 ? parts.get(0) : AllOf.of(parts);
    }

    private @Nullable List<RequestMatcher> conditions(@Nullable List<ConditionConfig> conditions, String path) {
        if (conditions == null) {
            return null;
        }
        List<RequestMatcher> matchers = new ArrayList<>(conditions.size());
        for (int i = 0; i < conditions.size(); i++) {
            matchers.add(condition(conditions.get(i), KeyPaths.index(path, i)));
        }
        return matchers;
    }

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
                problems.add(KeyPaths.index(path, i), ConfigBinder.messageOf(e));
                complete = false;
            }
        }
        return complete ? compiled : null;
    }

    private void add(List<RequestMatcher> parts, String path, Supplier<RequestMatcher> factory) {
        try {
            parts.add(factory.get());
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigBinder.messageOf(e));
        }
    }
}
