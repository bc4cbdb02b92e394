package dev.portcullis.core.identity;

import static dev.portcullis.core.identity.TestTokens.AUDIENCE;
import static dev.portcullis.core.identity.TestTokens.ISSUER;
import static dev.portcullis.core.identity.TestTokens.NOW;
import static dev.portcullis.core.identity.TestTokens.claims;
import static dev.portcullis.core.identity.TestTokens.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.core.testing.MutableClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.EdECPrivateKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JwtIdentityResolverTest {

    static final RSAKey RSA = TestTokens.rsa("rsa-1");
    static final ECKey EC_256 = TestTokens.ec(Curve.P_256, "ec-256");
    static final ECKey EC_384 = TestTokens.ec(Curve.P_384, "ec-384");
    static final ECKey EC_521 = TestTokens.ec(Curve.P_521, "ec-521");
    static final OctetKeyPair ED = TestTokens.ed25519("ed-1");
    static final String SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    static ScheduledExecutorService scheduler;

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(NOW);
    JwtIdentityResolver resolver;

    @BeforeAll
    static void startScheduler() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopScheduler() {
        scheduler.shutdownNow();
    }

    @AfterEach
    void close() {
        if (resolver != null) {
            resolver.close();
        }
    }

    JwtIdentityResolver resolver(JwtProviderSettings... providers) throws KeySourceException {
        resolver = new JwtIdentityResolver(List.of(providers), JwtResolverOptions.defaults(clock, scheduler)
                .withEnvironment(Map.of("JWT_SECRET", SECRET)::get)
                .withCacheSize(100));
        return resolver;
    }

    JwtProviderSettings jwksFile(JWK... keys) throws Exception {
        Path file = Files.createTempFile(dir, "jwks", ".json");
        Files.writeString(file, TestTokens.jwks(keys));
        return JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file)).withAudiences(List.of(AUDIENCE));
    }

    JwtProviderSettings secret() {
        return JwtProviderSettings.of(ISSUER, new KeySource.SecretEnv("JWT_SECRET"))
                .withAudiences(List.of(AUDIENCE))
                .withAlgorithms(Set.of(SigningAlgorithm.HS256, SigningAlgorithm.HS384, SigningAlgorithm.HS512));
    }

    JwtProviderSettings pemFile(String pem) throws Exception {
        Path file = Files.createTempFile(dir, "key", ".pem");
        Files.writeString(file, pem);
        return JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(file)).withAudiences(List.of(AUDIENCE));
    }

    static Identity identity(Resolution resolution) {
        assertThat(resolution).isInstanceOf(Resolution.Resolved.class);
        return ((Resolution.Resolved) resolution).identity();
    }

    static Stream<Arguments> asymmetricAlgorithms() {
        return Stream.of(
                Arguments.of(RSA, JWSAlgorithm.RS256), Arguments.of(RSA, JWSAlgorithm.RS384),
                Arguments.of(RSA, JWSAlgorithm.RS512), Arguments.of(RSA, JWSAlgorithm.PS256),
                Arguments.of(RSA, JWSAlgorithm.PS384), Arguments.of(RSA, JWSAlgorithm.PS512),
                Arguments.of(EC_256, JWSAlgorithm.ES256), Arguments.of(EC_384, JWSAlgorithm.ES384),
                Arguments.of(EC_521, JWSAlgorithm.ES512), Arguments.of(ED, JWSAlgorithm.EdDSA));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("asymmetricAlgorithms")
    void acceptsValidTokenSignedWithEachAsymmetricAlgorithm(JWK key, JWSAlgorithm algorithm) throws Exception {
        resolver(jwksFile(RSA, EC_256, EC_384, EC_521, ED));

        Identity identity = identity(resolver.verify(sign(key, algorithm, claims().build())));

        assertThat(identity.subject()).isEqualTo("alice");
        assertThat(identity.roles()).containsExactly("user");
        assertThat(identity.source()).isEqualTo(IdentitySource.JWT);
        assertThat(identity.expiresAt()).isEqualTo(NOW.plusSeconds(600));
        assertThat(identity.claims()).containsEntry("iss", ISSUER).containsEntry("exp", NOW.getEpochSecond() + 600);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hmacAlgorithms")
    void acceptsValidHmacTokenWithSecretFromEnvironment(JWSAlgorithm algorithm) throws Exception {
        resolver(secret());

        String token = TestTokens.hmac(SECRET.getBytes(StandardCharsets.UTF_8), algorithm, claims().build());

        assertThat(identity(resolver.verify(token)).subject()).isEqualTo("alice");
    }

    static Stream<JWSAlgorithm> hmacAlgorithms() {
        return Stream.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);
    }

    @Test
    void acceptsRsaEcAndEd25519KeysFromPemFiles() throws Exception {
        resolver(pemFile(TestTokens.pem("PUBLIC KEY", RSA.toRSAPublicKey().getEncoded())));
        assertThat(identity(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build()))).subject())
                .isEqualTo("alice");
        resolver.close();

        resolver(pemFile(TestTokens.pem("PUBLIC KEY", EC_256.toECPublicKey().getEncoded())));
        assertThat(resolver.verify(sign(EC_256, JWSAlgorithm.ES256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
        resolver.close();

        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] spki = pair.getPublic().getEncoded();
        byte[] d = ((EdECPrivateKey) pair.getPrivate()).getBytes().orElseThrow();
        OctetKeyPair jdkKey = new OctetKeyPair.Builder(Curve.Ed25519,
                Base64URL.encode(Arrays.copyOfRange(spki, spki.length - 32, spki.length)))
                .d(Base64URL.encode(d))
                .build();
        resolver(pemFile(TestTokens.pem("PUBLIC KEY", spki)));
        assertThat(resolver.verify(sign(jdkKey, JWSAlgorithm.EdDSA, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void acceptsPkcs1RsaPublicKeyPem() throws Exception {
        byte[] spki = RSA.toRSAPublicKey().getEncoded();
        assertThat(spki).hasSize(294);
        byte[] pkcs1 = Arrays.copyOfRange(spki, 24, spki.length);
        resolver(pemFile(TestTokens.pem("RSA PUBLIC KEY", pkcs1)));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.PS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void readsRolesFromNestedClaimPath() throws Exception {
        resolver(jwksFile(RSA).withClaims("sub", "realm_access.roles"));
        String token = sign(RSA, JWSAlgorithm.RS256,
                c -> c.claim("realm_access", Map.of("roles", List.of("admin", "ops", "admin"))));

        Identity identity = identity(resolver.verify(token));

        assertThat(identity.roles()).containsExactlyInAnyOrder("admin", "ops");
        assertThat(identity.claim(ClaimPath.compile("realm_access.roles"))).isEqualTo(List.of("admin", "ops", "admin"));
    }

    @Test
    void readsRolesFromSpaceSeparatedScopeString() throws Exception {
        resolver(jwksFile(RSA).withClaims("sub", "scope"));
        String token = sign(RSA, JWSAlgorithm.RS256, c -> c.claim("scope", "orders:read  orders:write,admin"));

        assertThat(identity(resolver.verify(token)).roles())
                .containsExactlyInAnyOrder("orders:read", "orders:write", "admin");
    }

    @Test
    void readsSubjectFromConfiguredClaimAndExposesClaimsForConditions() throws Exception {
        resolver(jwksFile(RSA).withClaims("user.email", "roles"));
        String token = sign(RSA, JWSAlgorithm.RS256,
                c -> c.claim("user", Map.of("email", "alice@example.com", "groups", List.of("eng", "ops")))
                        .claim("tier", 3));

        Identity identity = identity(resolver.verify(token));

        assertThat(identity.subject()).isEqualTo("alice@example.com");
        assertThat(ClaimPath.compile("user.groups").matchesAny(identity.claims(), Set.of("ops"))).isTrue();
        assertThat(ClaimPath.compile("tier").matchesAny(identity.claims(), Set.of("3"))).isTrue();
        assertThat(ClaimPath.compile("aud").matchesAny(identity.claims(), Set.of(AUDIENCE))).isTrue();
    }

    @Test
    void rejectsExpiredTokenBeyondClockSkew() throws Exception {
        resolver(jwksFile(RSA));
        String token = sign(RSA, JWSAlgorithm.RS256, c -> c.expirationTime(Date.from(NOW.minusSeconds(31))));
        String withinSkew = sign(RSA, JWSAlgorithm.RS256, c -> c.expirationTime(Date.from(NOW.minusSeconds(29))));

        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_EXPIRED));
        assertThat(resolver.verify(withinSkew)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.rejectedCount(RejectReason.TOKEN_EXPIRED)).isEqualTo(1);
    }

    @Test
    void rejectsTokenExpiringNowWithoutSkew() throws Exception {
        resolver(jwksFile(RSA).withClockSkew(Duration.ZERO));
        String token = sign(RSA, JWSAlgorithm.RS256, c -> c.expirationTime(Date.from(NOW)));

        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_EXPIRED));
    }

    @Test
    void rejectsTokenWhoseNotBeforeIsInTheFuture() throws Exception {
        resolver(jwksFile(RSA));
        String future = sign(RSA, JWSAlgorithm.RS256, c -> c.notBeforeTime(Date.from(NOW.plusSeconds(31))));
        String withinSkew = sign(RSA, JWSAlgorithm.RS256, c -> c.notBeforeTime(Date.from(NOW.plusSeconds(30))));

        assertThat(resolver.verify(future)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID));
        assertThat(resolver.verify(withinSkew)).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void rejectsTokenIssuedInTheFuture() throws Exception {
        resolver(jwksFile(RSA));
        String token = sign(RSA, JWSAlgorithm.RS256, c -> c.issueTime(Date.from(NOW.plusSeconds(120))));

        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID));
    }

    @Test
    void rejectsTokenWithoutExpiryByDefault() throws Exception {
        resolver(jwksFile(RSA));
        String token = sign(RSA, JWSAlgorithm.RS256, claims().expirationTime(null).build());

        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_MISSING_EXP));
        assertThat(resolver.rejectedCount(RejectReason.TOKEN_MISSING_EXP)).isEqualTo(1);
        assertThat(RejectReason.TOKEN_MISSING_EXP.code()).isEqualTo("token_missing_exp");
    }

    @Test
    void acceptsTokenWithoutExpiryWhenExpIsNotRequired() throws Exception {
        resolver(jwksFile(RSA).withRequireExp(false));
        String token = sign(RSA, JWSAlgorithm.RS256, claims().expirationTime(null).build());

        assertThat(identity(resolver.verify(token)).expiresAt()).isNull();
    }

    @Test
    void aForgedTokenWithoutExpIsABadSignatureNotAMissingExp() throws Exception {
        resolver(jwksFile(RSA));
        RSAKey other = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID(RSA.getKeyID()).generate();
        String forged = sign(other, JWSAlgorithm.RS256, claims().expirationTime(null).build());

        assertThat(resolver.verify(forged)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
    }

    @Test
    void typesAllowListComparesTheTypHeaderCaseInsensitively() throws Exception {
        resolver(jwksFile(RSA).withTypes(Set.of("at+jwt", "JWT")));

        for (String typ : List.of("at+jwt", "AT+JWT", "jwt", "JWT", "application/at+jwt", "Application/JWT")) {
            String token = sign(RSA, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(RSA.getKeyID())
                    .type(new JOSEObjectType(typ)).build(), claims().build());
            assertThat(resolver.verify(token)).as(typ).isInstanceOf(Resolution.Resolved.class);
        }
        for (String typ : List.of("id+jwt", "application/id+jwt", "text/at+jwt")) {
            String other = sign(RSA, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(RSA.getKeyID())
                    .type(new JOSEObjectType(typ)).build(), claims().build());
            assertThat(resolver.verify(other)).as(typ)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_TYPE_NOT_ALLOWED));
        }
        String untyped = sign(RSA, JWSAlgorithm.RS256, claims().build());
        assertThat(resolver.verify(untyped)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_TYPE_NOT_ALLOWED));
    }

    @Test
    void withoutTypesAnyTypOrNoneIsAccepted() throws Exception {
        resolver(jwksFile(RSA));
        String idToken = sign(RSA, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(RSA.getKeyID())
                .type(new JOSEObjectType("id+jwt")).build(), claims().build());

        assertThat(resolver.verify(idToken)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void rejectsWrongIssuer() throws Exception {
        resolver(jwksFile(RSA));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.issuer("https://evil.example.com/"))))
                .isEqualTo(Resolution.Rejected.of(RejectReason.ISSUER_MISMATCH));
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.issuer(null))))
                .isEqualTo(Resolution.Rejected.of(RejectReason.ISSUER_MISMATCH));
    }

    @Test
    void rejectsWrongAudience() throws Exception {
        resolver(jwksFile(RSA));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.audience("billing-api"))))
                .isEqualTo(Resolution.Rejected.of(RejectReason.AUDIENCE_MISMATCH));
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.audience((String) null))))
                .isEqualTo(Resolution.Rejected.of(RejectReason.AUDIENCE_MISMATCH));
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.audience(List.of("billing-api", AUDIENCE)))))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void skipsIssuerAndAudienceChecksWhenNotConfigured() throws Exception {
        Path file = Files.createTempFile(dir, "jwks", ".json");
        Files.writeString(file, TestTokens.jwks(RSA));
        resolver(JwtProviderSettings.of(null, new KeySource.JwksFile(file)));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.issuer("anyone").audience("any"))))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void rejectsBadSignature() throws Exception {
        resolver(jwksFile(RSA, EC_256));
        String token = sign(RSA, JWSAlgorithm.RS256, claims().build());
        String tampered = token.substring(0, token.lastIndexOf('.') + 1)
                + (token.charAt(token.lastIndexOf('.') + 1) == 'A' ? 'B' : 'A')
                + token.substring(token.lastIndexOf('.') + 2);
        String otherKey = sign(TestTokens.rsa("rsa-1"), JWSAlgorithm.RS256, claims().build());
        String[] parts = token.split("\\.");
        String swappedClaims = parts[0] + "." + Base64URL.encode(claims().subject("mallory").build().toString())
                + "." + parts[2];

        assertThat(resolver.verify(tampered)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
        assertThat(resolver.verify(otherKey)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
        assertThat(resolver.verify(swappedClaims)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
    }

    @Test
    void neverAcceptsAlgNone() throws Exception {
        resolver(jwksFile(RSA));
        String payload = claims().build().toString();

        for (String alg : List.of("none", "None", "NONE")) {
            String token = TestTokens.raw("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}", payload, new byte[0]);
            assertThat(resolver.verify(token)).as(alg)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
        }
        String withKid = TestTokens.raw("{\"alg\":\"none\",\"kid\":\"rsa-1\"}", payload, new byte[0]);
        assertThat(resolver.verify(withKid)).isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
        assertThatThrownBy(() -> SigningAlgorithm.parse("none")).hasMessageContaining("never accepted");
    }

    @Test
    void rejectsHmacTokenKeyedWithTheRsaPublicKey() throws Exception {
        String pem = TestTokens.pem("PUBLIC KEY", RSA.toRSAPublicKey().getEncoded());
        resolver(pemFile(pem), secretFor("https://other.example.com/"));
        JWTClaimsSet claims = claims().build();

        for (byte[] confusedSecret : List.of(pem.getBytes(StandardCharsets.US_ASCII),
                RSA.toRSAPublicKey().getEncoded())) {
            JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build();
            String signed = hmacWithHeader(confusedSecret, header, claims);
            assertThat(resolver.verify(signed)).isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
        }
        assertThat(resolver.signatureVerifications()).isZero();
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(Path.of("k.pem")))
                        .withAlgorithms(Set.of(SigningAlgorithm.RS256, SigningAlgorithm.HS256)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"HS256\" is not allowed with public_key_file");
    }

    JwtProviderSettings secretFor(String issuer) {
        return JwtProviderSettings.of(issuer, new KeySource.SecretEnv("JWT_SECRET"));
    }

    static String hmacWithHeader(byte[] secret, JWSHeader header, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(header, claims);
        jwt.sign(new MACSigner(secret));
        return jwt.serialize();
    }

    @Test
    void rejectsUnknownKidFromStaticKeySet() throws Exception {
        resolver(jwksFile(RSA));
        RSAKey stranger = TestTokens.rsa("rsa-2");

        assertThat(resolver.verify(sign(stranger, JWSAlgorithm.RS256, claims().build())))
                .isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
        assertThat(resolver.verifyAsync(sign(stranger, JWSAlgorithm.RS256, claims().build())))
                .isCompletedWithValue(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
    }

    @Test
    void ignoresKeyEmbeddedInJwkHeader() throws Exception {
        resolver(jwksFile(RSA));
        RSAKey attacker = TestTokens.rsa("attacker");
        JWTClaimsSet claims = claims().build();

        String noKid = sign(attacker, new JWSHeader.Builder(JWSAlgorithm.RS256).jwk(attacker.toPublicJWK()).build(),
                claims);
        String ourKid = sign(attacker, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                .jwk(attacker.toPublicJWK()).build(), claims);
        String attackerKid = sign(attacker, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("attacker")
                .jwk(attacker.toPublicJWK()).jwkURL(URI.create("https://evil.example.com/jwks")).build(),
                claims);

        assertThat(resolver.verify(noKid)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
        assertThat(resolver.verify(ourKid)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
        assertThat(resolver.verify(attackerKid)).isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
    }

    @Test
    void rejectsMalformedTokens() throws Exception {
        resolver(jwksFile(RSA));
        String valid = sign(RSA, JWSAlgorithm.RS256, claims().build());
        String[] parts = valid.split("\\.");
        byte[] sig = new byte[256];

        List<String> malformed = List.of(
                "",
                "abc",
                "a.b",
                valid + ".x",
                valid + ".x.y",
                parts[0] + "..",
                "." + parts[1] + "." + parts[2],
                parts[0] + "$." + parts[1] + "." + parts[2],
                parts[0] + "=." + parts[1] + "." + parts[2],
                valid.replace('.', ' '),
                TestTokens.raw("not json", parts[1], sig),
                TestTokens.raw("[\"alg\",\"RS256\"]", "{}", sig),
                TestTokens.raw("{\"alg\":\"RS256\"}", "not json", sig),
                TestTokens.raw("{\"alg\":\"RS256\"}", "[1,2]", sig),
                TestTokens.raw("{\"alg\":\"RS256\"}", "{\"exp\":\"tomorrow\"}", sig),
                TestTokens.raw("{\"typ\":\"JWT\"}", "{}", sig));

        for (String token : malformed) {
            assertThat(resolver.verify(token)).as(token)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        }
        assertThat(resolver.signatureVerifications()).isZero();
    }

    @Test
    void rejectsOversizedTokenWithoutParsingIt() throws Exception {
        resolver(jwksFile(RSA));
        String big = sign(RSA, JWSAlgorithm.RS256, c -> c.claim("padding", "x".repeat(7000)));
        assertThat(big.length()).isGreaterThan(JwtIdentityResolver.MAX_TOKEN_LENGTH);

        assertThat(resolver.verify(big)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_TOO_LARGE));
        assertThat(resolver.verify("x".repeat(1_000_000)))
                .isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_TOO_LARGE));
        assertThat(resolver.signatureVerifications()).isZero();
    }

    @Test
    void acceptsTokenOfExactlyTheMaximumLength() throws Exception {
        resolver(jwksFile(RSA));
        int base = sign(RSA, JWSAlgorithm.RS256, c -> c.claim("padding", "")).length();
        int bytes = (JwtIdentityResolver.MAX_TOKEN_LENGTH - base) * 3 / 4;
        // Base64url never yields a length of 1 mod 4, so vary the header as well to land exactly on the limit.
        String exact = null;
        for (int headerPad = 0; headerPad < 4 && exact == null; headerPad++) {
            JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                    .customParam("p", "z".repeat(headerPad)).build();
            for (int pad = bytes - 8; pad <= bytes + 8 && exact == null; pad++) {
                String candidate = sign(RSA, header, claims().claim("padding", "y".repeat(pad)).build());
                if (candidate.length() == JwtIdentityResolver.MAX_TOKEN_LENGTH) {
                    exact = candidate;
                }
            }
        }

        assertThat(exact).isNotNull();
        assertThat(resolver.verify(exact)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(exact + "A")).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_TOO_LARGE));
    }

    @Test
    void rejectsAlgorithmOutsideTheAllowList() throws Exception {
        resolver(jwksFile(RSA, EC_256).withAlgorithms(Set.of(SigningAlgorithm.RS256)));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.PS256, claims().build())))
                .isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
        assertThat(resolver.verify(sign(EC_256, JWSAlgorithm.ES256, claims().build())))
                .isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
        String unknownAlg = TestTokens.raw("{\"alg\":\"rs256\",\"kid\":\"rsa-1\"}", claims().build().toString(),
                new byte[256]);
        assertThat(resolver.verify(unknownAlg)).isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
    }

    @Test
    void rejectsKeyWhoseTypeDoesNotFitTheAlgorithm() throws Exception {
        resolver(jwksFile(RSA, EC_256));
        // An ES256 token naming the RSA key: the RSA key is never used for ECDSA.
        String token = sign(EC_256, new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("rsa-1").build(),
                claims().build());
        String curveMismatch = sign(EC_384, new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("ec-256").build(),
                claims().build());

        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.NO_SUITABLE_KEY));
        assertThat(resolver.verify(curveMismatch)).isEqualTo(Resolution.Rejected.of(RejectReason.NO_SUITABLE_KEY));
        assertThat(resolver.signatureVerifications()).isZero();
    }

    @Test
    void rejectsPsychicEcdsaSignature() throws Exception {
        resolver(jwksFile(EC_256));
        String header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-256").build().toString();
        String payload = claims().build().toString();

        assertThat(resolver.verify(TestTokens.raw(header, payload, new byte[64])))
                .isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
        byte[] nOrder = new byte[64];
        byte[] order = Curve.P_256.toECParameterSpec().getOrder().toByteArray();
        System.arraycopy(order, order.length - 32, nOrder, 0, 32);
        System.arraycopy(order, order.length - 32, nOrder, 32, 32);
        assertThat(resolver.verify(TestTokens.raw(header, payload, nOrder)))
                .isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
        // An empty signature is not a JWS at all.
        assertThat(resolver.verify(TestTokens.raw(header, payload, new byte[0])))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
    }

    @Test
    void rejectsCriticalHeaderItDoesNotUnderstand() throws Exception {
        resolver(jwksFile(RSA));
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                .criticalParams(Set.of("exp")).customParam("exp", NOW.getEpochSecond()).build();

        assertThat(resolver.verify(sign(RSA, header, claims().build())))
                .isEqualTo(Resolution.Rejected.of(RejectReason.UNSUPPORTED_CRITICAL_HEADER));
    }

    @Test
    void rejectsAnEmptyOrNullCritTooWhichNimbusReadsAsNone() throws Exception {
        resolver(jwksFile(RSA));
        String payload = claims().build().toString();

        for (String crit : List.of("[]", "null")) {
            String header = "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":" + crit + "}";
            assertThat(resolver.verify(signedRaw(header, payload))).as(crit)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.UNSUPPORTED_CRITICAL_HEADER));
        }
        assertThat(resolver.verify(signedRaw("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", payload)))
                .as("the same token without crit").isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void aNullInTheAudienceListOrANumericSubjectIsAMalformedTokenNotACrash() throws Exception {
        resolver(jwksFile(RSA));
        String header = "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}";
        String claims = claims().build().toString();
        for (String audiences : List.of("[null,\"" + AUDIENCE + "\"]", "[\"" + AUDIENCE + "\",null]",
                "[\"" + AUDIENCE + "\",7]")) {
            String withNullAudience = claims.replace("\"aud\":\"" + AUDIENCE + "\"", "\"aud\":" + audiences);
            assertThat(withNullAudience).isNotEqualTo(claims);
            assertThat(resolver.verify(signedRaw(header, withNullAudience))).as(audiences)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        }

        String withNumericSubject = claims.replaceFirst("\"sub\":\"[^\"]*\"", "\"sub\":123");
        assertThat(withNumericSubject).isNotEqualTo(claims);
        assertThat(resolver.verify(signedRaw(header, withNumericSubject)))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
    }

    @Test
    void aHeaderOfJsonNullIsAMalformedTokenNotAnException() throws Exception {
        resolver(jwksFile(RSA));
        // "null", "{}", two zero bytes: canonical base64url, so it reaches the parser, which throws on a null header
        assertThat(resolver.verify("bnVsbA.e30.AA")).isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
    }

    /** A compact RS256 JWS of exactly these header and payload texts, signed with {@link #RSA}. */
    private static String signedRaw(String header, String payload) throws Exception {
        String input = Base64URL.encode(header) + "." + Base64URL.encode(payload);
        Base64URL signature = new com.nimbusds.jose.crypto.RSASSASigner(RSA)
                .sign(new JWSHeader(JWSAlgorithm.RS256), input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + signature;
    }

    @Test
    void acceptsAnyTokenType() throws Exception {
        resolver(jwksFile(RSA));
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                .type(new JOSEObjectType("at+jwt")).build();

        assertThat(resolver.verify(sign(RSA, header, claims().build()))).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void rejectsTokenWithoutSubject() throws Exception {
        resolver(jwksFile(RSA));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.subject(null))))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MISSING_SUBJECT));
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, c -> c.subject(" "))))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MISSING_SUBJECT));
    }

    @Test
    void aCustomSubjectClaimNamesASubjectWithAStringOrAWholeNumberOnly() throws Exception {
        resolver(jwksFile(RSA).withClaims("user.id", "roles"));
        String header = "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}";
        long exp = clock.instant().getEpochSecond() + 600;
        java.util.function.Function<String, Resolution> withId = id -> {
            try {
                return resolver.verify(signedRaw(header, "{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + AUDIENCE
                        + "\",\"exp\":" + exp + ",\"sub\":\"s\",\"user\":{\"id\":" + id + "}}"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };

        assertThat(identity(withId.apply("\"u-7\"")).subject()).isEqualTo("u-7");
        assertThat(identity(withId.apply("42")).subject()).isEqualTo("42");
        assertThat(identity(withId.apply("9223372036854775807")).subject()).isEqualTo("9223372036854775807");
        // read as doubles: 5.0 and 1e2 would name the subjects "5" and "100", and two ids beyond 2^63 one subject
        for (String id : List.of("5.0", "1e2", "12345678901234567890", "12345678901234567891", "true")) {
            assertThat(withId.apply(id)).as(id).isEqualTo(Resolution.Rejected.of(RejectReason.MISSING_SUBJECT));
        }
    }

    @Test
    void triesKeysWithoutKidForTokensWithOrWithoutKid() throws Exception {
        RSAKey anonymous = new RSAKey.Builder(RSA).keyID(null).build();
        resolver(jwksFile(anonymous));

        String noKid = sign(RSA, new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims().build());
        String someKid = sign(RSA, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("whatever").build(),
                claims().build());

        assertThat(resolver.verify(noKid)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(someKid)).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void picksProviderByIssuer() throws Exception {
        resolver(jwksFile(RSA), secretFor("https://internal.example.com/"));
        byte[] secret = SECRET.getBytes(StandardCharsets.UTF_8);

        String internal = TestTokens.hmac(secret, JWSAlgorithm.HS256,
                claims().issuer("https://internal.example.com/").audience("anything").build());
        String hmacClaimingExternal = TestTokens.hmac(secret, JWSAlgorithm.HS256, claims().build());
        String rsaClaimingInternal = sign(RSA, JWSAlgorithm.RS256,
                c -> c.issuer("https://internal.example.com/"));

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(internal)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(hmacClaimingExternal))
                .isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
        assertThat(resolver.verify(rsaClaimingInternal))
                .isEqualTo(Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED));
    }

    @Test
    void providerWithoutIssuerTakesTokensOfOtherIssuers() throws Exception {
        Path file = Files.createTempFile(dir, "jwks", ".json");
        RSAKey other = TestTokens.rsa("other");
        Files.writeString(file, TestTokens.jwks(other));
        resolver(jwksFile(RSA), JwtProviderSettings.of(null, new KeySource.JwksFile(file)));

        assertThat(resolver.verify(sign(other, JWSAlgorithm.RS256, c -> c.issuer("https://partner.example.com/"))))
                .isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(sign(other, JWSAlgorithm.RS256, claims().build())))
                .isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
    }

    @Test
    void refusesAmbiguousProviderLists() throws Exception {
        JwtProviderSettings a = jwksFile(RSA);

        assertThatThrownBy(() -> resolver(a, a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is the issuer of providers 0 and 1");
        JwtProviderSettings anyIssuer = JwtProviderSettings.of(null, a.keySource());
        assertThatThrownBy(() -> resolver(anyIssuer, anyIssuer)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("both have no issuer");
        assertThatThrownBy(() -> new JwtIdentityResolver(List.of(), clock, scheduler, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void resolvesAuthorizationHeader() throws Exception {
        resolver(jwksFile(RSA));
        String token = sign(RSA, JWSAlgorithm.RS256, claims().build());

        assertThat(resolver.resolve(null)).isEqualTo(Resolution.notPresented());
        assertThat(resolver.resolve("Basic YWxhZGRpbjpvcGVuc2VzYW1l")).isEqualTo(Resolution.notPresented());
        assertThat(resolver.resolve("Bearer")).isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        assertThat(resolver.resolve("bearer  " + token + " ")).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.resolveAsync("Bearer " + token).join()).isInstanceOf(Resolution.Resolved.class);
        assertThat(BearerTokens.parse("Bearerx")).isNull();
        assertThat(BearerTokens.parse("BEARER\tabc")).isEqualTo("abc");
        assertThat(BearerTokens.parse("Bearer ")).isEmpty();
        assertThat(BearerTokens.parse(" Bearer\t abc \t")).isEqualTo("abc");
        assertThat(BearerTokens.parse("Bearer\u00a0abc")).isNull();
        assertThat(BearerTokens.tokenStart(null)).isEqualTo(-1);
        assertThat(BearerTokens.tokenStart("Basic abc")).isEqualTo(-1);
        assertThat(BearerTokens.tokenStart("Bearer")).isEqualTo(6);
        assertThat(BearerTokens.tokenEnd("Bearer")).isEqualTo(6);
        assertThat(BearerTokens.tokenStart(" Bearer  abc ")).isEqualTo(9);
        assertThat(BearerTokens.tokenEnd(" Bearer  abc ")).isEqualTo(12);
    }

    @Test
    void countsOutcomes() throws Exception {
        resolver(jwksFile(RSA));
        resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build()));
        resolver.verify("garbage");
        resolver.verify("garbage");

        assertThat(resolver.resolvedCount()).isEqualTo(1);
        assertThat(resolver.rejectedCount(RejectReason.MALFORMED_TOKEN)).isEqualTo(2);
        assertThat(resolver.providerStatus()).singleElement().satisfies(status -> {
            assertThat(status.keys()).isEqualTo(1);
            assertThat(status.keySource()).isEqualTo("jwks_file");
            assertThat(status.issuer()).isEqualTo(ISSUER);
            assertThat(status.lastSuccess()).isEqualTo(NOW);
        });
    }
}
