package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.Effect.ALLOW;
import static dev.portcullis.core.policy.Effect.DENY;
import static dev.portcullis.core.policy.TestRequests.allRoles;
import static dev.portcullis.core.policy.TestRequests.authenticated;
import static dev.portcullis.core.policy.TestRequests.claim;
import static dev.portcullis.core.policy.TestRequests.forwarded;
import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.header;
import static dev.portcullis.core.policy.TestRequests.hosts;
import static dev.portcullis.core.policy.TestRequests.ip;
import static dev.portcullis.core.policy.TestRequests.jwt;
import static dev.portcullis.core.policy.TestRequests.methods;
import static dev.portcullis.core.policy.TestRequests.paths;
import static dev.portcullis.core.policy.TestRequests.request;
import static dev.portcullis.core.policy.TestRequests.roles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.policy.TestRequests.Req;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The decision table: the primary specification of policy evaluation semantics (SPEC 3.1, 3.2, 3.6). */
class PolicyDecisionTableTest {

    private static final RequestMatcher ALWAYS = RequestMatcher.always();

    private static Rule deny(String name, RequestMatcher match) {
        return new Rule(name, match, ALWAYS, DENY, 403, Mode.ENFORCE);
    }

    private static Rule allow(String name, RequestMatcher match, RequestMatcher require) {
        return new Rule(name, match, require, ALLOW, 403, Mode.ENFORCE);
    }

    private static RequestMatcher all(RequestMatcher... matchers) {
        return AllOf.of(List.of(matchers));
    }

    /** A policy shaped like the SPEC example, without identity, GeoIP and rate limits. */
    private static final Policy MAIN = new Policy(List.of(
            deny("block-abusive-networks", ip("203.0.113.0/24", "2001:db8:bad::/48")),
            new Rule("hide-internal", paths("/internal/**"), ALWAYS, DENY, 404, Mode.ENFORCE),
            allow("health", all(paths("/healthz"), methods("GET")), ALWAYS),
            allow("admin", paths("/admin/**"), all(methods("GET"), ip("10.20.0.0/16"))),
            new Rule("debug", header("X-Debug"), header("X-Debug-Token", "s3cret"), ALLOW, 404, Mode.ENFORCE),
            allow("api", all(paths("/api/**"), hosts("api.example.com", "*.api.example.com")), ALWAYS),
            allow("env", header("X-Env", "staging", "dev"), ALWAYS),
            new Rule("trial", paths("/**"), Not.of(ip("198.51.100.0/24")), ALLOW, 403, Mode.AUDIT),
            allow("purge-or-cache", AnyOf.of(List.of(methods("PURGE"), paths("/cache/*"))),
                    Not.of(hosts("public.example.com")))),
            DENY);

    private static final Policy DEFAULT_ALLOW = new Policy(List.of(
            new Rule("audit-everything", paths("/**"), ALWAYS, DENY, 403, Mode.AUDIT),
            new Rule("audit-admin", paths("/admin/**"), methods("GET"), ALLOW, 404, Mode.AUDIT),
            deny("no-admin", paths("/admin/**"))),
            ALLOW);

    private static final Policy EMPTY = new Policy(List.of(), DENY);

    /** Identity conditions (SPEC 3.2) and the 401 challenge (SPEC 3.6). */
    private static final Policy IDENTITY = new Policy(List.of(
            allow("login-page", paths("/login"), authenticated(false)),
            allow("delete-users", all(paths("/api/users/*"), methods("DELETE")), roles("admin")),
            allow("office-admin", paths("/admin/**"), all(ip("10.20.0.0/16"), roles("admin", "ops"))),
            allow("office-ops", paths("/ops/**"), AnyOf.of(List.of(all(ip("10.20.0.0/16"), roles("ops")),
                    Not.of(all(ip("10.30.0.0/16"), authenticated(false)))))),
            new Rule("billing", paths("/billing/**"),
                    all(allRoles("billing", "staff"), claim("org.tenant", "acme", "globex")), ALLOW, 404, Mode.ENFORCE),
            allow("eng", paths("/eng/**"), claim("groups", "eng")),
            allow("partners", paths("/partners/**"), AnyOf.of(List.of(ip("10.0.0.0/8"), roles("partner")))),
            allow("members", paths("/members/**"), Not.of(authenticated(false))),
            allow("no-guests", paths("/shared/**"), Not.of(all(methods("POST"), authenticated(false)))),
            new Rule("trial-auth", paths("/api/**"), authenticated(true), ALLOW, 403, Mode.AUDIT),
            allow("api", paths("/api/**"), authenticated(true))),
            DENY);

    private static final Identity ALICE = jwt("alice", Set.of("user"), Map.of());
    private static final Identity ROOT = jwt("root", Set.of("admin", "user"), Map.of());
    private static final Identity BOB = forwarded("bob");
    private static final Map<String, Object> ACME = Map.of("org", Map.of("tenant", "acme"));
    private static final Set<String> BILLING_STAFF = Set.of("billing", "staff");

    private static final AuditOutcome TRIAL_ALLOWS = new AuditOutcome("trial", ALLOW, "allowed by rule trial", 200);

    private static Arguments row(Policy policy, Req request, Effect effect, @Nullable String rule, int status,
            String reason, AuditOutcome... audit) {
        String name = policy == MAIN ? "main" : policy == DEFAULT_ALLOW ? "default-allow"
                : policy == IDENTITY ? "identity" : "empty";
        return arguments(name, request, new Decision(effect, rule, reason, status, List.of(audit)));
    }

    static Stream<Arguments> decisions() {
        return Stream.of(
                // first match wins: a deny rule before an allow rule
                row(MAIN, get("/healthz").ip("203.0.113.9"), DENY, "block-abusive-networks", 403,
                        "rule block-abusive-networks: ip 203.0.113.9 in [203.0.113.0/24, 2001:db8:bad::/48]"),
                row(MAIN, get("/healthz").ip("::ffff:203.0.113.9"), DENY, "block-abusive-networks", 403,
                        "rule block-abusive-networks: ip 203.0.113.9 in [203.0.113.0/24, 2001:db8:bad::/48]"),
                row(MAIN, get("/healthz").ip("2001:db8:bad:1::7"), DENY, "block-abusive-networks", 403,
                        "rule block-abusive-networks: ip 2001:db8:bad:1::7 in [203.0.113.0/24, 2001:db8:bad::/48]"),
                row(MAIN, get("/healthz").ip("203.0.114.1"), ALLOW, "health", 200, "allowed by rule health"),
                row(MAIN, get("/healthz"), ALLOW, "health", 200, "allowed by rule health"),
                // deny_status 404
                row(MAIN, get("/internal/metrics"), DENY, "hide-internal", 404,
                        "rule hide-internal: path /internal/metrics matches /internal/**"),
                row(MAIN, get("/internal"), DENY, "hide-internal", 404,
                        "rule hide-internal: path /internal matches /internal/**"),
                // a match that does not hold falls through; audit rules on the way are recorded
                row(MAIN, request("POST", "/healthz"), DENY, null, 403, "no rule matched, default deny", TRIAL_ALLOWS),
                row(MAIN, get("/INTERNAL/metrics"), DENY, null, 403, "no rule matched, default deny", TRIAL_ALLOWS),
                // require: all must hold, and a failure denies instead of falling through
                row(MAIN, get("/admin/users").ip("10.20.1.5"), ALLOW, "admin", 200, "allowed by rule admin"),
                row(MAIN, get("/admin").ip("10.20.1.5"), ALLOW, "admin", 200, "allowed by rule admin"),
                row(MAIN, request("POST", "/admin/users").ip("10.20.1.5"), DENY, "admin", 403,
                        "rule admin: method POST not in [GET]"),
                row(MAIN, get("/admin/users"), DENY, "admin", 403, "rule admin: ip 192.0.2.1 not in [10.20.0.0/16]"),
                row(MAIN, request("DELETE", "/admin/").ip("10.21.0.1"), DENY, "admin", 403,
                        "rule admin: method DELETE not in [GET]"),
                // headers: [] means present with any value; values are exact; require failures use deny_status
                row(MAIN, get("/x").header("X-Debug", "").header("X-Debug-Token", "s3cret"), ALLOW, "debug", 200,
                        "allowed by rule debug"),
                row(MAIN, get("/x").header("x-debug", "1").header("X-Debug-Token", "wrong"), DENY, "debug", 404,
                        "rule debug: header X-Debug-Token has no value in [s3cret]"),
                row(MAIN, get("/x").header("X-Debug", "1"), DENY, "debug", 404,
                        "rule debug: header X-Debug-Token absent"),
                row(MAIN, get("/x").header("X-Env", "staging"), ALLOW, "env", 200, "allowed by rule env"),
                row(MAIN, get("/x").header("X-Env", "prod").header("X-Env", "dev"), ALLOW, "env", 200,
                        "allowed by rule env"),
                row(MAIN, get("/x").header("X-Env", "STAGING"), DENY, null, 403, "no rule matched, default deny",
                        TRIAL_ALLOWS),
                // hosts: exact and wildcard, never the bare domain of a wildcard
                row(MAIN, get("/api/v1").host("api.example.com"), ALLOW, "api", 200, "allowed by rule api"),
                row(MAIN, get("/api/v1").host("eu.api.example.com"), ALLOW, "api", 200, "allowed by rule api"),
                row(MAIN, get("/api/v1").host("example.com"), DENY, null, 403, "no rule matched, default deny",
                        TRIAL_ALLOWS),
                // audit mode: what the rule would decide is recorded, and evaluation goes on
                row(MAIN, get("/other").ip("198.51.100.7"), DENY, null, 403, "no rule matched, default deny",
                        new AuditOutcome("trial", DENY, "rule trial: ip 198.51.100.7 in [198.51.100.0/24]", 403)),
                // any / not
                row(MAIN, request("PURGE", "/x"), ALLOW, "purge-or-cache", 200, "allowed by rule purge-or-cache",
                        TRIAL_ALLOWS),
                row(MAIN, get("/cache/logo.png"), ALLOW, "purge-or-cache", 200, "allowed by rule purge-or-cache",
                        TRIAL_ALLOWS),
                row(MAIN, get("/cache/logo.png").host("public.example.com"), DENY, "purge-or-cache", 403,
                        "rule purge-or-cache: host public.example.com matches public.example.com", TRIAL_ALLOWS),
                // default allow, audit rules before an enforced deny
                row(DEFAULT_ALLOW, get("/x"), ALLOW, null, 200, "no rule matched, default allow",
                        new AuditOutcome("audit-everything", DENY, "rule audit-everything: path /x matches /**", 403)),
                row(DEFAULT_ALLOW, request("POST", "/admin/x"), DENY, "no-admin", 403,
                        "rule no-admin: path /admin/x matches /admin/**",
                        new AuditOutcome("audit-everything", DENY, "rule audit-everything: path /admin/x matches /**",
                                403),
                        new AuditOutcome("audit-admin", DENY, "rule audit-admin: method POST not in [GET]", 404)),
                row(DEFAULT_ALLOW, get("/admin/x"), DENY, "no-admin", 403,
                        "rule no-admin: path /admin/x matches /admin/**",
                        new AuditOutcome("audit-everything", DENY, "rule audit-everything: path /admin/x matches /**",
                                403),
                        new AuditOutcome("audit-admin", ALLOW, "allowed by rule audit-admin", 200)),
                // no rules at all
                row(EMPTY, get("/"), DENY, null, 403, "no rule matched, default deny"),

                // authenticated: true; an anonymous request is challenged (401), also in audit mode
                row(IDENTITY, get("/api/orders"), DENY, "api", 401, "rule api: not authenticated",
                        new AuditOutcome("trial-auth", DENY, "rule trial-auth: not authenticated", 401)),
                row(IDENTITY, get("/api/orders").rejected(RejectReason.TOKEN_EXPIRED), DENY, "api", 401,
                        "rule api: not authenticated (token rejected: token_expired)",
                        new AuditOutcome("trial-auth", DENY,
                                "rule trial-auth: not authenticated (token rejected: token_expired)", 401)),
                row(IDENTITY, get("/api/orders").as(ALICE), ALLOW, "api", 200, "allowed by rule api",
                        new AuditOutcome("trial-auth", ALLOW, "allowed by rule trial-auth", 200)),
                row(IDENTITY, get("/api/orders").as(BOB), ALLOW, "api", 200, "allowed by rule api",
                        new AuditOutcome("trial-auth", ALLOW, "allowed by rule trial-auth", 200)),
                // roles: anonymous -> 401 (with the rejection when a token was rejected); authenticated -> 403
                row(IDENTITY, request("DELETE", "/api/users/7"), DENY, "delete-users", 401,
                        "rule delete-users: role admin missing"),
                row(IDENTITY, request("DELETE", "/api/users/7").rejected(RejectReason.BAD_SIGNATURE), DENY,
                        "delete-users", 401, "rule delete-users: role admin missing (token rejected: bad_signature)"),
                row(IDENTITY, request("DELETE", "/api/users/7").as(ALICE), DENY, "delete-users", 403,
                        "rule delete-users: role admin missing"),
                row(IDENTITY, request("DELETE", "/api/users/7").as(ROOT), ALLOW, "delete-users", 200,
                        "allowed by rule delete-users"),
                row(IDENTITY, request("DELETE", "/api/users/7").as(forwarded("ops-bot", "admin")), ALLOW,
                        "delete-users", 200, "allowed by rule delete-users"),
                // anonymous and outside the office: the missing identity is reason enough to ask for it, and the
                // 401's reason names it, not the ip written before it; an identity is told the first failing key
                row(IDENTITY, get("/admin/x"), DENY, "office-admin", 401,
                        "rule office-admin: none of roles [admin, ops] present"),
                row(IDENTITY, get("/admin/x").rejected(RejectReason.BAD_SIGNATURE), DENY, "office-admin", 401,
                        "rule office-admin: none of roles [admin, ops] present (token rejected: bad_signature)"),
                row(IDENTITY, get("/admin/x").as(ALICE), DENY, "office-admin", 403,
                        "rule office-admin: ip 192.0.2.1 not in [10.20.0.0/16]"),
                row(IDENTITY, get("/admin/x").ip("10.20.1.1"), DENY, "office-admin", 401,
                        "rule office-admin: none of roles [admin, ops] present"),
                row(IDENTITY, get("/admin/x").ip("10.20.1.1").as(ALICE), DENY, "office-admin", 403,
                        "rule office-admin: none of roles [admin, ops] present"),
                // the same inside any and not: each branch that needs an identity names it
                row(IDENTITY, get("/ops/x").ip("10.30.1.1"), DENY, "office-ops", 401,
                        "rule office-ops: none of: role ops missing; ip 10.30.1.1 in [10.30.0.0/16] and not "
                                + "authenticated"),
                row(IDENTITY, get("/ops/x").ip("10.30.1.1").as(BOB), ALLOW, "office-ops", 200,
                        "allowed by rule office-ops"),
                row(IDENTITY, get("/admin/x").ip("10.20.1.1").as(forwarded("carol", "ops")), ALLOW, "office-admin",
                        200, "allowed by rule office-admin"),
                // all_roles and claims (nested path)
                // deny_status 404 hides the resource from anonymous clients too (no revealing 401)
                row(IDENTITY, get("/billing/q1"), DENY, "billing", 404,
                        "rule billing: roles [billing, staff] all required, missing billing, staff"),
                row(IDENTITY, get("/billing/q1").as(jwt("dave", Set.of("billing"), ACME)), DENY, "billing", 404,
                        "rule billing: roles [billing, staff] all required, missing staff"),
                row(IDENTITY, get("/billing/q1").as(jwt("erin", BILLING_STAFF, ACME)), ALLOW, "billing", 200,
                        "allowed by rule billing"),
                // a claim path is always a path: a top-level claim named "org.tenant" never stands in for it
                row(IDENTITY, get("/billing/q1").as(jwt("erin", BILLING_STAFF, Map.of("org.tenant", "globex"))),
                        DENY, "billing", 404, "rule billing: claim org.tenant missing, expected one of [acme, globex]"),
                row(IDENTITY, get("/billing/q1").as(jwt("erin", BILLING_STAFF, Map.of("org.tenant", "globex",
                        "org", Map.of("tenant", "initech")))), DENY, "billing", 404,
                        "rule billing: claim org.tenant is initech, expected one of [acme, globex]"),
                row(IDENTITY, get("/billing/q1").as(jwt("fay", BILLING_STAFF, Map.of("org", Map.of("tenant",
                        "initech")))), DENY, "billing", 404,
                        "rule billing: claim org.tenant is initech, expected one of [acme, globex]"),
                row(IDENTITY, get("/billing/q1").as(jwt("gil", BILLING_STAFF, Map.of())), DENY, "billing", 404,
                        "rule billing: claim org.tenant missing, expected one of [acme, globex]"),
                // claims: an array claim contains one of the values; identities without a token have no claims
                row(IDENTITY, get("/eng/wiki").as(jwt("hal", Set.of(), Map.of("groups", List.of("ops", "eng")))),
                        ALLOW, "eng", 200, "allowed by rule eng"),
                row(IDENTITY, get("/eng/wiki").as(jwt("hal", Set.of(), Map.of("groups", List.of("ops")))), DENY,
                        "eng", 403, "rule eng: claim groups [ops] contains none of [eng]"),
                row(IDENTITY, get("/eng/wiki").as(forwarded("ivy", "eng")), DENY, "eng", 403,
                        "rule eng: claim groups missing, expected one of [eng]"),
                row(IDENTITY, get("/eng/wiki"), DENY, "eng", 401,
                        "rule eng: claim groups missing, expected one of [eng]"),
                // any: challenged when a failing branch needs identity
                row(IDENTITY, get("/partners/x"), DENY, "partners", 401,
                        "rule partners: none of: ip 192.0.2.1 not in [10.0.0.0/8]; role partner missing"),
                row(IDENTITY, get("/partners/x").as(BOB), DENY, "partners", 403,
                        "rule partners: none of: ip 192.0.2.1 not in [10.0.0.0/8]; role partner missing"),
                row(IDENTITY, get("/partners/x").ip("10.1.1.1"), ALLOW, "partners", 200, "allowed by rule partners"),
                // authenticated: false holds for anonymous requests, also those whose token was rejected
                row(IDENTITY, get("/login"), ALLOW, "login-page", 200, "allowed by rule login-page"),
                row(IDENTITY, get("/login").rejected(RejectReason.MALFORMED_TOKEN), ALLOW, "login-page", 200,
                        "allowed by rule login-page"),
                row(IDENTITY, get("/login").as(ALICE), DENY, "login-page", 403,
                        "rule login-page: authenticated by jwt, expected anonymous"),
                // not: swaps the questions; not {authenticated: false} challenges like authenticated: true
                row(IDENTITY, get("/members/x"), DENY, "members", 401, "rule members: not authenticated"),
                row(IDENTITY, get("/members/x").as(BOB), ALLOW, "members", 200, "allowed by rule members"),
                row(IDENTITY, request("POST", "/shared/doc"), DENY, "no-guests", 401,
                        "rule no-guests: method POST in [POST] and not authenticated"),
                row(IDENTITY, get("/shared/doc"), ALLOW, "no-guests", 200, "allowed by rule no-guests"),
                row(IDENTITY, request("POST", "/shared/doc").as(ALICE), ALLOW, "no-guests", 200,
                        "allowed by rule no-guests"));
    }

    private static Policy policy(String policyName) {
        return switch (policyName) {
            case "main" -> MAIN;
            case "default-allow" -> DEFAULT_ALLOW;
            case "identity" -> IDENTITY;
            default -> EMPTY;
        };
    }

    @ParameterizedTest(name = "[{index}] {0}: {1} -> {2}")
    @MethodSource
    void decisions(String policyName, Req request, Decision expected) {
        Policy policy = policy(policyName);

        Decision decision = policy.evaluate(request.build());

        assertThat(decision).isEqualTo(expected);
        assertThat(decision.allowed()).isEqualTo(expected.effect() == ALLOW);
        assertThat(decision.challenge()).isEqualTo(expected.status() == 401);
    }

    /** {@code explain}'s trace gives the same decision as {@link Policy#evaluate}, and its rules agree with it. */
    @ParameterizedTest(name = "[{index}] {0}: {1} -> {2}")
    @MethodSource("decisions")
    void traceAgreesWithEvaluate(String policyName, Req request, Decision expected) {
        PolicyTrace trace = PolicyTrace.of(policy(policyName), request.build());

        assertThat(trace.decision()).isEqualTo(expected);
        List<PolicyTrace.RuleTrace> rules = trace.rules();
        if (expected.rule() == null) {
            assertThat(rules).hasSize(policy(policyName).rules().size());
            assertThat(rules).noneMatch(r -> r.matched() && r.mode() == Mode.ENFORCE);
        } else {
            PolicyTrace.RuleTrace deciding = rules.get(rules.size() - 1);
            assertThat(deciding.name()).isEqualTo(expected.rule());
            assertThat(deciding.matched()).isTrue();
            assertThat(deciding.mode()).isEqualTo(Mode.ENFORCE);
            assertThat(deciding.decision()).isNotNull();
            assertThat(deciding.decision().status()).isEqualTo(expected.status());
            assertThat(deciding.decision().reason()).isEqualTo(expected.reason());
            if (deciding.action() == ALLOW) {
                assertThat(deciding.requireHeld()).isEqualTo(expected.allowed());
            } else {
                assertThat(deciding.require()).isEmpty();
            }
            assertThat(rules.subList(0, rules.size() - 1))
                    .noneMatch(r -> r.matched() && r.mode() == Mode.ENFORCE);
        }
        List<AuditOutcome> audited = rules.stream()
                .filter(r -> r.matched() && r.mode() == Mode.AUDIT)
                .map(r -> new AuditOutcome(r.name(), r.decision().effect(), r.decision().reason(),
                        r.decision().status()))
                .toList();
        assertThat(audited).isEqualTo(expected.audit());
        for (PolicyTrace.RuleTrace rule : rules) {
            assertThat(rule.match().stream().allMatch(PolicyTrace.ConditionOutcome::holds)).isEqualTo(rule.matched());
        }
    }
}
