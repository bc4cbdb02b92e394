package dev.portcullis.core.identity;

import static dev.portcullis.core.identity.TestTokens.ISSUER;
import static dev.portcullis.core.identity.TestTokens.NOW;
import static dev.portcullis.core.identity.TestTokens.claims;
import static dev.portcullis.core.identity.TestTokens.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.portcullis.core.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeySourceTest {

    static final RSAKey RSA = TestTokens.rsa("r1");
    static ScheduledExecutorService scheduler;

    @TempDir
    Path dir;

    @BeforeAll
    static void startScheduler() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopScheduler() {
        scheduler.shutdownNow();
    }

    JwtIdentityResolver build(JwtProviderSettings settings, Map<String, String> env) throws KeySourceException {
        return new JwtIdentityResolver(List.of(settings),
                JwtResolverOptions.defaults(new MutableClock(NOW), scheduler).withEnvironment(env::get));
    }

    KeySourceException loadFails(JwtProviderSettings settings) {
        return catchKeySource(() -> build(settings, Map.of()));
    }

    static KeySourceException catchKeySource(ThrowingRunnable action) {
        try {
            action.run();
        } catch (KeySourceException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected KeySourceException, got " + e, e);
        }
        throw new AssertionError("expected KeySourceException");
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    Path write(String name, String content) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    @Test
    void reportsMissingFileWithProviderIndexAndKey() {
        Path missing = dir.resolve("nope.json");

        KeySourceException e = loadFails(JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(missing)));

        assertThat(e.providerIndex()).isZero();
        assertThat(e.configKey()).isEqualTo("jwks_file");
        assertThat(e).hasMessage("jwks_file \"" + missing + "\" does not exist (expected: a key file)");
    }

    @Test
    void reportsInvalidJwksDocument() throws Exception {
        Path file = write("jwks.json", "{\"keys\": 42}");

        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file))))
                .hasMessageStartingWith("jwks_file \"" + file + "\" is not a valid JWK set");
    }

    @Test
    void reportsAKeyFileThatIsNotUtf8Text() throws Exception {
        Path utf16 = dir.resolve("jwks.json");
        Files.write(utf16, new byte[] {(byte) 0xFF, (byte) 0xFE, '{', 0, '}', 0});
        Path der = dir.resolve("key.der");
        Files.write(der, new byte[] {0x30, (byte) 0x82, 0x01, 0x22, 0x30, 0x0D});

        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(utf16))))
                .hasMessage("jwks_file \"" + utf16 + "\" is not UTF-8 text (expected: a JWK set, JSON in UTF-8)");
        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(der)))).hasMessage(
                "public_key_file \"" + der + "\" is not UTF-8 text (expected: a PEM public key or certificate: text, not "
                        + "DER)");
    }

    @Test
    void refusesJwksWithoutUsableKeys() throws Exception {
        RSAKey small = new RSAKeyGenerator(1024, true).keyID("small").generate();
        RSAKey encryption = new RSAKey.Builder(TestTokens.rsa("enc")).keyUse(KeyUse.ENCRYPTION).build();
        RSAKey ps256Only = new RSAKey.Builder(TestTokens.rsa("ps")).algorithm(JWSAlgorithm.PS256).build();
        Path file = write("jwks.json", TestTokens.jwks(small, encryption, ps256Only));
        JwtProviderSettings settings = JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file))
                .withAlgorithms(Set.of(SigningAlgorithm.RS256));

        assertThat(loadFails(settings))
                .hasMessageContaining("has no usable signing key for [RS256]")
                .hasMessageContaining("RSA key \"small\" has 1024 bits")
                .hasMessageContaining("RSA key \"enc\" is for use \"enc\"")
                .hasMessageContaining("RSA key \"ps\" fits none of the allowed algorithms [RS256]");
    }

    @Test
    void skipsUnusableKeysAndKeepsTheRest() throws Exception {
        RSAKey encryption = new RSAKey.Builder(TestTokens.rsa("enc")).keyUse(KeyUse.ENCRYPTION).build();
        Path file = write("jwks.json", TestTokens.jwks(encryption, RSA));
        JwtIdentityResolver resolver = build(JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file)), Map.of());

        assertThat(resolver.providerStatus().get(0).keys()).isEqualTo(1);
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
        // what the load logs at WARN: each skipped key and why
        assertThat(KeyLoader.readJwks(Files.readString(file), Set.of(JWSAlgorithm.RS256)).skipped())
                .containsExactly("RSA key \"enc\" is for use \"enc\"");
    }

    @Test
    void usesOnlyThePublicPartOfAJwksWithPrivateKeys() throws Exception {
        Path file = write("jwks.json", new JWKSet(RSA).toString(false));
        JwtIdentityResolver resolver = build(JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file)), Map.of());

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void restrictsKeyToItsDeclaredAlgorithm() throws Exception {
        RSAKey rs256Only = new RSAKey.Builder(RSA).algorithm(JWSAlgorithm.RS256).build();
        Path file = write("jwks.json", TestTokens.jwks(rs256Only));
        JwtIdentityResolver resolver = build(JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file)), Map.of());

        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.RS256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(sign(RSA, JWSAlgorithm.PS256, claims().build())))
                .isEqualTo(Resolution.Rejected.of(RejectReason.NO_SUITABLE_KEY));
    }

    /** A fixture: openssl cannot run in a unit test, and the JDK has no public API to issue a certificate. */
    static final String CERTIFICATE = """
            -----BEGIN CERTIFICATE-----
            MIIBijCCATGgAwIBAgIUJ2IOt7k+2xDku6EFR7frF7BmIaswCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPcG9ydGN1bGxpcy10ZXN0MCAXDTI2MTEyODE3MDM0NFoYDzIx
            MjYxMTA0MTcwMzQ0WjAaMRgwFgYDVQQDDA9wb3J0Y3VsbGlzLXRlc3QwWTATBgcq
            hkjOPQIBBggqhkjOPQMBBwNCAARUzECH3TXWHYFdPqdXduDNcNmPQj21QX764d+M
            hgHSgwoalqmEC9wBh9PCTHCd3AhmGIHRGkEE6mTPtTxAnsJfo1MwUTAdBgNVHQ4E
            FgQUKXermso+zzMjc4bvCWQuI0b89fMwHwYDVR0jBBgwFoAUKXermso+zzMjc4bv
            CWQuI0b89fMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBFPpJz
            6d+6ISD7LyN/z/+nPdBjYlmJhJOWvicOL+VqOQIgPxeFsUjFN5Cs+ztpYLP9/3h9
            SIdfLyQg9nefC6KuiDk=
            -----END CERTIFICATE-----
            """;
    static final String CERTIFICATE_KEY_PKCS8 = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnufs4nLGbqnKn+FC"
            + "R6NWVotD1ik9UUeShkFx0vnE7bChRANCAARUzECH3TXWHYFdPqdXduDNcNmPQj21"
            + "QX764d+MhgHSgwoalqmEC9wBh9PCTHCd3AhmGIHRGkEE6mTPtTxAnsJf";

    @Test
    void acceptsKeyOfACertificatePem() throws Exception {
        Path file = write("cert.pem", "subject=CN = portcullis-test\n" + CERTIFICATE);
        JwtIdentityResolver resolver =
                build(JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(file)), Map.of());
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(CERTIFICATE.getBytes(StandardCharsets.US_ASCII)));
        PrivateKey privateKey = KeyFactory.getInstance("EC")
                .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(CERTIFICATE_KEY_PKCS8)));
        ECKey signing = new ECKey.Builder(Curve.P_256, (ECPublicKey) certificate.getPublicKey())
                .privateKey(privateKey)
                .build();

        assertThat(resolver.verify(sign(signing, JWSAlgorithm.ES256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void refusesPrivateKeyPem() throws Exception {
        Path file = write("key.pem", TestTokens.pem("PRIVATE KEY", RSA.toRSAPrivateKey().getEncoded()));

        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(file))))
                .hasMessageStartingWith("public_key_file \"" + file + "\" holds a private key");
    }

    @Test
    void refusesFilesThatAreNotPem() throws Exception {
        Path notPem = write("key.pem", "hello");
        Path badBase64 = write("bad.pem", "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n");
        Path garbage = write("garbage.pem", TestTokens.pem("PUBLIC KEY", new byte[] {1, 2, 3}));

        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(notPem))))
                .hasMessageContaining("is not a PEM file");
        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(badBase64))))
                .hasMessageContaining("invalid base64");
        assertThat(loadFails(JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(garbage))))
                .hasMessageContaining("holds a PUBLIC KEY block that is not a valid key");
    }

    @Test
    void refusesPemKeyThatFitsNoAllowedAlgorithm() throws Exception {
        Path file = write("key.pem", TestTokens.pem("PUBLIC KEY", RSA.toRSAPublicKey().getEncoded()));
        JwtProviderSettings settings = JwtProviderSettings.of(ISSUER, new KeySource.PublicKeyFile(file))
                .withAlgorithms(Set.of(SigningAlgorithm.ES256));

        assertThat(loadFails(settings)).hasMessageContaining("fits none of the allowed algorithms [ES256]");
    }

    @Test
    void refusesUnsetOrShortSecret() {
        JwtProviderSettings settings = JwtProviderSettings.of(ISSUER, new KeySource.SecretEnv("JWT_SECRET"));

        assertThat(catchKeySource(() -> build(settings, Map.of())))
                .hasMessage("secret_env \"JWT_SECRET\" is not set (expected: an environment variable holding the"
                        + " HMAC secret)");
        assertThat(catchKeySource(() -> build(settings, Map.of("JWT_SECRET", "short"))))
                .hasMessage("secret_env \"JWT_SECRET\" holds 5 bytes (expected: at least 32 bytes for HS256)");
        JwtProviderSettings hs512 = settings.withAlgorithms(Set.of(SigningAlgorithm.HS256, SigningAlgorithm.HS512));
        assertThat(catchKeySource(() -> build(hs512, Map.of("JWT_SECRET", "x".repeat(32)))))
                .hasMessageContaining("at least 64 bytes for HS512");
    }

    @Test
    void secretIsTheUtf8BytesOfTheVariable() throws Exception {
        String secret = "ünïcödé-secret-that-is-long-enough-for-hs256";
        JwtIdentityResolver resolver = build(JwtProviderSettings.of(ISSUER, new KeySource.SecretEnv("S")),
                Map.of("S", secret));

        String token = TestTokens.hmac(secret.getBytes(StandardCharsets.UTF_8), JWSAlgorithm.HS256, claims().build());

        assertThat(resolver.verify(token)).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void reportsTheIndexOfTheFailingProvider() throws Exception {
        Path good = write("jwks.json", TestTokens.jwks(RSA));
        JwtProviderSettings first = JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(good));
        JwtProviderSettings second = JwtProviderSettings.of("https://b/", new KeySource.SecretEnv("MISSING"));

        KeySourceException e = catchKeySource(() -> new JwtIdentityResolver(List.of(first, second),
                JwtResolverOptions.defaults(new MutableClock(NOW), scheduler).withEnvironment(name -> null)));

        assertThat(e.providerIndex()).isEqualTo(1);
        assertThat(e.configKey()).isEqualTo("secret_env");
    }

    @Test
    void validatesSettings() {
        KeySource url = new KeySource.JwksUrl(URI.create("https://auth.example.com/jwks"));

        assertThatThrownBy(() -> new KeySource.JwksUrl(URI.create("file:///etc/jwks.json")))
                .hasMessageContaining("is not a valid jwks_url");
        assertThatThrownBy(() -> new KeySource.JwksUrl(URI.create("/relative")))
                .hasMessageContaining("is not a valid jwks_url");
        assertThatThrownBy(() -> new KeySource.SecretEnv("")).hasMessageContaining("is not a valid secret_env");
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, url).withAlgorithms(Set.of()))
                .hasMessageContaining("at least one algorithm");
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, url).withAlgorithms(Set.of(SigningAlgorithm.HS256)))
                .hasMessageContaining("\"HS256\" is not allowed with jwks_url");
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, new KeySource.SecretEnv("S"))
                        .withAlgorithms(Set.of(SigningAlgorithm.RS256)))
                .hasMessageContaining("\"RS256\" is not allowed with secret_env");
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, url).withJwksRefresh(Duration.ZERO))
                .hasMessageContaining("jwks_refresh");
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, url).withClockSkew(Duration.ofSeconds(-1)))
                .hasMessageContaining("clock_skew");
        assertThatThrownBy(() -> JwtProviderSettings.of(ISSUER, url).withClaims("sub", "realm..roles"))
                .hasMessageContaining("is not a valid claim path");
        assertThatThrownBy(() -> JwtProviderSettings.of("", url)).hasMessageContaining("is not a valid issuer");
        assertThat(JwtProviderSettings.of(null, url).algorithms()).doesNotContain(SigningAlgorithm.HS256)
                .contains(SigningAlgorithm.RS256, SigningAlgorithm.ES256, SigningAlgorithm.EdDSA);
        assertThat(SigningAlgorithm.defaultsFor(new KeySource.SecretEnv("S"))).containsExactly(SigningAlgorithm.HS256);
    }

    @Test
    void parsesAlgorithmNamesExactly() {
        assertThat(SigningAlgorithm.parse("EdDSA")).isEqualTo(SigningAlgorithm.EdDSA);
        assertThat(SigningAlgorithm.parse("PS384")).isEqualTo(SigningAlgorithm.PS384);
        assertThatThrownBy(() -> SigningAlgorithm.parse("rs256"))
                .hasMessageStartingWith("\"rs256\" is not a valid JWT algorithm (expected: one of RS256");
        assertThatThrownBy(() -> SigningAlgorithm.parse("NONE")).hasMessageContaining("never accepted");
        assertThatThrownBy(() -> SigningAlgorithm.parse("ES256K")).hasMessageContaining("not a valid JWT algorithm");
    }
}
