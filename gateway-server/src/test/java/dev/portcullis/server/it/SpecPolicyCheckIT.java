package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box cross-checks of the policy engine against SPEC 3.1 / 3.2 / 3.4 / 3.6 and README "The policy language",
 * "Path canonicalization", "GeoIP databases" and "Rate limits": security-relevant combinations that the
 * per-feature ITs do not cover (deny on doubt, canonicalize before matching, 401 versus 403 with mixed
 * predicates, audit rules that must never change a decision, schedules, referrers, IPv6 / IPv4-mapped GeoIP).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecPolicyCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    static RSAKey key;
    static String jwksFile;
    static Path countryDb;
    static Path asnDb;

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @BeforeAll
    static void setUp() throws Exception {
        key = JwtMint.rsa("xpol-1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        countryDb = MmdbWriter.countries(Map.of(
                        "175.45.176.0/22", "KP",
                        "2a0e:97c0::/32", "IR",
                        "81.2.69.0/24", "GB",
                        "198.51.100.0/24", "KP",
                        "10.0.0.0/8", "KP",
                        "2001:db8::/32", "IR",
                        "2a02:2e0::/29", "DE"))
                .buildEpoch(Instant.parse("2025-06-01T12:00:00Z"))
                .write(dir.resolve("country.mmdb"));
        asnDb = MmdbWriter.asns(Map.of("2a02:2e0:3fe::/48", 64501L, "81.2.69.128/25", 64500L))
                .buildEpoch(Instant.parse("2025-07-15T00:30:00Z"))
                .write(dir.resolve("asn.mmdb"));
    }

    private static final String HEAD = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
              case_insensitive_paths: {{CI}}
            """;

    private static Gateway start(String body) throws Exception {
        return start(body, Map.of());
    }

    private static Gateway start(String body, Map<String, String> vars) throws Exception {
        Map<String, String> all = new HashMap<>();
        all.put("CI", "false");
        all.put("JWKS_FILE", jwksFile);
        all.put("COUNTRY_DB", countryDb.toString());
        all.put("ASN_DB", asnDb.toString());
        all.putAll(vars);
        return harness.startYaml(dir, HEAD + body, all);
    }

    private static String token(String sub, String... roles) {
        return JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims(sub, roles).build());
    }

    private JsonNode line(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
    }

    /** The request never reaches the upstream: 400 (rejected target) or 403 (denied), nothing else. */
    private static RawResponse rejectedOrDenied(Probe p, String target, String... headers) throws Exception {
        int before = harness.upstream().headsReceived();
        RawResponse r = p.send("GET", target, headers);
        assertThat(r.status()).as("GET %s %s must be rejected (400) or denied (403); got%n%s", target,
                List.of(headers), r).isIn(400, 403);
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        return r;
    }

    /** 401 exactly as SPEC 3.6: WWW-Authenticate Bearer realm, invalid_token only when a token was rejected. */
    private static RawResponse unauthorized(Probe p, boolean invalidToken, String target, String... headers)
            throws Exception {
        int before = harness.upstream().headsReceived();
        RawResponse r = p.send("GET", target, headers);
        assertThat(r.status()).as("GET %s %s should be 401; got%n%s", target, List.of(headers), r).isEqualTo(401);
        assertThat(r.header("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(r.header("X-Request-Id")).isPresent();
        assertThat(r.header("Server")).isEmpty();
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        assertThat(r.bodyText()).isEqualTo("{\"error\":\"Unauthorized\",\"message\":\"Authentication is required\"}");
        String challenge = r.header("WWW-Authenticate").orElse("");
        assertThat(challenge).as("WWW-Authenticate of 401 for %s", target).startsWith("Bearer").contains("realm=\"portcullis\"");
        if (invalidToken) {
            assertThat(challenge).contains("error=\"invalid_token\"");
        } else {
            assertThat(challenge).doesNotContain("invalid_token");
        }
        return r;
    }

    // ------------------------------------------------------------------ 1. /admin/** cannot be walked around

    private static final String ADMIN_POLICY = """
            default: allow
            rules:
              - name: admin-deny
                match: { paths: ["/admin/**"] }
                action: deny
              - name: kb-deny
                match: { paths: ["/kb/**", "/secret/**"] }
                action: deny
              - name: ops-deny
                match: { paths: ["/ops/"] }
                action: deny
            """;

    /**
     * SPEC 3.4: "the gateway canonicalizes before matching and forwards the canonical form"; dot segments (also
     * percent-encoded ones, decoded as unreserved), repeated slashes and a trailing slash never take a request out
     * of /admin/**; absolute-form paths get the same treatment as origin-form ones.
     */
    @Test
    void adminDenyRuleHoldsForEveryTargetSpellingThatCanonicalizesToAdmin() throws Exception {
        Gateway gw = start(ADMIN_POLICY);
        Probe p = new Probe(harness, gw);
        String a = gw.authority();

        for (String t : List.of(
                "/admin//", "/admin/.", "/admin/%2e", "/admin/%2E/", "/admin/x/..", "/admin/x/%2e%2e",
                "/%2e/admin", "/.%2E/admin/x", "/x/%2E./admin", "/x/..//admin",
                "/public/%2e%2e/%2e%2e/%2e%2e/admin", "/admin?x=1", "/admin?/../public",
                "/x/../admin?y=../../public",
                "http://" + a + "/admin", "http://" + a + "/x/../admin", "http://" + a + "//admin",
                "http://" + a + "/%61dmin/x", "http://" + a + "/public/%2e%2e/admin",
                "http://" + a + "/admin?z=1")) {
            RawResponse r = p.forbidden(t);
            JsonNode l = line(r);
            assertThat(l.get("rule").asText()).as("rule for %s", t).isEqualTo("admin-deny");
            assertThat(l.get("path").asText()).as("logged canonical path for %s", t).startsWith("/admin");
        }

        // README: "a trailing / is ignored, of the request path and of a glob"
        for (String t : List.of("/ops", "/ops/", "/ops//", "/x/../ops", "/%6Fps/.", "http://" + a + "/ops")) {
            assertThat(line(p.forbidden(t)).get("rule").asText()).as("rule for %s", t).isEqualTo("ops-deny");
        }
        assertThat(p.allowed("/ops/x").target()).isEqualTo("/ops/x");

        // the absolute-form target is forwarded in origin-form and canonical
        assertThat(p.allowed("http://" + a + "/public/./x/../y?q=/admin").target()).isEqualTo("/public/y?q=/admin");
    }

    /**
     * SPEC 3.4 400 list applied to spellings of /admin: overlong / invalid UTF-8 dots, IIS %u escapes, encoded
     * '/', '\', ';', NUL, and the same inside an absolute-form target.
     */
    @Test
    void adminLookalikeTargetsThatAnUpstreamCouldDecodeDifferentlyGet400() throws Exception {
        Gateway gw = start(ADMIN_POLICY);
        Probe p = new Probe(harness, gw);
        String a = gw.authority();

        for (String t : List.of(
                "/x/%C0%AE%C0%AE/admin", "/x/%E0%80%AE%E0%80%AE/admin", "/x/%F0%80%80%AE%F0%80%80%AE/admin",
                "/admin%C0%80", "/x/%u002e%u002e/admin", "/admin%2f", "/x/..%2Fadmin", "/x/%2e%2e%5Cadmin",
                "/admin%3B", "/admin;", "/admin%00", "/admin/%0d",
                "http://" + a + "/x/..;/admin", "http://" + a + "/admin%2Fx", "http://" + a + "/x/..%5Cadmin",
                "http://" + a + "/admin%00")) {
            p.rejected(400, "GET", t);
        }
        // unusual absolute-form spellings: never proxied to /admin
        for (String t : List.of("HTTP://" + a + "/admin", "http://user@" + a + "/admin",
                "http://user:pw@" + a + "/x/../admin", "https://" + a + "/admin")) {
            rejectedOrDenied(p, t);
        }
    }

    /**
     * README "Path canonicalization": with case_insensitive_paths, "simple Unicode case folding, per character:
     * /CAFÉ is /café, /%E2%84%AA (KELVIN SIGN) is /k" - so KELVIN SIGN and LONG S (U+017F, folds to s) cannot
     * walk around a deny rule.
     */
    @Test
    void caseInsensitivePathsFoldKelvinSignAndLongSBeforeMatching() throws Exception {
        Probe p = new Probe(harness, start(ADMIN_POLICY, Map.of("CI", "true")));

        p.forbidden("/%E2%84%AAb/x");
        p.forbidden("/%E2%84%AA%E2%84%AA/x/../..//kb");
        p.forbidden("/%C5%BFecret/x");
        p.forbidden("/SECRET/");
        p.forbidden("/%41dmin/%2e/");
        assertThat(p.allowed("/KBX/y").target()).isEqualTo("/KBX/y");
        // "the path is forwarded as sent" keeps the case, but it is still the canonical form (SPEC 3.4)
        assertThat(p.allowed("/x/./../Pub//%41b/%7E/").target()).isEqualTo("/Pub/Ab/~/");
    }

    // ------------------------------------------------------------------ 2. 401 versus 403, first match

    private static final String IDENTITY_POLICY = """
            clients:
              trusted_proxies: []
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
            default: deny
            rules:
              - name: ip-then-auth
                match: { paths: ["/mixed-a/**"] }
                require: { ip: ["10.0.0.0/8"], authenticated: true }
              - name: auth-then-ip
                match: { paths: ["/mixed-b/**"] }
                require: { authenticated: true, ip: ["10.0.0.0/8"] }
              - name: hdr-and-role
                match: { paths: ["/hdr-role/**"] }
                require: { headers: { X-Key: [k1] }, roles: [admin] }
              - name: hdr-only
                match: { paths: ["/hdr/**"] }
                require: { headers: { X-Key: [k1] } }
              - name: deny-anon
                match: { paths: ["/deny-anon/**"], authenticated: false }
                action: deny
              - name: after-deny-anon
                match: { paths: ["/deny-anon/**"] }
              - name: first
                match: { paths: ["/first/**"] }
                require: { roles: [admin] }
              - name: second-never-reached
                match: { paths: ["/first/**"] }
              - name: any-net-or-admin
                match: { paths: ["/any/**"] }
                require: { any: [ { ip: ["10.0.0.0/8"] }, { roles: [admin] } ] }
              - name: not-anonymous
                match: { paths: ["/not-anon/**"] }
                require: { not: { authenticated: false } }
              - name: all-composed
                match: { paths: ["/all-composed/**"] }
                require: { all: [ { headers: { X-Key: [k1] } }, { claims: { tenant: [acme] } } ] }
              - name: typed-claims
                match: { paths: ["/typed/**"] }
                require: { claims: { email_verified: [true], level: [7] } }
              - name: not-banned
                match: { paths: ["/not-banned/**"] }
                require: { not: { roles: [banned] } }
            """;

    /**
     * SPEC 3.6: 401 when "a failing predicate needs identity (authenticated, roles, all_roles, claims) and the
     * request is anonymous", otherwise 403; SPEC 3.2 "keys are ANDed", so the order of keys in a require map cannot
     * change the answer.
     */
    @Test
    void anAnonymousRequestFailingAnIdentityPredicateGets401WhateverElseFailsAndWhateverTheKeyOrder() throws Exception {
        Probe p = new Probe(harness, start(IDENTITY_POLICY));
        String user = bearer(token("u", "user"));
        String admin = bearer(token("boss", "admin"));

        // ip fails (peer 127.0.0.1) and authenticated fails (anonymous): same status in both key orders
        RawResponse a = unauthorized(p, false, "/mixed-a/x");
        RawResponse b = unauthorized(p, false, "/mixed-b/x");
        assertThat(line(a).get("rule").asText()).isEqualTo("ip-then-auth");
        assertThat(line(b).get("rule").asText()).isEqualTo("auth-then-ip");
        // authenticated but outside the network: 403 in both orders
        p.forbidden("/mixed-a/x", user);
        p.forbidden("/mixed-b/x", user);

        // a header predicate and a role predicate: anonymous -> 401 whether or not the header holds
        unauthorized(p, false, "/hdr-role/x", "X-Key: k1");
        unauthorized(p, false, "/hdr-role/x");
        p.forbidden("/hdr-role/x", admin);
        p.allowed("/hdr-role/x", admin, "X-Key: k1");

        // no identity predicate at all: 403, never 401
        RawResponse h = p.forbidden("/hdr/x");
        assertThat(h.header("WWW-Authenticate")).isEmpty();
        p.allowed("/hdr/x", "X-Key: k1");
        // a rejected token makes the request anonymous; without an identity predicate that is just 403 / 200
        String forged = bearer(JwtMint.tamperSignature(token("boss", "admin")));
        p.forbidden("/hdr/x", forged);
        p.allowed("/hdr/x", forged, "X-Key: k1");
    }

    /**
     * SPEC 3.6 401 "a failing predicate needs identity (authenticated, roles, all_roles, claims) and the request is
     * anonymous", also when that predicate sits inside any / all / not (SPEC 3.2 composition): an anonymous request
     * that a token could let through is challenged, an identified one is forbidden.
     */
    @Test
    void identityPredicatesInsideAnyAllAndNotStillChallengeAnonymousRequests() throws Exception {
        Probe p = new Probe(harness, start(IDENTITY_POLICY));

        unauthorized(p, false, "/any/x");
        p.forbidden("/any/x", bearer(token("u", "user")));
        p.allowed("/any/x", bearer(token("boss", "admin")));

        unauthorized(p, false, "/not-anon/x");
        p.allowed("/not-anon/x", bearer(token("u")));

        unauthorized(p, false, "/all-composed/x", "X-Key: k1");
        p.forbidden("/all-composed/x", "X-Key: k1", bearer(token("u")));
        p.allowed("/all-composed/x", "X-Key: k1",
                bearer(JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("t").claim("tenant", "acme").build())));
    }

    private static String withClaims(Map<String, Object> extra) {
        com.nimbusds.jwt.JWTClaimsSet.Builder b = JwtMint.claims("typed");
        extra.forEach(b::claim);
        return bearer(JwtMint.sign(key, JWSAlgorithm.RS256, b.build()));
    }

    /**
     * README claims: "the JWT claim equals one of the values, or as an array contains one (numbers and booleans
     * compare by their text, true, 7)"; keys ANDed; a missing claim, another value or an object never holds.
     */
    @Test
    void claimsCompareNumbersAndBooleansByTheirTextAndNeverMatchObjects() throws Exception {
        Probe p = new Probe(harness, start(IDENTITY_POLICY));

        p.allowed("/typed/x", withClaims(Map.of("email_verified", true, "level", 7)));
        p.allowed("/typed/x", withClaims(Map.of("email_verified", "true", "level", "7")));
        p.allowed("/typed/x", withClaims(Map.of("email_verified", List.of(true), "level", List.of(3, 7))));
        p.forbidden("/typed/x", withClaims(Map.of("email_verified", false, "level", 7)));
        p.forbidden("/typed/x", withClaims(Map.of("level", 7)));
        p.forbidden("/typed/x", withClaims(Map.of("email_verified", true, "level", 70)));
        p.forbidden("/typed/x", withClaims(Map.of("email_verified", true, "level", "07")));
        p.forbidden("/typed/x", withClaims(Map.of("email_verified", true, "level", Map.of("value", 7))));
        p.forbidden("/typed/x", withClaims(Map.of("email_verified", "True", "level", 7)));
        unauthorized(p, false, "/typed/x");
    }

    /** SPEC 3.1: the first matching rule decides (a deny by `match` is 403, not a failed require); SPEC 3.6. */
    @Test
    void theFirstMatchingRuleDecidesAndADenyByMatchIsNever401() throws Exception {
        Probe p = new Probe(harness, start(IDENTITY_POLICY));

        RawResponse anon = unauthorized(p, false, "/first/x");
        assertThat(line(anon).get("rule").asText()).isEqualTo("first");
        assertThat(line(anon).get("decision").asText()).isEqualTo("deny");
        RawResponse forged = unauthorized(p, true, "/first/x", bearer(JwtMint.tamperSignature(token("boss", "admin"))));
        assertThat(line(forged).get("rule").asText()).isEqualTo("first");
        RawResponse user = p.forbidden("/first/x", bearer(token("u", "user")));
        assertThat(line(user).get("rule").asText()).isEqualTo("first");
        p.allowed("/first/x", bearer(token("boss", "admin")));

        // a deny rule whose match needs anonymity: 403 (denied by a rule), the following rule never sees it
        RawResponse denied = p.forbidden("/deny-anon/x");
        assertThat(denied.header("WWW-Authenticate")).isEmpty();
        assertThat(line(denied).get("rule").asText()).isEqualTo("deny-anon");
        RawResponse through = p.send("GET", "/deny-anon/x", bearer(token("u")));
        assertThat(through.status()).isEqualTo(200);
        assertThat(line(through).get("rule").asText()).isEqualTo("after-deny-anon");

        // not: { roles: [banned] } - anonymous has no roles, so it holds; an identity with the role is denied 403
        p.allowed("/not-banned/x");
        p.forbidden("/not-banned/x", bearer(token("b", "banned")));
        p.allowed("/not-banned/x", bearer(token("ok", "user")));

        // default deny is 403 whatever the identity
        p.forbidden("/nowhere");
        p.forbidden("/nowhere", bearer(token("boss", "admin")));
    }

    // ------------------------------------------------------------------ 3. audit mode never changes the decision

    private static final String AUDIT_POLICY = """
            clients:
              trusted_proxies: []
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
            rate_limits:
              once: { key: client_ip, limit: 1, per: 1h }
            default: deny
            rules:
              - name: audit-deny-all
                match: { paths: ["/**"] }
                action: deny
                mode: audit
              - name: audit-needs-admin
                match: { paths: ["/r/**"] }
                require: { roles: [admin] }
                mode: audit
              - name: audit-limited
                match: { paths: ["/limited/**"] }
                rate_limit: once
                mode: audit
              - name: audit-hidden
                match: { paths: ["/hidden/**"] }
                action: deny
                deny_status: 404
                mode: audit
              - name: open
                match: { paths: ["/open/**", "/r/**", "/hidden/**"] }
              - name: limited-enforced
                match: { paths: ["/limited/**"] }
                rate_limit: once
              - name: audit-after-the-decision
                match: { paths: ["/**"] }
                action: deny
                mode: audit
            """;

    /**
     * SPEC 3.1 mode audit: "the rule's decision is computed and recorded in the request's log line ... and the
     * request goes on to the next rule as if this rule had not matched" - so no 401, no 404 and no 429 from an
     * audit rule (and no token drawn from its limiter), `rule` is the enforcing rule, and audit rules after the
     * deciding rule are not reached.
     */
    @Test
    void auditRulesNeverAnswer401Or404Or429AndAreListedInOrder() throws Exception {
        Probe p = new Probe(harness, start(AUDIT_POLICY));

        RawResponse open = p.send("GET", "/open/x");
        assertThat(open.status()).isEqualTo(200);
        JsonNode l = line(open);
        assertThat(l.get("rule").asText()).isEqualTo("open");
        assertThat(l.get("decision").asText()).isEqualTo("allow");
        // rules after the deciding one are never reached, audit rules included (SPEC 3.1 "first match")
        assertThat(l.get("audit")).as("audit list of %s", l).hasSize(1);
        assertThat(l.get("audit").get(0).get("rule").asText()).isEqualTo("audit-deny-all");
        assertThat(l.get("audit").get(0).get("decision").asText()).isEqualTo("deny");

        RawResponse r = p.send("GET", "/r/x");
        assertThat(r.status()).as("an audit identity rule never challenges: %s", r).isEqualTo(200);
        assertThat(r.header("WWW-Authenticate")).isEmpty();
        JsonNode rl = line(r);
        List<String> rules = new ArrayList<>();
        rl.get("audit").forEach(n -> rules.add(n.get("rule").asText() + "=" + n.get("decision").asText()));
        assertThat(rules).containsExactly("audit-deny-all=deny", "audit-needs-admin=deny");

        RawResponse hidden = p.send("GET", "/hidden/x");
        assertThat(hidden.status()).as("an audit deny_status 404 never hides: %s", hidden).isEqualTo(200);
        assertThat(line(hidden).get("rule").asText()).isEqualTo("open");

        // the audit rule names the same limiter as the enforcing rule behind it: the audit rule draws no token, so
        // the enforcing rule admits exactly one request (limit 1 per hour) and limits the second
        RawResponse first = p.send("GET", "/limited/0");
        assertThat(first.status()).as("first request; an audit rate_limit draws no token: %s", first).isEqualTo(200);
        assertThat(line(first).get("rule").asText()).isEqualTo("limited-enforced");
        RawResponse second = p.send("GET", "/limited/1");
        assertThat(second.status()).as("second request, limited by the enforcing rule: %s", second).isEqualTo(429);

        // no enforcing rule matched: every audit rule is reached (also the last one), then default deny
        RawResponse none = p.rejected(403, "GET", "/nothing");
        JsonNode nl = line(none);
        assertThat(nl.get("decision").asText()).isEqualTo("deny");
        assertThat(nl.get("rule").isNull() || !nl.get("rule").asText().startsWith("audit-"))
                .as("an audit rule is never the deciding rule: %s", nl).isTrue();
        List<String> noneRules = new ArrayList<>();
        nl.get("audit").forEach(n -> noneRules.add(n.get("rule").asText()));
        assertThat(noneRules).containsExactly("audit-deny-all", "audit-after-the-decision");
        assertThat(harness.upstream().requests()).extracting(RecordedRequest::path)
                .containsExactly("/open/x", "/r/x", "/hidden/x", "/limited/0");
    }

    // ------------------------------------------------------------------ 4. methods and hosts

    private static final String METHOD_HOST_POLICY = """
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            default: deny
            rules:
              - name: internal-hosts
                match: { hosts: ["internal.test", "*.corp.test", "[::1]"] }
                action: deny
              - name: get-only
                match: { paths: ["/g/**"], methods: [GET] }
              - name: everything-else
                match: { paths: ["/open/**"] }
            """;

    /**
     * SPEC 3.2 methods: "request method is one" (HEAD is not GET, so a GET-only allow rule does not let HEAD
     * through: default deny); hosts: "Host (port removed, case-insensitive) is one", also for IPv6 literals, the
     * authority of an absolute-form target, and whatever X-Forwarded-Host / Forwarded say.
     */
    @Test
    void methodAndHostConditionsDenyEveryEquivalentSpelling() throws Exception {
        Gateway gw = start(METHOD_HOST_POLICY);
        Probe p = new Probe(harness, gw);

        p.allowedAs("GET", "/g/x");
        int heads = harness.upstream().headsReceived();
        RawResponse head = p.send("HEAD", "/g/x");
        assertThat(head.status()).as("HEAD under a GET-only allow rule, default deny: %s", head).isEqualTo(403);
        harness.upstream().assertHeadsStayAt(heads, Probe.QUIET);
        p.forbiddenAs("OPTIONS", "/g/x");
        assertThat(p.send("Get", "/g/x").status()).isEqualTo(400);
        assertThat(p.send("gET", "/open/x").status()).isEqualTo(400);

        for (String host : List.of("internal.test", "INTERNAL.test:8080", "Internal.Test:1",
                "a.corp.test", "A.B.CORP.TEST:443", "[::1]", "[::1]:8080")) {
            RawResponse r = p.forbidden("/open/x", "Host: " + host);
            assertThat(line(r).get("rule").asText()).as("rule for Host %s", host).isEqualTo("internal-hosts");
        }
        p.forbiddenAs("GET", "http://internal.test/open/x", "Host: internal.test");
        p.forbiddenAs("GET", "http://INTERNAL.TEST:8080/open/x", "Host: internal.test:8080");
        // optional whitespace around the value, an empty port (RFC 3986 allows "host:")
        for (String host : List.of("  internal.test  ", "\tinternal.test", "internal.test:")) {
            rejectedOrDenied(p, "/open/x", "Host:" + host);
        }
        // user info is not part of a Host: never proxied as if it were another host
        rejectedOrDenied(p, "/open/x", "Host: user@internal.test");
        // HTTP/1.0 absolute-form without Host: the authority is the host
        int before = harness.upstream().headsReceived();
        RawResponse v10 = RawHttp.exchange(gw.port(), "GET http://internal.test/open/x HTTP/1.0\r\n\r\n");
        assertThat(v10.status()).as("HTTP/1.0 absolute-form to internal.test: %s", v10).isIn(400, 403);
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        // the condition reads Host, not what a (even trusted) peer claims the original host was (SPEC 3.2)
        p.forbidden("/open/x", "Host: internal.test", "X-Forwarded-Host: public.test");
        p.forbidden("/open/x", "Host: internal.test", "Forwarded: host=public.test");
        // a list in Host is not a host; it never turns a denied host into an allowed one
        rejectedOrDenied(p, "/open/x", "Host: internal.test, public.test");
        p.allowed("/open/x", "Host: corp.test");
        p.allowed("/open/x", "Host: internal.test.example");
    }

    // ------------------------------------------------------------------ 5. schedules

    private static final String SCHEDULE_POLICY = """
            default: deny
            rules:
              - name: always-utc
                match: { paths: ["/always/**"] }
                require: { schedule: { from: "00:00", to: "24:00", timezone: "UTC" } }
              - name: all-days-kiritimati
                match: { paths: ["/all-days/**"] }
                require: { schedule: { days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", timezone: "Pacific/Kiritimati" } }
              - name: open-now
                match: { paths: ["/open-now/**"] }
                require: { schedule: { from: "{{OPEN_FROM}}", to: "{{OPEN_TO}}", timezone: "Asia/Kathmandu" } }
              - name: closed-now
                match: { paths: ["/closed-now/**"] }
                require: { schedule: { from: "{{CLOSED_FROM}}", to: "{{CLOSED_TO}}", timezone: "Asia/Kathmandu" } }
              - name: utc-times-in-kathmandu
                match: { paths: ["/wrong-zone/**"] }
                require: { schedule: { from: "{{UTC_FROM}}", to: "{{UTC_TO}}", timezone: "Asia/Kathmandu" } }
              - name: start-day
                match: { paths: ["/start-day/**"] }
                require: { schedule: { days: [{{START_DAY}}], from: "{{WIDE_FROM}}", to: "{{WIDE_TO}}", timezone: "Asia/Kathmandu" } }
              - name: other-days
                match: { paths: ["/other-days/**"] }
                require: { schedule: { days: [{{OTHER_DAYS}}], from: "{{WIDE_FROM}}", to: "{{WIDE_TO}}", timezone: "Asia/Kathmandu" } }
              - name: wrap-start-day
                match: { paths: ["/wrap-start-day/**"] }
                require: { schedule: { days: [{{WRAP_DAY}}], from: "{{WRAP_FROM}}", to: "{{WRAP_TO}}", timezone: "Asia/Kathmandu" } }
              - name: wrap-other-days
                match: { paths: ["/wrap-other-days/**"] }
                require: { schedule: { days: [{{WRAP_OTHERS}}], from: "{{WRAP_FROM}}", to: "{{WRAP_TO}}", timezone: "Asia/Kathmandu" } }
              - name: not-in-window
                match: { paths: ["/not-closed/**"] }
                require: { not: { schedule: { from: "{{CLOSED_FROM}}", to: "{{CLOSED_TO}}", timezone: "Asia/Kathmandu" } } }
            """;

    private static String hhmm(LocalTime t) {
        return String.format(Locale.ROOT, "%02d:%02d", t.getHour(), t.getMinute());
    }

    private static String day(DayOfWeek d) {
        return d.getDisplayName(TextStyle.SHORT, Locale.ROOT).toLowerCase(Locale.ROOT);
    }

    /**
     * SPEC 3.2 / README schedule: "now, in that zone, is one of the days and in [from, to)", `to` may be 24:00,
     * "from > to wraps midnight, and the window belongs to the day it starts on". Windows are computed around the
     * test's own clock (the gateway's clock is the same machine's) with at least 60 minutes of margin; Asia/Kathmandu
     * (+05:45, no daylight saving) shows that the zone, not UTC, is used. A failed schedule is 403, never 401.
     */
    @Test
    void schedulesUseTheConfiguredZoneAndTheWindowsStartDay() throws Exception {
        ZoneId ktm = ZoneId.of("Asia/Kathmandu");
        ZonedDateTime now = ZonedDateTime.now(ktm).withSecond(0).withNano(0);
        ZonedDateTime utcNow = now.withZoneSameInstant(ZoneId.of("UTC"));
        DayOfWeek startDay = now.minusHours(2).getDayOfWeek();
        List<String> others = new ArrayList<>();
        for (DayOfWeek d : DayOfWeek.values()) {
            if (d != startDay) {
                others.add(day(d));
            }
        }
        Map<String, String> vars = new HashMap<>();
        vars.put("OPEN_FROM", hhmm(now.minusMinutes(60).toLocalTime()));
        vars.put("OPEN_TO", hhmm(now.plusMinutes(60).toLocalTime()));
        vars.put("CLOSED_FROM", hhmm(now.plusMinutes(90).toLocalTime()));
        vars.put("CLOSED_TO", hhmm(now.plusMinutes(180).toLocalTime()));
        vars.put("UTC_FROM", hhmm(utcNow.minusMinutes(60).toLocalTime()));
        vars.put("UTC_TO", hhmm(utcNow.plusMinutes(60).toLocalTime()));
        vars.put("WIDE_FROM", hhmm(now.minusHours(2).toLocalTime()));
        vars.put("WIDE_TO", hhmm(now.plusHours(2).toLocalTime()));
        vars.put("START_DAY", day(startDay));
        vars.put("OTHER_DAYS", String.join(", ", others));
        // a window from now+60m to now+30m wraps midnight and is 23.5 h long: now is inside the one that started
        // yesterday (or, when now+60m is past midnight and now+30m is not, inside today's non-wrapping one)
        LocalTime wrapFrom = now.plusMinutes(60).toLocalTime();
        LocalTime wrapTo = now.plusMinutes(30).toLocalTime();
        DayOfWeek wrapDay = wrapFrom.isAfter(wrapTo) ? now.minusDays(1).getDayOfWeek() : now.getDayOfWeek();
        List<String> notWrapDay = new ArrayList<>();
        for (DayOfWeek d : DayOfWeek.values()) {
            if (d != wrapDay) {
                notWrapDay.add(day(d));
            }
        }
        vars.put("WRAP_FROM", hhmm(wrapFrom));
        vars.put("WRAP_TO", hhmm(wrapTo));
        vars.put("WRAP_DAY", day(wrapDay));
        vars.put("WRAP_OTHERS", String.join(", ", notWrapDay));
        Probe p = new Probe(harness, start(SCHEDULE_POLICY, vars));

        p.allowed("/always/x");
        p.allowed("/all-days/x");
        p.allowed("/open-now/x");
        RawResponse closed = p.forbidden("/closed-now/x");
        assertThat(line(closed).get("rule").asText()).isEqualTo("closed-now");
        p.forbidden("/wrong-zone/x");
        p.allowed("/start-day/x");
        p.forbidden("/other-days/x");
        p.allowed("/not-closed/x");
        // README: "the window belongs to the day it starts on (fri 22:00-06:00 holds on Saturday 03:00)"
        p.allowed("/wrap-start-day/x");
        p.forbidden("/wrap-other-days/x");
    }

    // ------------------------------------------------------------------ 6. referrers

    private static final String REFERRER_POLICY = """
            default: deny
            rules:
              - name: assets
                match: { paths: ["/assets/**"] }
                require: { referrers: [none, "https://app.example.com/**", "https://*.cdn.test/**"] }
              - name: strict
                match: { paths: ["/strict/**"] }
                require: { referrers: ["https://app.example.com/app/**"] }
              - name: pattern-port
                match: { paths: ["/ported/**"] }
                require: { referrers: ["HTTPS://Ports.Example.com:443/**", "http://plain.example.com:8080/**"] }
            """;

    /**
     * README referrers: "scheme://host[:port]/path (query and fragment ignored; scheme and host case-insensitive,
     * path case-sensitive; default ports ignored). * matches within one host label ... none matches a request
     * without Referer. A Referer that is not an absolute http(s) URL (or has user info) matches nothing, not even
     * none."
     */
    @Test
    void referrersMatchOnlyTheRealOriginAndPath() throws Exception {
        Probe p = new Probe(harness, start(REFERRER_POLICY));

        p.allowed("/assets/a.png");
        for (String ok : List.of("https://app.example.com/page?x=1", "HTTPS://APP.Example.COM/page",
                "https://app.example.com:443/page", "https://app.example.com/page#frag", "https://a.cdn.test/x/y")) {
            p.allowed("/assets/a.png", "Referer: " + ok);
        }
        for (String bad : List.of(
                "https://app.example.com.evil.test/page", "https://app.example.com@evil.test/page",
                "https://user@app.example.com/page", "https://evil.test/https://app.example.com/",
                "https://evil.test/?r=https://app.example.com/", "http://app.example.com/page",
                "https://app.example.com:8443/page", "//app.example.com/page", "app.example.com/page",
                "android-app://app.example.com/", "ftp://app.example.com/x", "https://a.b.cdn.test/x",
                "https://cdn.test/x", "https://evilapp.example.com/x", "about:blank", "null")) {
            RawResponse r = p.forbidden("/assets/a.png", "Referer: " + bad);
            assertThat(line(r).get("rule").asText()).as("rule for Referer %s", bad).isEqualTo("assets");
        }
        // an empty Referer is present but not an absolute URL: it matches nothing, not even none
        p.forbidden("/assets/a.png", "Referer: ");

        p.allowed("/strict/x", "Referer: https://app.example.com/app/x?q=/other");
        p.forbidden("/strict/x", "Referer: https://app.example.com/APP/x");
        p.forbidden("/strict/x", "Referer: https://app.example.com/other/app/x");
        p.forbidden("/strict/x", "Referer: https://app.example.com/apps/x");
        p.forbidden("/strict/x");

        // default ports ignored and scheme / host case-insensitive on the pattern side as well
        p.allowed("/ported/x", "Referer: https://ports.example.com/page");
        p.allowed("/ported/x", "Referer: https://ports.example.com:443/page");
        p.allowed("/ported/x", "Referer: http://plain.example.com:8080/page");
        p.forbidden("/ported/x", "Referer: http://plain.example.com/page");
        p.forbidden("/ported/x", "Referer: https://ports.example.com:444/page");
        p.forbidden("/ported/x", "Referer: http://ports.example.com/page");
    }

    // ------------------------------------------------------------------ 7. GeoIP: IPv6, IPv4-mapped, unknown

    private static final String GEO_POLICY = """
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            geoip:
              database: "{{COUNTRY_DB}}"
              asn_database: "{{ASN_DB}}"
            default: allow
            rules:
              - name: embargo
                match: { countries: [KP, IR] }
                action: deny
              - name: hosting
                match: { asns: [64501] }
                action: deny
              - name: de-only
                match: { paths: ["/de/**"] }
                require: { countries: [DE] }
            """;

    /**
     * SPEC 3.2 countries / asns "of the client IP", and "IPv4, IPv6 and IPv4-mapped IPv6 all compare as the same
     * address": an IPv4-mapped spelling of an embargoed IPv4 address is still embargoed; IPv6 entries of both
     * databases match in any spelling; an unknown or unparsable client is ZZ and fails a country allow-list.
     */
    @Test
    void countriesAndAsnsHoldForIpv6AndIpv4MappedClients() throws Exception {
        Probe p = new Probe(harness, start(GEO_POLICY));

        p.forbidden("/x", "X-Forwarded-For: 175.45.177.9");
        RawResponse mapped = p.forbidden("/x", "X-Forwarded-For: ::ffff:175.45.177.9");
        JsonNode ml = line(mapped);
        assertThat(ml.get("rule").asText()).isEqualTo("embargo");
        assertThat(ml.get("country").asText()).isEqualTo("KP");
        p.forbidden("/x", "X-Forwarded-For: ::FFFF:AF2D:B109");
        p.forbidden("/x", "X-Forwarded-For: 0:0:0:0:0:ffff:175.45.177.9");

        p.forbidden("/x", "X-Forwarded-For: 175.45.177.9:8080");
        p.forbidden("/x", "X-Forwarded-For: 2a0e:97c0::1");
        p.forbidden("/x", "X-Forwarded-For: 2A0E:97C0:0:0:0:0:0:1");
        p.forbidden("/x", "Forwarded: for=\"[2a0e:97c0::1]:4711\"");

        RawResponse asn = p.forbidden("/x", "X-Forwarded-For: 2a02:2e0:3fe::9");
        assertThat(line(asn).get("rule").asText()).isEqualTo("hosting");
        assertThat(line(asn).get("country").asText()).isEqualTo("DE");

        p.allowed("/de/x", "X-Forwarded-For: 2a02:2e0:1::7");
        p.allowed("/de/x", "X-Forwarded-For: 2A02:02E0:0001::7");
        RawResponse unknown = p.forbidden("/de/x", "X-Forwarded-For: 8.8.8.8");
        assertThat(line(unknown).get("country").asText()).isEqualTo("ZZ");
        p.forbidden("/de/x", "X-Forwarded-For: 2001:4860::8888");
        // a zone id is not an IP literal: the walk stops, the client is the loopback peer (ZZ)
        p.forbidden("/de/x", "X-Forwarded-For: 2a02:2e0:1::7%eth0");
        p.allowed("/x", "X-Forwarded-For: 81.2.69.5");
    }

    /**
     * README GeoIP: "Private, reserved, loopback, link-local, documentation and unlisted addresses are country ZZ
     * and AS 0" - also when a database lists them (the test database maps 198.51.100.0/24, 10.0.0.0/8 and
     * 2001:db8::/32 to embargoed countries).
     */
    @Test
    void documentationAndPrivateAddressesAreZzEvenWhenTheDatabaseListsThem() throws Exception {
        Probe p = new Probe(harness, start(GEO_POLICY));

        for (String ip : List.of("198.51.100.7", "10.1.2.3", "2001:db8::7", "::ffff:198.51.100.7")) {
            RawResponse r = p.send("GET", "/x", "X-Forwarded-For: " + ip);
            JsonNode l = line(r);
            assertThat(l.get("country").asText()).as("country of %s", ip).isEqualTo("ZZ");
            assertThat(r.status()).as("%s is not embargoed: %s", ip, r).isEqualTo(200);
        }
    }

    // ------------------------------------------------------------------ 8. rate limits only where allowed

    private static final String RATE_POLICY = """
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
            rate_limits:
              once-per-ip: { key: client_ip, limit: 1, per: 1h }
              once-per-user: { key: subject, limit: 1, per: 1h }
            default: deny
            rules:
              - name: keyed
                match: { paths: ["/keyed/**"] }
                require: { headers: { X-Ok: [yes] } }
                rate_limit: once-per-ip
              - name: users
                match: { paths: ["/users/**"] }
                require: { roles: [member] }
                rate_limit: once-per-user
            """;

    /**
     * SPEC 3.1 "rate_limit: applied only when the request is allowed": 403s and 401s of the same rule draw no
     * token; README "IPv4 and IPv4-mapped IPv6 are one key", so the mapped spelling cannot get a second bucket.
     */
    @Test
    void deniedRequestsDrawNoTokenAndIpv4MappedSharesTheIpv4Bucket() throws Exception {
        Probe p = new Probe(harness, start(RATE_POLICY));
        String ip = "X-Forwarded-For: 198.51.100.23";
        String mappedIp = "X-Forwarded-For: ::ffff:198.51.100.23";

        for (int i = 0; i < 3; i++) {
            p.forbidden("/keyed/x", ip);
            p.forbidden("/keyed/x", mappedIp);
        }
        p.allowed("/keyed/x", ip, "X-Ok: yes");
        RawResponse limited = p.send("GET", "/keyed/x", mappedIp, "X-Ok: yes");
        assertThat(limited.status()).as("IPv4-mapped spelling of a limited address: %s", limited).isEqualTo(429);
        assertThat(limited.header("Retry-After")).isPresent();

        for (int i = 0; i < 3; i++) {
            unauthorized(p, false, "/users/x");
            p.forbidden("/users/x", bearer(token("carol", "guest")));
        }
        p.allowed("/users/x", bearer(token("carol", "member")));
        assertThat(p.send("GET", "/users/x", bearer(token("carol", "member"))).status()).isEqualTo(429);
        p.allowed("/users/x", bearer(token("dave", "member")));
    }
}
