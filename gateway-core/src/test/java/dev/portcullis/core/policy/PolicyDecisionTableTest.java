package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.Effect.ALLOW;
import static dev.portcullis.core.policy.Effect.DENY;
import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.header;
import static dev.portcullis.core.policy.TestRequests.hosts;
import static dev.portcullis.core.policy.TestRequests.ip;
import static dev.portcullis.core.policy.TestRequests.methods;
import static dev.portcullis.core.policy.TestRequests.paths;
import static dev.portcullis.core.policy.TestRequests.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.portcullis.core.policy.TestRequests.Req;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The decision table: the primary specification of policy evaluation semantics (SPEC 3.1, 3.2). */
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

    private static final AuditOutcome TRIAL_ALLOWS = new AuditOutcome("trial", ALLOW, "allowed by rule trial");

    private static Arguments row(Policy policy, Req request, Effect effect, @Nullable String rule, int status,
            String reason, AuditOutcome... audit) {
        return arguments(policy == MAIN ? "main" : policy == DEFAULT_ALLOW ? "default-allow" : "empty", request,
                new Decision(effect, rule, reason, status, List.of(audit)));
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
                        new AuditOutcome("trial", DENY, "rule trial: ip 198.51.100.7 in [198.51.100.0/24]")),
                // any / not
                row(MAIN, request("PURGE", "/x"), ALLOW, "purge-or-cache", 200, "allowed by rule purge-or-cache",
                        TRIAL_ALLOWS),
                row(MAIN, get("/cache/logo.png"), ALLOW, "purge-or-cache", 200, "allowed by rule purge-or-cache",
                        TRIAL_ALLOWS),
                row(MAIN, get("/cache/logo.png").host("public.example.com"), DENY, "purge-or-cache", 403,
                        "rule purge-or-cache: host public.example.com matches public.example.com", TRIAL_ALLOWS),
                // default allow, audit rules before an enforced deny
                row(DEFAULT_ALLOW, get("/x"), ALLOW, null, 200, "no rule matched, default allow",
                        new AuditOutcome("audit-everything", DENY, "rule audit-everything: path /x matches /**")),
                row(DEFAULT_ALLOW, request("POST", "/admin/x"), DENY, "no-admin", 403,
                        "rule no-admin: path /admin/x matches /admin/**",
                        new AuditOutcome("audit-everything", DENY, "rule audit-everything: path /admin/x matches /**"),
                        new AuditOutcome("audit-admin", DENY, "rule audit-admin: method POST not in [GET]")),
                row(DEFAULT_ALLOW, get("/admin/x"), DENY, "no-admin", 403,
                        "rule no-admin: path /admin/x matches /admin/**",
                        new AuditOutcome("audit-everything", DENY, "rule audit-everything: path /admin/x matches /**"),
                        new AuditOutcome("audit-admin", ALLOW, "allowed by rule audit-admin")),
                // no rules at all
                row(EMPTY, get("/"), DENY, null, 403, "no rule matched, default deny"));
    }

    @ParameterizedTest(name = "[{index}] {0}: {1} -> {2}")
    @MethodSource
    void decisions(String policyName, Req request, Decision expected) {
        Policy policy = switch (policyName) {
            case "main" -> MAIN;
            case "default-allow" -> DEFAULT_ALLOW;
            default -> EMPTY;
        };

        Decision decision = policy.evaluate(request.build());

        assertThat(decision).isEqualTo(expected);
        assertThat(decision.allowed()).isEqualTo(expected.effect() == ALLOW);
    }
}
