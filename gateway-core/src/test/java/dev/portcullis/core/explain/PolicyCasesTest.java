package dev.portcullis.core.explain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.identity.IdentitySource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyCasesTest {

    private static final String CONFIG = """
            upstream: { url: "http://127.0.0.1:3000" }
            default: deny
            rules:
              - name: block-bad-network
                match: { ip: ["203.0.113.0/24"] }
                action: deny
              - name: delete-users-admins-only
                match: { paths: ["/api/users/*"], methods: [DELETE] }
                require: { roles: [admin] }
              - name: acme-billing
                match: { paths: ["/billing/**"] }
                require: { claims: { org.tenant: [acme] } }
              - name: debug
                match: { headers: { X-Debug: [] } }
                require: { hosts: ["staging.example.com"] }
              - name: api
                match: { paths: ["/api/**"] }
                require: { authenticated: true }
              - name: office
                match: { paths: ["/office/**"] }
                require: { ip: ["10.20.0.0/16"], roles: [admin] }
            """;

    /** The cases in {@code yaml}, for {@link #CONFIG}. */
    private static PolicyCases.Loaded read(String yaml) {
        try {
            return PolicyCases.read("cases.yaml", yaml,
                    ConfigLoader.load("policy.yaml", CONFIG.getBytes(StandardCharsets.UTF_8), Path.of(".")));
        } catch (ConfigException e) {
            throw new AssertionError(e);
        }
    }

    private static CaseContext context(String config) throws Exception {
        return CaseContext.of(ConfigLoader.load("policy.yaml", config.getBytes(StandardCharsets.UTF_8), Path.of(".")));
    }

    private static List<PolicyCase.Outcome> run(String yaml) throws Exception {
        PolicyCases.Loaded loaded = read(yaml);
        assertThat(loaded.problems()).isEmpty();
        CaseContext context = context(CONFIG);
        return loaded.cases().stream().map(c -> c.run(context)).toList();
    }

    @Test
    void aCaseInsensitivePolicyRefusesASegmentEndingInADotAsTheServerDoes() throws Exception {
        CaseContext context = context("""
                upstream: { url: "http://127.0.0.1:3000", case_insensitive_paths: true }
                default: allow
                rules:
                  - name: admin
                    match: { paths: ["/admin/**"] }
                    action: deny
                """);
        PolicyCases.Loaded loaded = read("""
                cases:
                  - { name: dot, request: { path: /ADMIN./x }, expect: { status: 400 } }
                  - { name: plain, request: { path: /ADMIN/x }, expect: { status: 403 } }
                """);

        PolicyCase.Outcome dot = loaded.cases().get(0).run(context);
        assertThat(dot.status()).isEqualTo(400);
        assertThat(dot.beforeRules()).isTrue();
        assertThat(dot.reason()).contains("segment_ends_in_dot_or_space");
        assertThat(loaded.cases().get(1).run(context).status()).isEqualTo(403);
    }

    @Test
    void casesSimulateIdentityClaimsHostHeadersAndIp() throws Exception {
        String yaml = """
                cases:
                  - name: admins may delete users
                    request: { method: DELETE, path: /api/users/42, ip: 10.20.1.5, roles: [admin], subject: alice }
                    expect: { status: 200, rule: delete-users-admins-only }
                  - name: anonymous is challenged
                    request: { method: GET, path: /api/orders }
                    expect: { status: 401 }
                  - name: acme billing by claim
                    request: { path: /billing/x, jwt_claims: { sub: bob, org: { tenant: acme } } }
                    expect: { status: 200, rule: acme-billing }
                  - name: debug on staging
                    request: { path: /x, host: "Staging.Example.com:8443", headers: { X-Debug: "1" } }
                    expect: { status: 200, rule: debug }
                  - name: bad network
                    request: { path: /api/orders, ip: 203.0.113.5, subject: carol }
                    expect: { status: 403, rule: block-bad-network }
                  - name: encoded slash
                    request: { path: /api%2Fx }
                    expect: { status: 400 }
                """;
        PolicyCases.Loaded loaded = read(yaml);
        assertThat(loaded.cases()).hasSize(6);
        assertThat(loaded.cases().get(0).identity().source()).isEqualTo(IdentitySource.FORWARDED);
        assertThat(loaded.cases().get(2).identity().source()).isEqualTo(IdentitySource.JWT);
        assertThat(loaded.cases().get(2).identity().subject()).isEqualTo("bob");
        assertThat(loaded.cases().get(1).identity().isAnonymous()).isTrue();
        assertThat(loaded.cases().get(3).line()).isEqualTo(11);

        List<PolicyCase.Outcome> outcomes = run(yaml);

        assertThat(outcomes).extracting(PolicyCase.Outcome::status).containsExactly(200, 401, 200, 200, 403, 400);
        for (int i = 0; i < outcomes.size(); i++) {
            assertThat(loaded.cases().get(i).passes(outcomes.get(i))).as(loaded.cases().get(i).name()).isTrue();
        }
    }

    @Test
    void aCaseFailsOnStatusOrRule() throws Exception {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: wrong status
                    request: { method: DELETE, path: /api/users/42, roles: [viewer] }
                    expect: { status: 200 }
                  - name: wrong rule
                    request: { path: /api/orders, subject: alice }
                    expect: { status: 200, rule: delete-users-admins-only }
                """);
        CaseContext context = context(CONFIG);

        PolicyCase.Outcome first = loaded.cases().get(0).run(context);
        PolicyCase.Outcome second = loaded.cases().get(1).run(context);

        assertThat(first).isEqualTo(new PolicyCase.Outcome(403, "delete-users-admins-only",
                "rule delete-users-admins-only: role admin missing"));
        assertThat(loaded.cases().get(0).passes(first)).isFalse();
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.rule()).isEqualTo("api");
        assertThat(loaded.cases().get(1).passes(second)).isFalse();
    }

    @Test
    void aChallengedCaseReportsTheMissingIdentityAndAForbiddenOneTheFirstFailingKey() throws Exception {
        List<PolicyCase.Outcome> outcomes = run("""
                cases:
                  - name: anonymous outside the office is challenged
                    request: { path: /office/x, ip: 192.0.2.1 }
                    expect: { status: 401, rule: office }
                  - name: a user outside the office is forbidden
                    request: { path: /office/x, ip: 192.0.2.1, roles: [user], subject: bob }
                    expect: { status: 403, rule: office }
                  - name: anonymous in the office is challenged
                    request: { path: /office/x, ip: 10.20.1.5 }
                    expect: { status: 401, rule: office }
                """);

        assertThat(outcomes).containsExactly(
                new PolicyCase.Outcome(401, "office", "rule office: role admin missing"),
                new PolicyCase.Outcome(403, "office", "rule office: ip 192.0.2.1 not in [10.20.0.0/16]"),
                new PolicyCase.Outcome(401, "office", "rule office: role admin missing"));
    }

    @Test
    void timeCountryAndAsnAreRead() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: from germany at night
                    request: { path: /, country: de, asn: AS3320, at: "2025-03-14T23:30:00+01:00" }
                    expect: { status: 403 }
                """);

        PolicyCase only = loaded.cases().get(0);
        assertThat(only.country()).isEqualTo("DE");
        assertThat(only.asn()).isEqualTo(3320L);
        assertThat(only.at()).hasToString("2025-03-14T22:30:00Z");
        assertThat(only.clientIp()).hasToString("127.0.0.1");
        assertThat(only.headers()).isEqualTo(Map.of());
    }

    @Test
    void problemsAreLocatedAndShowTheValueAndWhatWasExpected() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: one
                    request: { path: /x, ip: 10.0.0.300, role: [admin], at: tomorrow }
                    expect: { status: 302 }
                  - request: { country: Germany }
                    expect: { rule: api }
                """);

        assertThat(loaded.cases()).isEmpty();
        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:3:30: cases[0].request.ip: \"10.0.0.300\" is not an IP address (expected: an IPv4 or "
                        + "IPv6 address, e.g. 10.20.1.5)",
                "cases.yaml:3:42: cases[0].request.role: unknown key \"role\" (expected one of: method, path, ip, "
                        + "roles, subject, headers, host, country, asn, at, jwt_claims)",
                "cases.yaml:3:61: cases[0].request.at: \"tomorrow\" is not an ISO-8601 time (expected: a date, time "
                        + "and offset, e.g. 2025-03-14T09:30:00Z or 2025-03-14T10:30:00+01:00)",
                "cases.yaml:4:23: cases[0].expect.status: \"302\" is not a status the gateway decides (expected: "
                        + "200 (would be proxied), 400, 401, 403, 404, 405, 413 or 414)",
                "cases.yaml:5:5: cases[1].name: required key is missing (expected: a name for the case, e.g. "
                        + "admins may delete users)",
                "cases.yaml:5:14: cases[1].request.path: required key is missing (expected: a request path, e.g. "
                        + "/api/orders)",
                "cases.yaml:5:25: cases[1].request.country: \"Germany\" is not a country code (expected: ISO 3166 "
                        + "alpha-2, e.g. DE)",
                "cases.yaml:6:13: cases[1].expect.status: required key is missing (expected: the status, e.g. 200 "
                        + "for \"would be proxied\")");
    }

    @Test
    void aBrokenRequestDoesNotHideTheProblemsOfItsExpect() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: one
                    request: GET /reports/q1
                    expect: { status: two hundred }
                """);

        assertThat(loaded.problems()).extracting(ConfigProblem::render)
                .anySatisfy(p -> assertThat(p).startsWith("cases.yaml:3:14: cases[0].request: "))
                .anySatisfy(p -> assertThat(p).startsWith("cases.yaml:4:23: cases[0].expect.status: "))
                .hasSize(2);
    }

    @Test
    void brokenYamlAndAWrongShapeAreProblemsToo() {
        assertThat(read("cases: [ { name: x\n").problems())
                .singleElement().satisfies(p -> assertThat(p.render()).startsWith("cases.yaml:2:1: (root): invalid YAML: while parsing a flow mapping: expected ',' or '}'"));
        assertThat(read("- name: x\n").problems()).extracting(ConfigProblem::render)
                .containsExactly("cases.yaml:1:1: (root): a list is not a mapping (expected: a mapping with keys cases)");
        assertThat(read("cases: []\n").problems()).extracting(ConfigProblem::render)
                .containsExactly("cases.yaml:1:8: cases: [] is not a list of cases (expected: a non-empty list, "
                        + "each with name, request and expect)");
        assertThat(read("").problems()).extracting(ConfigProblem::render)
                .containsExactly("cases.yaml:1:1: (root): file is empty (expected: a mapping with a list of cases, "
                        + "e.g. cases: [...])");
    }
    @Test
    void anchorsAliasesAndMergeKeysAreRefusedAsInAConfig() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: anchored
                    request: &r {path: /healthz}
                    expect: {status: 200}
                  - name: aliased
                    request: *r
                    expect: {status: 200}
                  - name: merged
                    request: {<<: *r, method: GET}
                    expect: {status: 200}
                """);

        assertThat(loaded.cases()).isEmpty();
        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:3:14: cases[0].request: YAML anchor \"&r\" is not supported (expected: the value "
                        + "written out in full)",
                "cases.yaml:6:14: cases[1].request: YAML alias \"*r\" is not supported (expected: the value "
                        + "written out in full)",
                "cases.yaml:9:19: cases[2].request.<<: YAML alias \"*r\" is not supported (expected: the value "
                        + "written out in full)");
    }

    @Test
    void aDuplicateKeyIsReportedAsInAConfigWithWhereItWasFirstWritten() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: twice
                    request: {path: /a, path: /b}
                    expect: {status: 200}
                """);

        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:3:25: cases[0].request.path: duplicate key \"path\" (expected: each key once; first at "
                        + "line 3)");
    }

    @Test
    void aCasesFileWithinTheSizeCapIsNotRefusedForItsCodePoints() {
        // SnakeYAML's own limit (set to the byte cap) is counted as tokens are read: the case comes last, just inside
        String padding = "#".repeat(1023) + "\n";
        String yaml = padding.repeat(ConfigText.MAX_BYTES / 1024 - 1) + """
                cases:
                  - name: last
                    request: {path: /healthz}
                    expect: {status: 200}
                """;

        PolicyCases.Loaded loaded = read(yaml);

        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.cases()).extracting(PolicyCase::name).containsExactly("last");
    }
    @Test
    void claimsARealTokenCouldNotCarryAreProblemsSinceTheGatewayRefusesSuchATokenUndecided() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: numeric sub
                    request: {path: /api/orders, jwt_claims: {sub: 42}}
                    expect: {status: 200}
                  - name: numeric aud
                    request: {path: /api/orders, jwt_claims: {sub: bob, aud: [orders, 7]}}
                    expect: {status: 200}
                  - name: fine
                    request: {path: /api/orders, jwt_claims: {sub: "42", aud: [orders, billing], n: 7, s: null}}
                    expect: {status: 200}
                """);

        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:3:52: cases[0].request.jwt_claims.sub: 42 is not a string (a token with it is refused "
                        + "as malformed_token, 401) (expected: a string, e.g. alice or \"42\")",
                "cases.yaml:6:62: cases[1].request.jwt_claims.aud: a list is not a string or a list of strings (a "
                        + "token with it is refused as malformed_token, 401) (expected: e.g. orders-api or "
                        + "[orders-api, billing])");
        assertThat(loaded.cases()).isEmpty();
    }

    @Test
    void anExpectedRuleTheConfigDoesNotHaveIsAProblemOfTheFileListingTheRules() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - name: known
                    request: {path: /api/orders, subject: alice}
                    expect: {status: 200, rule: api}
                  - name: unknown
                    request: {path: /api/orders, subject: alice}
                    expect: {status: 200, rule: no-such-rule}
                """);

        assertThat(loaded.cases()).isEmpty();
        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:7:33: cases[1].expect.rule: \"no-such-rule\" is not a rule of policy.yaml (expected one "
                        + "of: block-bad-network, delete-users-admins-only, acme-billing, debug, api, office)");
    }

    @Test
    void theRulesListedForAnUnknownExpectedRuleAreCut() throws Exception {
        StringBuilder config = new StringBuilder("upstream: { url: \"http://127.0.0.1:3000\" }\nrules:\n");
        for (int i = 1; i <= 12; i++) {
            config.append("  - { name: r").append(i).append(", match: { paths: [\"/").append(i)
                    .append("\"] }, action: deny }\n");
        }
        PolicyCases.Loaded loaded = PolicyCases.read("cases.yaml", """
                cases: [ { name: x, request: { path: /x }, expect: { status: 403, rule: r13 } } ]
                """, ConfigLoader.load("big.yaml", config.toString().getBytes(StandardCharsets.UTF_8), Path.of(".")));

        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:1:73: cases[0].expect.rule: \"r13\" is not a rule of big.yaml (expected one of: r1, r2, r3, "
                        + "r4, r5, r6, r7, r8, r9, r10, ... (12 rules))");
    }

    @Test
    void statusIsANumberAndNever429SinceRateLimitsAreNotSimulated() {
        PolicyCases.Loaded loaded = read("""
                cases:
                  - { name: quoted, request: { path: /x }, expect: { status: "200" } }
                  - { name: limited, request: { path: /x }, expect: { status: 429 } }
                  - { name: teapot, request: { path: /x }, expect: { status: 418 } }
                """);

        assertThat(loaded.problems()).extracting(ConfigProblem::render).containsExactly(
                "cases.yaml:2:62: cases[0].expect.status: \"200\" is a string, not a number (expected: a status "
                        + "written as a number, without quotes: 200 (would be proxied), 400, 401, 403, 404, 405, 413 "
                        + "or 414)",
                "cases.yaml:3:63: cases[1].expect.status: \"429\" can never be the answer here: test does not "
                        + "simulate rate limits, so a rate-limited rule answers 200 (expected: 200 (would be proxied), "
                        + "400, 401, 403, 404, 405, 413 or 414)",
                "cases.yaml:4:62: cases[2].expect.status: \"418\" is not a status the gateway decides (expected: 200 "
                        + "(would be proxied), 400, 401, 403, 404, 405, 413 or 414)");
    }
}
