package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPEC 3 identity / 3.2 authenticated, roles, all_roles, claims / 3.5 / 3.6 401: bearer JWTs verified
 * against a JWKS file, black-box through the running gateway.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IdentityJwtIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path keysDir;

    static RSAKey rsaRs;
    static RSAKey rsaPs;
    static ECKey ec;
    static OctetKeyPair ed;
    /** Never published: the attacker's keys. */
    static RSAKey attackerRsa;
    static ECKey attackerEc;
    static String jwksFile;
    static String pemFile;

    @BeforeAll
    static void keys() throws Exception {
        rsaRs = JwtMint.rsa("rsa-rs");
        rsaPs = JwtMint.rsa("rsa-ps");
        ec = JwtMint.ec("ec-1");
        ed = JwtMint.ed25519("ed-1");
        attackerRsa = JwtMint.rsa("attacker");
        attackerEc = JwtMint.ec("attacker-ec");
        jwksFile = JwtMint.writeJwks(keysDir.resolve("jwks.json"), List.of(rsaRs, rsaPs, ec, ed));
        Path pem = keysDir.resolve("public.pem");
        Files.writeString(pem, JwtMint.pem(rsaRs), StandardCharsets.US_ASCII);
        pemFile = pem.toAbsolutePath().toString();
    }

    private static Probe start() throws Exception {
        return new Probe(harness, harness.start("identity-jwt.yaml", Map.of("JWKS_FILE", jwksFile)));
    }

    private static String rs256(JWTClaimsSet c) {
        return JwtMint.sign(rsaRs, JWSAlgorithm.RS256, c);
    }

    private static RawResponse unauthorized(Probe p, boolean invalidToken, String target, String... lines)
            throws Exception {
        return JwtAssertions.unauthorized(harness, p, invalidToken, target, lines);
    }

    // ------------------------------------------------------------------ valid tokens

    static Stream<Arguments> validTokens() {
        return Stream.of(
                Arguments.of("RS256", JwtMint.sign(rsaRs, JWSAlgorithm.RS256, claims("u-rs", "admin", "ops").build())),
                Arguments.of("PS256", JwtMint.sign(rsaPs, JWSAlgorithm.PS256, claims("u-ps", "admin", "ops").build())),
                Arguments.of("ES256", JwtMint.sign(ec, JWSAlgorithm.ES256, claims("u-es", "admin", "ops").build())),
                Arguments.of("EdDSA", JwtMint.sign(ed, JWSAlgorithm.EdDSA, claims("u-ed", "admin", "ops").build())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validTokens")
    void acceptsAValidTokenAndTellsTheUpstreamWhoItIs(String alg, String token) throws Exception {
        Probe p = start();
        String sub = "u-" + alg.substring(0, 2).toLowerCase();

        RecordedRequest up = p.allowed("/admin/orders", bearer(token));
        assertThat(up.headerValues("X-Auth-Subject")).as("subject the upstream is told for %s", alg)
                .containsExactly(sub);
        assertThat(up.headerValues("X-Auth-Roles")).as("roles header for %s", alg).hasSize(1);
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow())).as("in the token's order")
                .containsExactly("admin", "ops");

        p.allowed("/authn/x", bearer(token));
        p.allowed("/all/x", bearer(token));
    }

    @Test
    void acceptsTimesWithinTheClockSkew() throws Exception {
        Probe p = start();
        Instant now = Instant.now();

        p.allowed("/admin/x", bearer(rs256(claims("u", "admin")
                .issueTime(Date.from(now.minusSeconds(600)))
                .expirationTime(Date.from(now.minusSeconds(5))).build())));
        p.allowed("/admin/x", bearer(rs256(claims("u", "admin")
                .notBeforeTime(Date.from(now.plusSeconds(5))).build())));
        p.allowed("/admin/x", bearer(rs256(claims("u", "admin")
                .notBeforeTime(Date.from(now.minusSeconds(60))).build())));
    }

    @Test
    void acceptsAnAudienceArrayContainingTheConfiguredAudience() throws Exception {
        Probe p = start();

        p.allowed("/admin/x", bearer(rs256(claims("u", "admin")
                .audience(List.of("other-api", JwtMint.AUDIENCE)).build())));
    }

    // ------------------------------------------------------------------ roles_claim / subject_claim

    private static Probe startRolesClaim(String rolesClaim) throws Exception {
        return new Probe(harness, harness.start("identity-roles-claim.yaml",
                Map.of("JWKS_FILE", jwksFile, "ROLES_CLAIM", rolesClaim)));
    }

    private static JWTClaimsSet.Builder named(String username) {
        return claims("sub-" + username).claim("preferred_username", username);
    }

    @Test
    void readsRolesFromANestedClaimPath() throws Exception {
        Probe p = startRolesClaim("realm_access.roles");

        RecordedRequest up = p.allowed("/admin/x", bearer(rs256(named("kc-user")
                .claim("realm_access", Map.of("roles", List.of("admin", "ops")))
                .claim("roles", List.of("ignored")).build())));
        assertThat(up.headerValues("X-Auth-Subject")).as("subject from subject_claim").containsExactly("kc-user");
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow())).as("in the token's order")
                .containsExactly("admin", "ops");
        p.allowed("/all/x", bearer(rs256(named("kc-user")
                .claim("realm_access", Map.of("roles", List.of("ops", "admin"))).build())));

        // the top-level "roles" claim is not the configured path
        p.forbidden("/admin/x", bearer(rs256(named("kc-user").claim("roles", List.of("admin")).build())));
        p.forbidden("/admin/x", bearer(rs256(named("kc-user")
                .claim("realm_access", Map.of("roles", List.of("user"))).build())));
        p.forbidden("/admin/x", bearer(rs256(named("kc-user")
                .claim("realm_access", Map.of("groups", List.of("admin"))).build())));
        p.forbidden("/admin/x", bearer(rs256(named("kc-user")
                .claim("realm_access", "admin").build())));
        unauthorized(p, false, "/admin/x");
    }

    @Test
    void readsRolesFromASpaceSeparatedScopeString() throws Exception {
        Probe p = startRolesClaim("scope");

        RecordedRequest up = p.allowed("/admin/x", bearer(rs256(named("svc")
                .claim("scope", "read:orders admin write:orders").build())));
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("svc");
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow()))
                .as("in the scope's order").containsExactly("read:orders", "admin", "write:orders");
        p.allowed("/all/x", bearer(rs256(named("svc").claim("scope", "ops admin").build())));

        p.forbidden("/admin/x", bearer(rs256(named("svc").claim("scope", "read:orders administrator").build())));
        p.forbidden("/all/x", bearer(rs256(named("svc").claim("scope", "admin").build())));
        p.forbidden("/admin/x", bearer(rs256(named("svc").claim("roles", List.of("admin")).build())));
    }

    // ------------------------------------------------------------------ conditions

    @Test
    void anonymousRequestsToIdentityRulesGet401WithoutInvalidToken() throws Exception {
        Probe p = start();

        for (String target : List.of("/admin/x", "/authn/x", "/any/x", "/all/x", "/tenant/x", "/gold/x")) {
            unauthorized(p, false, target);
        }
        // not an identity predicate: default deny stays 403, and an anonymous-only rule lets anonymous in
        p.forbidden("/nowhere");
        p.allowed("/anon-only/x");
        p.allowed("/public/x");
    }

    @Test
    void aNonBearerAuthorizationIsNotAnIdentity() throws Exception {
        Probe p = start();

        unauthorized(p, false, "/admin/x", "Authorization: Basic YWRtaW46YWRtaW4=");
    }

    @Test
    void anAuthenticatedIdentityLackingTheRoleGets403() throws Exception {
        Probe p = start();

        p.forbidden("/admin/x", bearer(rs256(claims("u", "user").build())));
        p.forbidden("/admin/x", bearer(rs256(claims("u").build())));
        p.forbidden("/admin/x", bearer(rs256(claims("u", "Admin", "administrator").build())));
        // roles: any of them; all_roles: every one
        p.allowed("/any/x", bearer(rs256(claims("u", "ops").build())));
        p.forbidden("/all/x", bearer(rs256(claims("u", "ops").build())));
        p.forbidden("/all/x", bearer(rs256(claims("u", "admin").build())));
        p.allowed("/all/x", bearer(rs256(claims("u", "ops", "user", "admin").build())));
        // authenticated: false denies an authenticated identity
        p.forbidden("/anon-only/x", bearer(rs256(claims("u", "admin").build())));
    }

    @Test
    void readsRolesFromASpaceOrCommaSeparatedString() throws Exception {
        Probe p = start();

        p.allowed("/all/x", bearer(rs256(claims("u").claim("roles", "admin ops").build())));
        p.allowed("/all/x", bearer(rs256(claims("u").claim("roles", "admin,ops").build())));
        p.allowed("/admin/x", bearer(rs256(claims("u").claim("roles", "admin").build())));
        p.forbidden("/admin/x", bearer(rs256(claims("u").claim("roles", "administrator").build())));
    }

    @Test
    void matchesClaimsByValueArrayMembershipAndDottedPath() throws Exception {
        Probe p = start();

        p.allowed("/tenant/x", bearer(rs256(claims("u").claim("tenant", "acme").build())));
        p.allowed("/tenant/x", bearer(rs256(claims("u").claim("tenant", List.of("initech", "globex")).build())));
        p.forbidden("/tenant/x", bearer(rs256(claims("u").claim("tenant", "initech").build())));
        p.forbidden("/tenant/x", bearer(rs256(claims("u").claim("tenant", "ACME").build())));
        p.forbidden("/tenant/x", bearer(rs256(claims("u").build())));

        p.allowed("/gold/x", bearer(rs256(claims("u").claim("org", Map.of("tier", "gold")).build())));
        p.forbidden("/gold/x", bearer(rs256(claims("u").claim("org", Map.of("tier", "silver")).build())));
        // the path must exist all the way down
        p.forbidden("/gold/x", bearer(rs256(claims("u").claim("org", Map.of()).build())));
        // a claim path is always a path: a top-level claim named "org.tier" neither stands in for it nor shadows it
        p.forbidden("/gold/x", bearer(rs256(claims("u").claim("org.tier", "gold").build())));
        p.forbidden("/gold/x", bearer(rs256(claims("u").claim("org.tier", "gold")
                .claim("org", Map.of("tier", "silver")).build())));
    }

    // ------------------------------------------------------------------ require_exp and types

    @Test
    void aTokenWithoutExpIsRejectedByDefault() throws Exception {
        Probe p = start();
        String noExp = rs256(claims("no-exp", "admin").expirationTime(null).build());

        unauthorized(p, true, "/authn/x", bearer(noExp));
        unauthorized(p, true, "/admin/x", bearer(noExp));
        p.allowed("/authn/x", bearer(rs256(claims("with-exp", "admin").build())));
    }

    @Test
    void aTokenWithoutExpIsAcceptedWithRequireExpFalse() throws Exception {
        Probe p = new Probe(harness, harness.start("identity-jwt-acceptance.yaml", Map.of("JWKS_FILE", jwksFile)));
        JWSHeader atJwt = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(rsaRs.getKeyID())
                .type(new JOSEObjectType("at+jwt")).build();

        RecordedRequest up = p.allowed("/authn/x", bearer(JwtMint.sign(rsaRs, atJwt,
                claims("no-exp", "user").expirationTime(null).build())));
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("no-exp");
    }

    @Test
    void typesRestrictsTheTypHeaderCaseInsensitively() throws Exception {
        Probe p = new Probe(harness, harness.start("identity-jwt-acceptance.yaml", Map.of("JWKS_FILE", jwksFile)));
        JWTClaimsSet good = claims("typed", "user").build();

        p.allowed("/authn/x", bearer(JwtMint.sign(rsaRs, new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID(rsaRs.getKeyID()).type(new JOSEObjectType("AT+JWT")).build(), good)));
        unauthorized(p, true, "/authn/x", bearer(JwtMint.sign(rsaRs, new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID(rsaRs.getKeyID()).type(JOSEObjectType.JWT).build(), good)));
        unauthorized(p, true, "/authn/x", bearer(JwtMint.sign(rsaRs, new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID(rsaRs.getKeyID()).build(), good)));
    }

    // ------------------------------------------------------------------ rejected tokens

    static Stream<Arguments> rejectedTokens() throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet good = claims("mallory", "admin").build();
        String goodJson = JwtMint.json(good);
        String validRs = rs256(good);
        String validEs = JwtMint.sign(ec, JWSAlgorithm.ES256, good);

        String pem = JwtMint.pem(rsaRs);
        String oversize = rs256(claims("mallory", "admin").claim("pad", "x".repeat(9000)).build());
        assertThat(oversize.length()).isGreaterThan(8 * 1024);

        JWSHeader embeddedJwk = new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT)
                .jwk(attackerRsa.toPublicJWK()).build();
        JWSHeader embeddedJwkWithKnownKid = new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT)
                .keyID(rsaRs.getKeyID()).jwk(new RSAKey.Builder(attackerRsa.toRSAPublicKey())
                        .keyID(rsaRs.getKeyID()).build()).build();
        JWSHeader jku = new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT)
                .keyID(attackerRsa.getKeyID())
                .jwkURL(URI.create("http://127.0.0.1:" + GatewayHarness.deadPort() + "/jwks.json")).build();
        RSAKey sameKidOtherKey = new RSAKey.Builder(attackerRsa).keyID(rsaRs.getKeyID()).build();

        byte[] zeroSig = new byte[64];
        byte[] derZeroSig = {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00};
        String esHeader = "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec-1\"}";

        return Stream.of(
                Arguments.of("expired", rs256(claims("mallory", "admin")
                        .issueTime(Date.from(now.minusSeconds(1200)))
                        .expirationTime(Date.from(now.minusSeconds(600))).build())),
                Arguments.of("expired beyond skew", rs256(claims("mallory", "admin")
                        .issueTime(Date.from(now.minusSeconds(1200)))
                        .expirationTime(Date.from(now.minusSeconds(90))).build())),
                Arguments.of("nbf in the future", rs256(claims("mallory", "admin")
                        .notBeforeTime(Date.from(now.plusSeconds(600))).build())),
                Arguments.of("wrong iss", rs256(claims("mallory", "admin").issuer("https://evil.test/").build())),
                Arguments.of("iss missing", rs256(claims("mallory", "admin").issuer(null).build())),
                Arguments.of("wrong aud", rs256(claims("mallory", "admin").audience("other-api").build())),
                Arguments.of("aud missing", rs256(claims("mallory", "admin").audience((String) null).build())),
                Arguments.of("bad signature", JwtMint.tamperSignature(validRs)),
                Arguments.of("signature of another payload", JwtMint.swapPayload(
                        rs256(claims("mallory", "user").build()), good)),
                Arguments.of("signature stripped", validRs.substring(0, validRs.lastIndexOf('.') + 1)),
                Arguments.of("alg none", JwtMint.b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "."
                        + JwtMint.b64(goodJson) + "."),
                Arguments.of("alg none with kid", JwtMint.b64("{\"alg\":\"none\",\"kid\":\"rsa-rs\"}") + "."
                        + JwtMint.b64(goodJson) + "."),
                Arguments.of("alg None", JwtMint.b64("{\"alg\":\"None\"}") + "." + JwtMint.b64(goodJson) + "."),
                Arguments.of("alg NONE", JwtMint.b64("{\"alg\":\"NONE\"}") + "." + JwtMint.b64(goodJson) + "."),
                Arguments.of("alg none keeping a real signature", JwtMint.b64("{\"alg\":\"none\"}") + "."
                        + JwtMint.b64(goodJson) + "." + validRs.substring(validRs.lastIndexOf('.') + 1)),
                Arguments.of("HS256 keyed with the RSA public key PEM", JwtMint.hmac(
                        pem.getBytes(StandardCharsets.US_ASCII), JWSAlgorithm.HS256, "rsa-rs", good)),
                Arguments.of("HS256 keyed with the RSA public key PEM, no kid", JwtMint.hmac(
                        pem.getBytes(StandardCharsets.US_ASCII), JWSAlgorithm.HS256, null, good)),
                Arguments.of("HS256 keyed with the RSA public key DER", JwtMint.hmac(
                        JwtMint.der(rsaRs), JWSAlgorithm.HS256, "rsa-rs", good)),
                Arguments.of("HS256 keyed with the RSA public JWK JSON", JwtMint.hmac(
                        rsaRs.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8), JWSAlgorithm.HS256,
                        "rsa-rs", good)),
                Arguments.of("unknown kid", JwtMint.sign(attackerRsa, JWSAlgorithm.RS256, good)),
                Arguments.of("known kid, other key", JwtMint.sign(sameKidOtherKey, JWSAlgorithm.RS256, good)),
                Arguments.of("embedded jwk header", JwtMint.sign(attackerRsa, embeddedJwk, good)),
                Arguments.of("embedded jwk header with a known kid", JwtMint.sign(attackerRsa,
                        embeddedJwkWithKnownKid, good)),
                Arguments.of("jku header", JwtMint.sign(attackerRsa, jku, good)),
                Arguments.of("ES256 by an unknown EC key", JwtMint.sign(attackerEc, JWSAlgorithm.ES256, good)),
                Arguments.of("malformed: one segment", "not-a-jwt"),
                Arguments.of("malformed: junk segments", "a.b.c"),
                Arguments.of("malformed: bad base64", "!!!.###.$$$"),
                Arguments.of("malformed: header not JSON", JwtMint.b64("{alg:RS256") + "."
                        + JwtMint.b64(goodJson) + "." + validRs.substring(validRs.lastIndexOf('.') + 1)),
                Arguments.of("malformed: payload not JSON", validRs.substring(0, validRs.indexOf('.') + 1)
                        + JwtMint.b64("{\"sub\":") + "." + validRs.substring(validRs.lastIndexOf('.') + 1)),
                Arguments.of("malformed: header a JSON array", JwtMint.b64("[\"RS256\"]") + "."
                        + JwtMint.b64(goodJson) + "." + validRs.substring(validRs.lastIndexOf('.') + 1)),
                Arguments.of("malformed: two segments", validRs.substring(0, validRs.lastIndexOf('.'))),
                Arguments.of("malformed: five segments (JWE shape)", validRs + ".AAAA.BBBB"),
                Arguments.of("oversize (> 8 KiB)", oversize),
                Arguments.of("RS384 not in the allow-list", JwtMint.sign(rsaRs, JWSAlgorithm.RS384, good)),
                Arguments.of("RS512 not in the allow-list", JwtMint.sign(rsaRs, JWSAlgorithm.RS512, good)),
                Arguments.of("PS384 not in the allow-list", JwtMint.sign(rsaPs, JWSAlgorithm.PS384, good)),
                Arguments.of("HS256 not in the allow-list", JwtMint.hmac(
                        "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII), JWSAlgorithm.HS256,
                        null, good)),
                Arguments.of("ES256 with r = s = 0", JwtMint.raw(esHeader, goodJson, zeroSig)),
                Arguments.of("ES256 with DER r = s = 0", JwtMint.raw(esHeader, goodJson, derZeroSig)),
                Arguments.of("ES256 with a truncated signature", validEs.substring(0, validEs.length() - 10)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedTokens")
    void aRejectedTokenIsAnswered401InvalidToken(String name, String token) throws Exception {
        Probe p = start();

        RawResponse r = unauthorized(p, true, "/admin/x", bearer(token));
        assertThat(r.bodyText()).as("the 401 never names the cause (%s)", name)
                .isEqualTo(JwtAssertions.UNAUTHORIZED_BODY);
        unauthorized(p, true, "/authn/x", bearer(token));

        // the request is merely anonymous: a rule that needs no identity still lets it through, untagged
        RecordedRequest up = p.allowed("/public/x", bearer(token));
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("identity headers for a rejected token (%s)", name)
                .doesNotContain("x-auth-subject", "x-auth-roles");
    }

    // ------------------------------------------------------------------ upstream headers

    @Test
    void clientSentIdentityHeadersNeverReachTheUpstream() throws Exception {
        Probe p = start();
        String[] spoofed = {
            "X-Auth-Subject: root",
            "X-Auth-Roles: admin",
            "x-auth-subject: root2",
            "X_Auth_Subject: root3",
            "x_auth_roles: admin",
            "X-AUTH-ROLES: admin,ops",
        };

        RecordedRequest anon = p.allowed("/public/x", spoofed);
        assertThat(JwtAssertions.normalizedNames(anon.headers())).as("headers at the upstream: %s", anon.headers())
                .doesNotContain("x-auth-subject", "x-auth-roles");

        // spoofed headers grant nothing
        unauthorized(p, false, "/admin/x", spoofed);

        String token = rs256(claims("alice", "user").build());
        String[] withToken = Stream.concat(Stream.of(bearer(token)), Stream.of(spoofed)).toArray(String[]::new);
        RecordedRequest authed = p.allowed("/public/x", withToken);
        assertThat(authed.headerValues("X-Auth-Subject")).containsExactly("alice");
        assertThat(authed.headerValues("X-Auth-Roles")).hasSize(1);
        assertThat(JwtAssertions.roles(authed.header("X-Auth-Roles").orElseThrow())).containsExactly("user");
        assertThat(JwtAssertions.normalizedNames(authed.headers()).stream()
                .filter(n -> n.equals("x-auth-subject") || n.equals("x-auth-roles")))
                .as("one subject and one roles header only: %s", authed.headers())
                .hasSize(2);
        p.forbidden("/admin/x", withToken);
    }

    /**
     * README "Proxying": Authorization goes on as sent, verified or rejected (Envoy's forward: true); only what was
     * verified becomes an identity header, so a rejected token on an anonymous-allowed path carries no identity.
     */
    @Test
    void theAuthorizationHeaderReachesTheUpstreamAsSentAndOnlyAVerifiedTokenBecomesAnIdentity() throws Exception {
        Probe p = start();
        String valid = rs256(claims("alice", "user").build());
        String forged = JwtMint.sign(attackerRsa, JWSAlgorithm.RS256, claims("mallory", "admin").build());

        RecordedRequest verified = p.allowed("/public/x", bearer(valid));
        assertThat(verified.headerValues("Authorization")).containsExactly("Bearer " + valid);
        assertThat(verified.headerValues("X-Auth-Subject")).containsExactly("alice");

        RecordedRequest rejected = p.allowed("/public/x", bearer(forged));
        assertThat(rejected.headerValues("Authorization")).as("passed on as sent").containsExactly("Bearer " + forged);
        assertThat(JwtAssertions.normalizedNames(rejected.headers())).as("no identity from a rejected token: %s",
                rejected.headers()).doesNotContain("x-auth-subject", "x-auth-roles");
    }

    @Test
    void renamedUpstreamHeadersAreTheOnesStrippedAndSet() throws Exception {
        Probe p = new Probe(harness, harness.start("identity-custom-headers.yaml", Map.of("JWKS_FILE", jwksFile)));
        String[] spoofed = {"X-Remote-User: root", "x_remote_user: root", "X-REMOTE-GROUPS: admin",
            "X_Remote_Groups: admin"};

        RecordedRequest anon = p.allowed("/public/x", spoofed);
        assertThat(JwtAssertions.normalizedNames(anon.headers())).as("headers at the upstream: %s", anon.headers())
                .doesNotContain("x-remote-user", "x-remote-groups");

        String[] withToken = Stream.concat(Stream.of(bearer(rs256(claims("alice", "ops").build()))),
                Stream.of(spoofed)).toArray(String[]::new);
        RecordedRequest authed = p.allowed("/public/x", withToken);
        assertThat(authed.headerValues("X-Remote-User")).containsExactly("alice");
        assertThat(authed.headerValues("X-Remote-Groups")).hasSize(1);
        assertThat(JwtAssertions.roles(authed.header("X-Remote-Groups").orElseThrow())).containsExactly("ops");
        assertThat(JwtAssertions.normalizedNames(authed.headers()).stream()
                .filter(n -> n.equals("x-remote-user") || n.equals("x-remote-groups")))
                .as("one subject and one roles header only: %s", authed.headers())
                .hasSize(2);
    }

    // ------------------------------------------------------------------ connection reuse

    @Test
    void identityDoesNotLeakToTheNextRequestOnAKeepAliveConnection() throws Exception {
        Gateway gw = harness.start("identity-jwt.yaml", Map.of("JWKS_FILE", jwksFile));
        Probe p = new Probe(harness, gw);
        String token = rs256(claims("alice", "admin").build());

        try (RawHttp raw = gw.raw()) {
            RawResponse first = raw.send(p.request("GET", "/admin/1", bearer(token))).readResponse();
            assertThat(first.status()).as("first request with a valid token:%n%s", first).isEqualTo(200);
            assertThat(first.connectionTokens()).doesNotContain("close");

            RawResponse second = raw.send(p.request("GET", "/admin/2")).readResponse();
            JwtAssertions.assertUnauthorized(second, false, "second request on the same connection, no token");

            if (!second.connectionTokens().contains("close") && !raw.awaitClosed(Duration.ofMillis(100))) {
                RawResponse third = raw.send(p.request("GET", "/admin/3", "Authorization: Bearer garbage"))
                        .readResponse();
                JwtAssertions.assertUnauthorized(third, true, "third request on the same connection, bad token");
            }
        }
        List<RecordedRequest> ups = harness.upstream().awaitRequests(1, Duration.ofSeconds(5));
        harness.upstream().assertHeadsStayAt(1, Probe.QUIET);
        assertThat(ups).extracting(RecordedRequest::path).containsExactly("/admin/1");
    }

    // ------------------------------------------------------------------ other key sources / providers

    @Test
    void verifiesWithAPublicKeyFile() throws Exception {
        Probe p = new Probe(harness, harness.start("identity-pem.yaml", Map.of("PEM_FILE", pemFile)));
        JWTClaimsSet good = claims("pem-user", "admin").build();

        RecordedRequest up = p.allowed("/admin/x", bearer(JwtMint.sign(
                new RSAKey.Builder(rsaRs).keyID(null).build(), JWSAlgorithm.RS256, good)));
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("pem-user");
        p.allowed("/admin/x", bearer(rs256(good)));

        unauthorized(p, true, "/admin/x", bearer(JwtMint.sign(attackerRsa, JWSAlgorithm.RS256, good)));
        unauthorized(p, true, "/admin/x", bearer(JwtMint.hmac(
                JwtMint.pem(rsaRs).getBytes(StandardCharsets.US_ASCII), JWSAlgorithm.HS256, null, good)));
        unauthorized(p, false, "/admin/x");
    }

    @Test
    void hmacNextToAnAsymmetricKeySourceIsRefusedOrNeverKeyedWithThePublicKey() throws Exception {
        JWTClaimsSet good = claims("mallory", "admin").build();
        List<String> forged = List.of(
                JwtMint.hmac(JwtMint.pem(rsaRs).getBytes(StandardCharsets.US_ASCII), JWSAlgorithm.HS256, null, good),
                JwtMint.hmac(JwtMint.pem(rsaRs).getBytes(StandardCharsets.US_ASCII), JWSAlgorithm.HS256, "rsa-rs", good),
                JwtMint.hmac(JwtMint.der(rsaRs), JWSAlgorithm.HS256, "rsa-rs", good),
                JwtMint.hmac(rsaRs.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8), JWSAlgorithm.HS256,
                        "rsa-rs", good));
        for (Map.Entry<String, String> source : Map.of("public_key_file", pemFile, "jwks_file", jwksFile).entrySet()) {
            Gateway gw;
            try {
                gw = harness.start("identity-mixed-algs.yaml",
                        Map.of("KEY_SOURCE", source.getKey(), "KEY_FILE", source.getValue()));
            } catch (Exception refused) {
                continue; // refusing [RS256, HS256] with an asymmetric key source at load is the safe answer
            }
            Probe p = new Probe(harness, gw);
            p.allowed("/admin/x", bearer(rs256(good)));
            for (String token : forged) {
                unauthorized(p, true, "/admin/x", bearer(token));
            }
            harness.closeGateways();
        }
    }

    @Test
    void theTokensIssuerPicksTheProviderAndItsKeys() throws Exception {
        RSAKey keyA = JwtMint.rsa("a-1");
        ECKey keyB = JwtMint.ec("b-1");
        String jwksA = JwtMint.writeJwks(keysDir.resolve("jwks-a.json"), List.of(keyA));
        String jwksB = JwtMint.writeJwks(keysDir.resolve("jwks-b.json"), List.of(keyB));
        Probe p = new Probe(harness, harness.start("identity-multi-issuer.yaml",
                Map.of("JWKS_A", jwksA, "JWKS_B", jwksB)));
        JWTClaimsSet fromA = claims("from-a", "admin").issuer("https://issuer-a.test/").build();
        JWTClaimsSet fromB = claims("from-b", "admin").issuer("https://issuer-b.test/").build();

        assertThat(p.allowed("/admin/x", bearer(JwtMint.sign(keyA, JWSAlgorithm.RS256, fromA)))
                .headerValues("X-Auth-Subject")).containsExactly("from-a");
        assertThat(p.allowed("/admin/x", bearer(JwtMint.sign(keyB, JWSAlgorithm.ES256, fromB)))
                .headerValues("X-Auth-Subject")).containsExactly("from-b");

        // a key of one issuer never vouches for the other issuer's tokens
        unauthorized(p, true, "/admin/x", bearer(JwtMint.sign(keyA, JWSAlgorithm.RS256, fromB)));
        unauthorized(p, true, "/admin/x", bearer(JwtMint.sign(keyB, JWSAlgorithm.ES256, fromA)));
        unauthorized(p, true, "/admin/x", bearer(JwtMint.sign(keyA, JWSAlgorithm.RS256,
                claims("x", "admin").issuer("https://issuer-c.test/").build())));
        unauthorized(p, true, "/admin/x", bearer(JwtMint.sign(keyA, JWSAlgorithm.RS256,
                claims("x", "admin").issuer(null).build())));
    }
}
