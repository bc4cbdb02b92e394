package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box cross-feature checks written from SPEC 3.2 / 3.3 / 3.5 / 3.7 and README "Identity", "Trusted
 * proxies and the client IP" and "Proxying": client IP, forwarded identity and bearer tokens together.
 *
 * <p>The client connects from distinct loopback source addresses, so one gateway sees three peers:
 * 127.0.0.1 is a load balancer ({@code clients.trusted_proxies}), 127.0.0.2 the authenticating proxy
 * ({@code identity.forwarded.trusted_proxies} only), 127.0.0.3 anybody (trusted for nothing).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecIdentityCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    static final String LB = "127.0.0.1";
    static final String IDP = "127.0.0.2";
    static final String ANYONE = "127.0.0.3";

    private static final String CONFIG = """
            listen: "{{LISTEN}}"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
            clients:
              trusted_proxies: ["127.0.0.1/32", "10.0.0.0/8"]
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
              forwarded:
                trusted_proxies: ["127.0.0.2/32"]
                user_header: "X-Forwarded-User"
                roles_header: "X-Forwarded-Groups"
              upstream_headers:
                subject: "X-Auth-Subject"
                roles: "X-Auth-Roles"
            rate_limits:
              per-ip: { key: client_ip, limit: 1, per: 1h }
              per-user: { key: subject, limit: 1, per: 1h }
            default: deny
            rules:
              - name: public
                match: { paths: ["/public/**"] }
              - name: blocked-network
                match: { ip: ["203.0.113.0/24"] }
                action: deny
              - name: partners
                match: { paths: ["/partners/**"], ip: ["198.51.100.0/24", "2001:db8::/32"] }
              - name: local
                match: { paths: ["/local/**"], ip: ["127.0.0.0/8", "::1/128"] }
              - name: lan
                match: { paths: ["/lan/**"], ip: ["10.0.0.0/8"] }
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
              - name: ops
                match: { paths: ["/ops/**"] }
                require: { roles: [ops] }
              - name: tenant
                match: { paths: ["/tenant/**"] }
                require: { claims: { sub: [alice, bob], tenant: [acme] } }
              - name: by-ip
                match: { paths: ["/limited-ip/**"] }
                rate_limit: per-ip
              - name: by-user
                match: { paths: ["/limited-user/**"] }
                rate_limit: per-user
              - name: h-real-ip
                match: { paths: ["/h/real-ip/**"], headers: { X-Real-IP: [] } }
              - name: h-client-ip
                match: { paths: ["/h/client-ip/**"], headers: { X-Client-IP: [] } }
              - name: h-fwd-host
                match: { paths: ["/h/fwd-host/**"], headers: { X-Forwarded-Host: [evil.example] } }
              - name: h-fwd-user
                match: { paths: ["/h/fwd-user/**"], headers: { X-Forwarded-User: [alice] } }
              - name: h-auth-subject
                match: { paths: ["/h/auth-subject/**"], headers: { X-Auth-Subject: [root] } }
            """;

    static RSAKey key;
    static RSAKey attacker;
    static String jwksFile;

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @BeforeAll
    static void keys() throws Exception {
        key = JwtMint.rsa("xid-1");
        attacker = JwtMint.rsa("xid-1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
    }

    private static Gateway start() throws Exception {
        return start("127.0.0.1:0");
    }

    private static Gateway start(String listen) throws Exception {
        return harness.startYaml(dir, CONFIG, Map.of("JWKS_FILE", jwksFile, "LISTEN", listen));
    }

    private static String valid(String sub, String... roles) {
        return JwtMint.sign(key, JWSAlgorithm.RS256, claims(sub, roles).build());
    }

    // ------------------------------------------------------------------ 1

    /**
     * SPEC 3.5: forwarded identity only "when the direct peer is inside forwarded.trusted_proxies". A load
     * balancer (trusted for client addresses) whose X-Forwarded-For names the authenticating proxy's address
     * makes that address the client IP, but must not make its X-Forwarded-User believed.
     */
    @Test
    void forwardedIdentityTrustIsTheTcpPeerNeverTheClientIpFromXForwardedFor() throws Exception {
        Gateway gw = start();
        String[] spoof = {"X-Forwarded-For: " + IDP, "X-Forwarded-User: alice", "X-Forwarded-Groups: admin"};

        RawResponse denied = JwtAssertions.unauthorized(harness, probe(gw, LB), false, "/admin/x", spoof);
        JsonNode line = lineOf(denied);
        assertThat(line.path("client_ip").asText()).as("the walk made the client %s: %s", IDP, line).isEqualTo(IDP);
        assertThat(line.path("subject").isNull()).as("anonymous in the log: %s", line).isTrue();

        RecordedRequest up = probe(gw, LB).allowed("/public/x", spoof);
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-forwarded-user", "x-forwarded-groups", "x-auth-subject", "x-auth-roles");
        assertThat(xffChain(up)).containsExactly(IDP, LB);

        // control: the authenticating proxy itself is believed, but not for client addresses
        RecordedRequest fromIdp = probe(gw, IDP).allowed("/admin/x", "X-Forwarded-User: alice",
                "X-Forwarded-Groups: admin", "X-Forwarded-For: 198.51.100.7");
        assertThat(fromIdp.headerValues("X-Auth-Subject")).containsExactly("alice");
        assertThat(xffChain(fromIdp)).containsExactly(IDP);
    }

    // ------------------------------------------------------------------ 2

    /**
     * README Identity: "A trusted proxy's forwarded-identity headers go on to the upstream only when the identity
     * came from them." From the authenticating proxy: a valid token wins (its headers must not go on), a rejected
     * token makes the request anonymous (they must not go on), roles without a user are no identity.
     */
    @Test
    void theProxysIdentityHeadersReachTheUpstreamOnlyWhenTheIdentityCameFromThem() throws Exception {
        Gateway gw = start();

        RecordedRequest withToken = probe(gw, IDP).allowed("/public/x", bearer(valid("tok-user", "user")),
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");
        assertThat(withToken.headerValues("X-Auth-Subject")).containsExactly("tok-user");
        assertThat(JwtAssertions.normalizedNames(withToken.headers()))
                .as("identity came from the token; headers at the upstream: %s", withToken.headers())
                .doesNotContain("x-forwarded-user", "x-forwarded-groups");

        String forged = JwtMint.sign(attacker, JWSAlgorithm.RS256, claims("alice", "admin").build());
        JwtAssertions.unauthorized(harness, probe(gw, IDP), true, "/admin/x", bearer(forged), "X-Forwarded-User: alice",
                "X-Forwarded-Groups: admin");
        RecordedRequest rejected = probe(gw, IDP).allowed("/public/x", bearer(forged), "X-Forwarded-User: alice",
                "X-Forwarded-Groups: admin");
        assertThat(JwtAssertions.normalizedNames(rejected.headers()))
                .as("rejected token, anonymous; headers at the upstream: %s", rejected.headers())
                .doesNotContain("x-forwarded-user", "x-forwarded-groups", "x-auth-subject", "x-auth-roles");

        RecordedRequest rolesOnly = probe(gw, IDP).allowed("/public/x", "X-Forwarded-Groups: admin");
        assertThat(JwtAssertions.normalizedNames(rolesOnly.headers()))
                .as("no user, no identity; headers at the upstream: %s", rolesOnly.headers())
                .doesNotContain("x-forwarded-groups", "x-auth-subject", "x-auth-roles");

        // an empty user is no user; an underscore spelling is not the configured user_header
        JwtAssertions.unauthorized(harness, probe(gw, IDP), false, "/admin/x", "X-Forwarded-User:",
                "X-Forwarded-Groups: admin");
        JwtAssertions.unauthorized(harness, probe(gw, IDP), false, "/admin/x", "X-Forwarded-User:   ",
                "X-Forwarded-Groups: admin");
        JwtAssertions.unauthorized(harness, probe(gw, IDP), false, "/admin/x", "X_Forwarded_User: alice",
                "X_Forwarded_Groups: admin");
        RecordedRequest underscore = probe(gw, IDP).allowed("/public/x", "X_Forwarded_User: alice",
                "X_Forwarded_Groups: admin");
        assertThat(JwtAssertions.normalizedNames(underscore.headers()))
                .as("no identity from them; headers at the upstream: %s", underscore.headers())
                .doesNotContain("x-forwarded-user", "x-forwarded-groups", "x-auth-subject", "x-auth-roles");

        // a user from the proxy and a groups line in another spelling (a proxy stripping by exact name lets it
        // through): no role from it, and the upstream never sees it under a name it could read as the groups header
        GatewayAssertions.assertForbidden(probe(gw, IDP).send("GET", "/admin/x", "X-Forwarded-User: bob",
                "X_Forwarded_Groups: admin"));
        RecordedRequest bob = probe(gw, IDP).allowed("/public/x", "X-Forwarded-User: bob",
                "X_Forwarded_Groups: admin");
        assertThat(bob.headerValues("X-Auth-Subject")).containsExactly("bob");
        assertThat(bob.headerValues("X-Forwarded-User")).containsExactly("bob");
        assertThat(JwtAssertions.normalizedNames(bob.headers())).as("headers at the upstream: %s", bob.headers())
                .doesNotContain("x-forwarded-groups", "x-auth-roles");
    }

    // ------------------------------------------------------------------ 3

    /**
     * SPEC 3.5: "A presented token that fails verification makes the request anonymous whatever forwarded headers
     * say." The auth-scheme is case-insensitive (RFC 7235 2.1, RFC 6750 2.1), so a forged token sent as
     * "bearer"/"BEARER" is a presented token: it must not fall back to the proxy's forwarded identity.
     */
    @Test
    void aForgedTokenInAnySchemeSpellingNeverFallsBackToTheForwardedIdentity() throws Exception {
        Gateway gw = start();
        String forged = JwtMint.sign(attacker, JWSAlgorithm.RS256, claims("alice", "admin").build());

        for (String scheme : List.of("Bearer", "bearer", "BEARER")) {
            int before = harness.upstream().headsReceived();
            RawResponse r = probe(gw, IDP).send("GET", "/admin/x", "Authorization: " + scheme + " " + forged,
                    "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");
            assertThat(r.status()).as("forged token with scheme %s from the authenticating proxy; got:%n%s", scheme, r)
                    .isEqualTo(401);
            assertThat(r.headerValues("WWW-Authenticate")).as("challenge for scheme %s", scheme)
                    .containsExactly(JwtAssertions.CHALLENGE_INVALID);
            harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        }
    }

    // ------------------------------------------------------------------ 4

    /**
     * SPEC 3 identity.jwt: read from "Authorization: Bearer <token>". A valid admin token anywhere else (query
     * string, cookie, another header) is no token: 401 without error="invalid_token", upstream untouched.
     */
    @Test
    void aTokenOutsideTheAuthorizationHeaderIsIgnored() throws Exception {
        Gateway gw = start();
        String token = valid("alice", "admin");

        JwtAssertions.unauthorized(harness, probe(gw, ANYONE), false, "/admin/x?access_token=" + token);
        JwtAssertions.unauthorized(harness, probe(gw, ANYONE), false, "/admin/x", "Cookie: access_token=" + token);
        JwtAssertions.unauthorized(harness, probe(gw, ANYONE), false, "/admin/x", "X-Access-Token: " + token);
        JwtAssertions.unauthorized(harness, probe(gw, ANYONE), false, "/admin/x",
                "Proxy-Authorization: Bearer " + token);
        // control: the same token where it belongs
        assertThat(probe(gw, ANYONE).allowed("/admin/x", bearer(token)).headerValues("X-Auth-Subject"))
                .containsExactly("alice");
    }

    // ------------------------------------------------------------------ 5

    /**
     * SPEC 3.3 / README: Forwarded: for= is walked like X-Forwarded-For (all headers in order, comma-joined, from
     * the right past trusted proxies) when there is no X-Forwarded-For; an entry that is not an IP literal stops
     * the walk at the last valid address seen. The client IP is read off the access line's client_ip.
     */
    @Test
    void theClientIpWalkOverForwardedAndXForwardedForChains() throws Exception {
        Gateway gw = start();
        List<Object[]> cases = List.of(
                new Object[] {"198.51.100.7", new String[] {"Forwarded: for=198.51.100.7, for=10.1.2.3"}},
                new Object[] {"203.0.113.9", new String[] {"Forwarded: for=198.51.100.7, for=203.0.113.9"}},
                new Object[] {"198.51.100.7",
                    new String[] {"Forwarded: for=203.0.113.9", "Forwarded: for=198.51.100.7"}},
                new Object[] {"203.0.113.9", new String[] {"Forwarded: for=203.0.113.9;by=198.51.100.7"}},
                new Object[] {"203.0.113.9", new String[] {"Forwarded: by=10.9.9.9;for=203.0.113.9;proto=https"}},
                new Object[] {LB, new String[] {"Forwarded: for=198.51.100.7, for=_hidden"}},
                new Object[] {LB, new String[] {"Forwarded: for=198.51.100.7, for=unknown"}},
                new Object[] {"2001:db8::1", new String[] {"Forwarded: for=\"[2001:db8::1]:443\", for=10.1.2.3"}},
                // RFC 7239: a quoted IPv4 value, parameter names case-insensitive
                new Object[] {"198.51.100.7", new String[] {"Forwarded: for=\"198.51.100.7\""}},
                new Object[] {"198.51.100.7", new String[] {"Forwarded: For=198.51.100.7;Proto=https"}},
                // X-Forwarded-For, when present, is the one used
                new Object[] {"203.0.113.9",
                    new String[] {"X-Forwarded-For: 203.0.113.9", "Forwarded: for=198.51.100.7"}},
                new Object[] {"198.51.100.7",
                    new String[] {"Forwarded: for=203.0.113.9", "X-Forwarded-For: 198.51.100.7"}},
                // the walk stops at garbage: the last valid address seen is the trusted hop right of it
                new Object[] {"10.1.2.3", new String[] {"X-Forwarded-For: 198.51.100.7, garbage, 10.1.2.3"}},
                new Object[] {"198.51.100.7", new String[] {"X-Forwarded-For: 198.51.100.7, 10.1.2.3:8080"}},
                // not IP literals (inet_aton short/integer forms): stop the walk
                new Object[] {LB, new String[] {"X-Forwarded-For: 3325256711"}},
                new Object[] {LB, new String[] {"X-Forwarded-For: 198.51.25607"}});

        SoftAssertions soft = new SoftAssertions();
        for (Object[] c : cases) {
            String expected = (String) c[0];
            String[] lines = (String[]) c[1];
            RawResponse r = probe(gw, LB).send("GET", "/public/x", lines);
            soft.assertThat(r.status()).as("status for %s", List.of(lines)).isEqualTo(200);
            JsonNode line = lineOf(r);
            soft.assertThat(line.path("client_ip").asText()).as("client_ip for %s (line %s)", List.of(lines), line)
                    .isEqualTo(expected);
        }
        soft.assertAll();

        // and the policy sees the same address
        probe(gw, LB).allowed("/partners/x", "Forwarded: for=198.51.100.7, for=10.1.2.3");
        probe(gw, LB).forbidden("/partners/x", "Forwarded: for=198.51.100.7, for=_hidden");
        probe(gw, LB).forbidden("/partners/x", "Forwarded: for=198.51.100.7, for=203.0.113.9");
        probe(gw, LB).allowed("/lan/x", "X-Forwarded-For: 198.51.100.7, garbage, 10.1.2.3");
        probe(gw, LB).forbidden("/partners/x", "X-Forwarded-For: 3325256711");
    }

    // ------------------------------------------------------------------ 6

    /**
     * SPEC 3.3 "Headers from untrusted peers are ignored for this purpose", README Proxying: from an untrusted
     * peer they are removed; so neither an ip rule nor a client_ip / subject rate-limit bucket can be chosen by
     * the client. Spoofed X-Forwarded-User from a non-proxy is anonymous and shares the anonymous bucket.
     */
    @Test
    void anUntrustedPeerChoosesNeitherItsIpRuleNorItsRateLimitBucket() throws Exception {
        Gateway gw = start();
        String[] spoof = {"X-Forwarded-For: 198.51.100.7", "X-Real-IP: 198.51.100.7", "X-Client-IP: 198.51.100.7",
            "Forwarded: for=198.51.100.7", "True-Client-IP: 198.51.100.7"};

        RawResponse r = probe(gw, ANYONE).forbidden("/partners/x", spoof);
        assertThat(lineOf(r).path("client_ip").asText()).isEqualTo(ANYONE);
        RecordedRequest up = probe(gw, ANYONE).allowed("/public/x", spoof);
        assertThat(xffChain(up)).containsExactly(ANYONE);
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-real-ip", "x-client-ip", "forwarded");

        // per client_ip, 1 per hour: a different claimed address every time is still the same client
        assertThat(probe(gw, ANYONE).send("GET", "/limited-ip/1",
                "X-Forwarded-For: 198.51.100.1").status()).isEqualTo(200);
        RawResponse second = probe(gw, ANYONE).send("GET", "/limited-ip/2", "X-Forwarded-For: 198.51.100.2",
                "X-Real-IP: 198.51.100.2");
        assertThat(second.status()).as("spoofed address from an untrusted peer; got:%n%s", second).isEqualTo(429);
        // control: behind the trusted load balancer those are two clients
        assertThat(probe(gw, LB).send("GET", "/limited-ip/3", "X-Forwarded-For: 198.51.100.3").status()).isEqualTo(200);
        assertThat(probe(gw, LB).send("GET", "/limited-ip/4", "X-Forwarded-For: 198.51.100.4").status()).isEqualTo(200);

        // per subject: a forwarded user from a peer that is not the authenticating proxy is nobody
        assertThat(probe(gw, LB).send("GET", "/limited-user/1", "X-Forwarded-User: u1").status()).isEqualTo(200);
        RawResponse third = probe(gw, ANYONE).send("GET", "/limited-user/2", "X-Forwarded-User: u2");
        assertThat(third.status()).as("spoofed user shares the anonymous bucket; got:%n%s", third).isEqualTo(429);
        // control: the authenticating proxy's users each have their own bucket
        assertThat(probe(gw, IDP).send("GET", "/limited-user/3", "X-Forwarded-User: u3").status()).isEqualTo(200);
    }

    // ------------------------------------------------------------------ 7

    /**
     * README Proxying: from an untrusted peer "every X-Forwarded-*, Forwarded, X-Real-IP and X-Client-IP header is
     * removed before the policy runs, so no rule can be satisfied by them"; README Identity: forwarded-identity
     * headers from others "are removed before the policy runs"; upstream_headers are removed from every request.
     * A headers condition must therefore never see them.
     */
    @Test
    void headersConditionsNeverSeeHeadersTheGatewayStrips() throws Exception {
        Gateway gw = start();

        probe(gw, ANYONE).forbidden("/h/real-ip/x", "X-Real-IP: 198.51.100.7");
        probe(gw, ANYONE).forbidden("/h/client-ip/x", "X-Client-IP: 198.51.100.7");
        probe(gw, ANYONE).forbidden("/h/fwd-host/x", "X-Forwarded-Host: evil.example");
        probe(gw, ANYONE).forbidden("/h/fwd-user/x", "X-Forwarded-User: alice");
        probe(gw, LB).forbidden("/h/fwd-user/x", "X-Forwarded-User: alice");
        probe(gw, ANYONE).forbidden("/h/auth-subject/x", "X-Auth-Subject: root");
        probe(gw, LB).forbidden("/h/auth-subject/x", "X-Auth-Subject: root");
        probe(gw, IDP).forbidden("/h/auth-subject/x", "X-Auth-Subject: root");

        // control: the rules work for headers the gateway keeps (X-Forwarded-Host from a trusted proxy)
        probe(gw, LB).allowed("/h/fwd-host/x", "X-Forwarded-Host: evil.example");
    }

    // ------------------------------------------------------------------ 8

    /**
     * README Identity: subject and roles reach the upstream "each percent-encoded (UTF-8) where it is not plain
     * visible ASCII, and % and a role's own , always, so that distinct identities stay distinct and nothing can be
     * injected", roles in order with duplicates dropped. A role containing a comma is one role, for the policy too.
     */
    @Test
    void identityValuesCannotInjectRolesOrHeadersAtTheUpstream() throws Exception {
        Gateway gw = start();

        String commaRole = JwtMint.sign(key, JWSAlgorithm.RS256, claims("carol", "admin,ops", "user", "user").build());
        probe(gw, ANYONE).forbidden("/ops/x", bearer(commaRole));
        probe(gw, ANYONE).forbidden("/admin/x", bearer(commaRole));
        RecordedRequest up = probe(gw, ANYONE).allowed("/public/x", bearer(commaRole));
        assertThat(up.headerValues("X-Auth-Roles")).hasSize(1);
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow()))
                .as("one role 'admin,ops', then user once").containsExactly("admin%2Cops", "user");

        String crlf = "alice\r\nX-Injected:1";
        for (String sub : List.of(crlf, "100%", "J\u00fcrgen")) {
            RecordedRequest s = probe(gw, ANYONE).allowed("/public/x",
                    bearer(JwtMint.sign(key, JWSAlgorithm.RS256, claims(sub, "user").build())));
            assertThat(s.hasHeader("X-Injected")).as("headers at the upstream: %s", s.headers()).isFalse();
            assertThat(s.headerValues("X-Auth-Subject")).hasSize(1);
            String v = s.header("X-Auth-Subject").orElseThrow();
            assertThat(v.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)).as("visible ASCII only: %s", v).isTrue();
            assertThat(percentDecode(v)).as("X-Auth-Subject %s decodes to the subject", v).isEqualTo(sub);
        }

        // from the authenticating proxy: a literal "%2C" in a group is not a separator at the upstream
        RecordedRequest fwd = probe(gw, IDP).allowed("/public/x", "X-Forwarded-User: bob",
                "X-Forwarded-Groups: ops%2Cadmin, user");
        List<String> roles = JwtAssertions.roles(fwd.header("X-Auth-Roles").orElseThrow());
        assertThat(roles.stream().map(SpecIdentityCheckIT::percentDecode).toList())
                .containsExactly("ops%2Cadmin", "user");
        probe(gw, IDP).forbidden("/admin/x", "X-Forwarded-User: bob", "X-Forwarded-Groups: ops%2Cadmin");
    }

    // ------------------------------------------------------------------ 9

    /**
     * SPEC 3.2 claims: "JWT claim (dotted path)". A forwarded identity has no JWT, so no claims condition holds for
     * it (not even one on "sub", whatever the user header says): an identity is present, so 403, never the upstream.
     * The same rule with a token carrying the claims is the control; a token missing one claim is denied.
     */
    @Test
    void claimsConditionsHoldOnlyForTokenClaims() throws Exception {
        Gateway gw = start();

        probe(gw, IDP).forbidden("/tenant/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");
        probe(gw, ANYONE).allowed("/tenant/x", bearer(JwtMint.sign(key, JWSAlgorithm.RS256,
                claims("alice", "user").claim("tenant", "acme").build())));
        probe(gw, ANYONE).forbidden("/tenant/x", bearer(valid("alice", "user")));
        JwtAssertions.unauthorized(harness, probe(gw, ANYONE), false, "/tenant/x", "X-Forwarded-User: alice");
    }

    // ------------------------------------------------------------------ 10

    /**
     * SPEC 3 listen "[::]:8080" for IPv6; 3.2 "IPv4, IPv6 and IPv4-mapped IPv6 all compare as the same address".
     * On a dual-stack listener an IPv4 load balancer is still the trusted 127.0.0.1/32, and an IPv6 peer (::1) is
     * untrusted: its X-Forwarded-For is ignored, ip rules and the upstream see ::1.
     */
    @Test
    void aDualStackListenerKeepsTrustByAddressFamily() throws Exception {
        Gateway gw = start("[::]:0");

        RawResponse viaLb = probe(gw, LB).send("GET", "/partners/x", "X-Forwarded-For: 198.51.100.7");
        assertThat(viaLb.status()).as("trusted IPv4 peer on a dual-stack listener; got:%n%s", viaLb).isEqualTo(200);
        assertThat(lineOf(viaLb).path("client_ip").asText()).isEqualTo("198.51.100.7");

        String[] spoof = {"X-Forwarded-For: 198.51.100.7"};
        RawResponse v6 = probe(gw, "::1").to("::1").send("GET", "/partners/x", spoof);
        assertThat(v6.status()).as("untrusted IPv6 peer; got:%n%s", v6).isEqualTo(403);
        GatewayAssertions.assertForbidden(v6);
        assertThat(lineOf(v6).path("client_ip").asText()).isIn("::1", "0:0:0:0:0:0:0:1");
        RawResponse local = probe(gw, "::1").to("::1").send("GET", "/local/x", spoof);
        assertThat(local.status()).as("::1 matches ::1/128; got:%n%s", local).isEqualTo(200);
        RecordedRequest up = harness.upstream().awaitRequest(q -> q.path().equals("/local/x"), Duration.ofSeconds(5));
        assertThat(xffChain(up)).hasSize(1);
        assertThat(xffChain(up).get(0)).isIn("::1", "0:0:0:0:0:0:0:1");
    }

    // ------------------------------------------------------------------ helpers

    private JsonNode lineOf(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id")
                .orElseThrow(() -> new AssertionError("no X-Request-Id on " + r)));
    }






    /** Requests to {@code gw} from local address {@code from}. */
    private static Probe probe(Gateway gw, String from) {
        return new Probe(harness, gw).from(from);
    }

    private static List<String> xffChain(RecordedRequest up) {
        return up.headerValues("X-Forwarded-For").stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    /** Strict RFC 3986 percent-decoding as UTF-8 ('+' stays '+'). */
    private static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
