package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwksServer;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.PrometheusText.Sample;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box attack checks on bearer-token verification, written from SPEC 3 (identity.jwt), 3.5, 3.6 (401 vs
 * 403, generic bodies), 4 (what is logged), 5 ({@code portcullis_jwt_verifications_total}) and README "Identity",
 * "Status codes", "Logs", "Security notes". Real keys, real tokens (nimbus-jose-jwt), the real gateway on
 * loopback. Cases already covered by IdentityJwtIT / IdentityJwksUrlIT / SpecIdentityCheckIT are not repeated.
 *
 * <p>Every denied attack is checked four ways: the status and exact generic body (401 with
 * {@code error="invalid_token"}, or 403), the upstream never saw the request, the access line has a specific
 * reason that carries no token material, and the JWT verification counter moved as a rejection, never as
 * {@code valid}. Each case collects every sub-case's failure before failing, so one run reports them all.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecJwtAttackCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ISS = JwtMint.ISSUER;
    private static final String PARTNER_ISS = "https://partner.test/";
    private static final String JWT_METRIC = "portcullis_jwt_verifications_total";
    private static final Object REMOVE = new Object();
    /** How long "the upstream saw nothing" is watched after the gateway's own answer. */
    private static final Duration QUIET = Duration.ofMillis(60);

    /** Two providers: the token's "iss" picks one (SPEC 3 identity.jwt). */
    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
            limits:
              max_header_size: 16KiB
            identity:
              jwt:
                - issuer: "https://issuer.test/"
                  audience: ["orders-api"]
                  algorithms: [{{ALGS}}]
                  jwks_file: "{{JWKS_A}}"
                  subject_claim: "sub"
                  roles_claim: "roles"
                  clock_skew: 30s
                - issuer: "https://partner.test/"
                  audience: ["billing-api"]
                  algorithms: [ES256]
                  jwks_file: "{{JWKS_B}}"
                  roles_claim: "roles"
                  clock_skew: 30s
              upstream_headers: { subject: "X-Auth-Subject", roles: "X-Auth-Roles" }
            default: deny
            rules:
              - name: public
                match: { paths: ["/public/**"] }
              - name: authn
                match: { paths: ["/authn/**"] }
                require: { authenticated: true }
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
            """;

    private static final String ROTATION_CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_url: "http://127.0.0.1:{{JWKS_PORT}}/jwks.json"
                jwks_refresh: 1s
                roles_claim: "roles"
              upstream_headers: { subject: "X-Auth-Subject", roles: "X-Auth-Roles" }
            default: deny
            rules:
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
            """;

    static RSAKey rsaA;
    static ECKey ecA;
    static ECKey ecB;
    static RSAKey attacker;
    static String jwksA;
    static String jwksB;

    private LogCapture log;

    @BeforeAll
    static void keys() throws Exception {
        rsaA = JwtMint.rsa("a-1");
        ecA = JwtMint.ec("a-ec");
        ecB = JwtMint.ec("b-1");
        attacker = JwtMint.rsa("attacker");
        jwksA = JwtMint.writeJwks(dir.resolve("jwks-a.json"), List.of(rsaA, ecA));
        jwksB = JwtMint.writeJwks(dir.resolve("jwks-b.json"), List.of(ecB));
    }

    @BeforeEach
    void capture() {
        log = LogCapture.attach("portcullis.access");
    }

    @AfterEach
    void release() {
        log.detach();
    }

    // ================================================================== cases

    /** SPEC 3 "none is never accepted": casings the existing tests do not try, and a missing / odd alg. */
    @Test
    void algNoneInEveryCasingAndAMissingOrMalformedAlgAreRejected() throws Exception {
        Gateway gw = start();
        String payload = payload(c -> c);
        String realSig = sig(rs256(payload));
        Checks checks = new Checks();
        for (String alg : List.of("\"nOnE\"", "\"NoNe\"", "\"nonE\"", "\"none \"", "\" none\"", "\"none\\u0000\"",
                "\"\"", "null", "[\"none\"]", "[\"RS256\"]", "{\"alg\":\"RS256\"}", "\"rs256\"", "\"RS256 \"")) {
            String header = "{\"alg\":" + alg + ",\"kid\":\"a-1\",\"typ\":\"JWT\"}";
            checks.run("alg " + alg + ", empty signature",
                    () -> rejected401(gw, "/admin/x", null, bearerLine(JwtMint.b64(header) + "." + payload + ".")));
            checks.run("alg " + alg + ", the real RS256 signature",
                    () -> rejected401(gw, "/admin/x", null, bearerLine(JwtMint.b64(header) + "." + payload + "." + realSig)));
        }
        String noAlg = JwtMint.b64("{\"kid\":\"a-1\",\"typ\":\"JWT\"}");
        checks.run("no alg, empty signature", () -> rejected401(gw, "/admin/x", null, bearerLine(noAlg + "." + payload + ".")));
        checks.run("no alg, real signature",
                () -> rejected401(gw, "/admin/x", null, bearerLine(noAlg + "." + payload + "." + realSig)));
        checks.run("control: the real token", () -> allowed(gw, "/admin/x", "mallory", bearerLine(rs256(payload))));
        checks.assertAll();
    }

    /**
     * README "an HS token is never checked with an RSA key's bytes; HS algorithms only with secret_env": even with
     * HS256/384/512 in the allow-list next to a JWKS (if the gateway loads such a config at all), HMAC tokens keyed
     * with public key material in forms the existing tests do not try, or with an {@code oct} key the JWKS itself
     * publishes, are rejected.
     */
    @Test
    void hmacTokensKeyedWithPublishedKeyMaterialAreRejectedEvenWithHsInTheAllowList() throws Exception {
        OctetSequenceKey oct = new OctetSequenceKey.Builder("published-hmac-secret-0123456789abcdef".getBytes(
                StandardCharsets.US_ASCII)).keyID("sym").build();
        Path jwksWithOct = dir.resolve("jwks-with-oct.json");
        Files.writeString(jwksWithOct, new JWKSet(List.<JWK>of(rsaA.toPublicJWK(), ecA.toPublicJWK(), oct))
                .toString(false), StandardCharsets.UTF_8);
        Gateway gw;
        try {
            gw = start(Map.of("ALGS", "RS256, ES256, HS256, HS384, HS512", "JWKS_A", jwksWithOct.toString()));
        } catch (Exception refusedAtLoad) {
            // refusing HS next to an asymmetric key source is the safe answer; then try the forgeries on the
            // ordinary provider, where HS is not allowed at all
            gw = start();
        }
        Gateway g = gw;
        String payload = payload(c -> c);
        String pem = JwtMint.pem(rsaA);
        String ecPem = "-----BEGIN PUBLIC KEY-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(ecA.toECPublicKey().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        Map<String, byte[]> secrets = new LinkedHashMap<>();
        secrets.put("the oct key the JWKS publishes", oct.toByteArray());
        secrets.put("RSA PEM without its final newline", pem.strip().getBytes(StandardCharsets.US_ASCII));
        secrets.put("RSA PEM with CRLF", pem.replace("\n", "\r\n").getBytes(StandardCharsets.US_ASCII));
        secrets.put("base64 of the RSA DER", java.util.Base64.getEncoder().encode(JwtMint.der(rsaA)));
        secrets.put("the RSA modulus bytes", rsaA.getModulus().decode());
        secrets.put("the RSA public JWK (thumbprint order)", rsaA.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8));
        secrets.put("the EC PEM", ecPem.getBytes(StandardCharsets.US_ASCII));
        secrets.put("the whole published JWKS", Files.readAllBytes(Path.of(jwksA)));
        Checks checks = new Checks();
        for (Map.Entry<String, byte[]> s : secrets.entrySet()) {
            boolean allAlgs = s.getKey().startsWith("the oct") || s.getKey().startsWith("RSA PEM without");
            for (String alg : allAlgs ? List.of("HS256", "HS384", "HS512") : List.of("HS256")) {
                for (String kid : alg.equals("HS256") ? new String[] {"sym", "a-1", null} : new String[] {"a-1"}) {
                    String header = "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"" + (kid == null ? "" : ",\"kid\":\"" + kid + "\"")
                            + "}";
                    String token = hmacRaw(s.getValue(), alg, JwtMint.b64(header) + "." + payload);
                    checks.run(alg + " keyed with " + s.getKey() + ", kid " + kid,
                            () -> rejected401(g, "/admin/x", null, bearerLine(token)));
                }
            }
        }
        checks.run("control: the real RS256 token", () -> allowed(g, "/admin/x", "mallory", bearerLine(rs256(payload))));
        checks.assertAll();
    }

    /**
     * README "jku, x5u, jwk and x5c headers are never used to find a key": an attacker's self-signed certificate in
     * x5c (also with the real kid), and jku / x5u pointing at a live endpoint serving the attacker's key, which the
     * gateway must never even fetch.
     */
    @Test
    void keysCarriedOrPointedToByTheTokenAreNeverUsedNorFetched() throws Exception {
        Gateway gw = start();
        RSAKey certified = selfSignedAttackerKey();
        List<Base64> chain = certified.getX509CertChain();
        try (JwksServer evil = JwksServer.start(List.of(attacker, certified))) {
            URI evilUrl = URI.create("http://127.0.0.1:" + evil.port() + JwksServer.PATH);
            JwtPayload p = new JwtPayload(payload(c -> c));
            Map<String, JWSHeader> headers = new LinkedHashMap<>();
            headers.put("x5c with the attacker's certificate", base().x509CertChain(chain).build());
            headers.put("x5c + the real kid", base().keyID("a-1").x509CertChain(chain).build());
            headers.put("x5c + x5t#S256 of it", base().x509CertChain(chain).x509CertSHA256Thumbprint(
                    com.nimbusds.jose.util.Base64URL.encode(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(chain.get(0).decode()))).build());
            headers.put("jku at a live attacker JWKS", base().keyID("attacker").jwkURL(evilUrl).build());
            headers.put("jku at a live attacker JWKS + the real kid", base().keyID("a-1").jwkURL(evilUrl).build());
            headers.put("x5u at a live attacker endpoint", base().keyID("attacker").x509CertURL(evilUrl).build());
            headers.put("jwk (EC key, ES256 header) of the attacker", new JWSHeader.Builder(JWSAlgorithm.ES256)
                    .type(JOSEObjectType.JWT).jwk(JwtMint.ec("atk-ec").toPublicJWK()).build());
            Checks checks = new Checks();
            for (Map.Entry<String, JWSHeader> h : headers.entrySet()) {
                JWK signer = h.getValue().getAlgorithm().equals(JWSAlgorithm.ES256) ? null : certified;
                String token = signer == null ? p.esForgery(h.getValue()) : JwtMint.sign(signer, h.getValue(),
                        com.nimbusds.jwt.JWTClaimsSet.parse(p.json()));
                checks.run(h.getKey(), () -> rejected401(gw, "/admin/x", null, bearerLine(token)));
            }
            checks.run("the attacker's endpoints were never fetched",
                    () -> assertThat(evil.fetches()).as("fetches of the jku/x5u endpoint").isZero());
            checks.assertAll();
        }
    }

    /** kid values that target a key-lookup backend (files, SQL, case folding, the other provider's key). */
    @Test
    void kidTricksNeverSelectAKeyTheAttackerControls() throws Exception {
        Gateway gw = start();
        String payload = payload(c -> c);
        Checks checks = new Checks();
        for (String kid : List.of("../../../../../../dev/null", "/dev/null", "a-1/../../../../dev/null",
                "x' UNION SELECT 'secret'--", "a-1' OR '1'='1", "A-1", " a-1", "a-1 ", "a-1\\u0000", "",
                "b-1", "*", "a-1,attacker")) {
            String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" + kid.replace("\"", "\\\"") + "\"}";
            String input = JwtMint.b64(header) + "." + payload;
            checks.run("RS256 by the attacker's key, kid " + kid,
                    () -> rejected401(gw, "/admin/x", null, bearerLine(input + "." + rsSign(attacker, input))));
            String hsHeader = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"" + kid.replace("\"", "\\\"") + "\"}";
            String hsInput = JwtMint.b64(hsHeader) + "." + payload;
            // HMAC with a 1-byte zero key equals HMAC with an empty key (/dev/null); "secret" is what the SQL one selects
            if (kid.contains("dev/null")) {
                checks.run("HS256 with an empty key, kid " + kid,
                        () -> rejected401(gw, "/admin/x", null, bearerLine(hmacRaw(new byte[] {0}, "HS256", hsInput))));
            }
            if (kid.contains("'")) {
                checks.run("HS256 with \"secret\", kid " + kid, () -> rejected401(gw, "/admin/x", null,
                        bearerLine(hmacRaw("secret".getBytes(StandardCharsets.US_ASCII), "HS256", hsInput))));
            }
        }
        for (String kid : List.of("1", "[\"a-1\"]", "{\"kid\":\"a-1\"}", "null")) {
            String input = JwtMint.b64("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":" + kid + "}") + "." + payload;
            checks.run("non-string kid " + kid + " by the attacker",
                    () -> rejected401(gw, "/admin/x", null, bearerLine(input + "." + rsSign(attacker, input))));
        }
        // the partner provider's real key with its real kid, on a token naming the first provider as issuer
        String crossInput = JwtMint.b64("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"b-1\"}") + "." + payload;
        checks.run("ES256 by the other provider's key and kid", () -> rejected401(gw, "/admin/x", null,
                bearerLine(crossInput + "." + esSign(ecB, crossInput))));
        checks.assertAll();
    }

    /** README "any crit header is rejected", also for a genuinely signed token and for RFC 7797 b64. */
    @Test
    void anyCritHeaderIsRejectedEvenOnAGenuineSignature() throws Exception {
        Gateway gw = start();
        String payload = payload(c -> put(c, "foo", 1));
        Checks checks = new Checks();
        for (String crit : List.of("\"crit\":[\"exp\"]", "\"crit\":[\"foo\"],\"foo\":1", "\"crit\":\"exp\"",
                "\"crit\":[\"b64\"],\"b64\":true", "\"crit\":[\"b64\"],\"b64\":false")) {
            String input = JwtMint.b64("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"a-1\"," + crit + "}") + "." + payload;
            checks.run(crit + ", signed by the real key",
                    () -> rejected401(gw, "/admin/x", null, bearerLine(input + "." + rsSign(rsaA, input))));
        }
        // RFC 7797 detached, unencoded payload: the signing input is the raw JSON, the compact form has no payload
        String header = JwtMint.b64("{\"alg\":\"RS256\",\"kid\":\"a-1\",\"b64\":false,\"crit\":[\"b64\"]}");
        String rawJson = new String(java.util.Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8);
        String detachedSig = rsSignBytes(rsaA, (header + "." + rawJson).getBytes(StandardCharsets.UTF_8));
        checks.run("b64:false detached", () -> rejected401(gw, "/admin/x", null,
                bearerLine(header + ".." + detachedSig)));
        checks.assertAll();
    }

    /** A real JWE (RSA-OAEP-256 to the provider's public key) and dot-count variants of a valid JWS. */
    @Test
    void jweAndOddlySegmentedTokensAreRejected() throws Exception {
        Gateway gw = start();
        String valid = rs256(payload(c -> c));
        Checks checks = new Checks();
        JWEObject jwe = new JWEObject(new JWEHeader.Builder(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM)
                .contentType("JWT").keyID("a-1").build(), new Payload(valid));
        jwe.encrypt(new RSAEncrypter(rsaA.toRSAPublicKey()));
        String jweToken = jwe.serialize();
        JWEObject forgedInner = new JWEObject(new JWEHeader.Builder(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A128GCM)
                .contentType("JWT").build(), new Payload(JwtMint.b64("{\"alg\":\"none\"}") + "." + payload(c -> c) + "."));
        forgedInner.encrypt(new RSAEncrypter(rsaA.toRSAPublicKey()));
        checks.run("JWE wrapping a valid JWS", () -> rejected401(gw, "/admin/x", null, bearerLine(jweToken)));
        checks.run("JWE wrapping an alg-none JWT", () -> rejected401(gw, "/admin/x", null,
                bearerLine(forgedInner.serialize())));
        checks.run("JWS with alg RSA-OAEP-256 (a JWE alg)", () -> rejected401(gw, "/admin/x", null,
                bearerLine(JwtMint.b64("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"a-1\"}") + "."
                        + payload(c -> c) + "." + sig(valid))));
        String[] parts = valid.split("\\.");
        for (String variant : List.of(valid + ".", "." + valid, valid + ".." , parts[0] + ".." + parts[1] + "." + parts[2],
                parts[0] + "." + parts[1] + "." + parts[1] + "." + parts[2], valid + "." + valid,
                parts[0] + "." + parts[0] + "." + parts[1] + "." + parts[2])) {
            checks.run("segments: " + variant.chars().filter(ch -> ch == '.').count() + " dots, "
                    + shape(variant, parts), () -> rejected401(gw, "/admin/x", null, bearerLine(variant)));
        }
        checks.run("control", () -> allowed(gw, "/admin/x", "mallory", bearerLine(valid)));
        checks.assertAll();
    }

    /**
     * Non-canonical encodings of a valid token (padding, the +/ alphabet, percent-encoding, embedded whitespace,
     * bytes outside visible ASCII):
     * a security engineer expects the one canonical compact form only (RFC 7515 7.1 / 2: base64url without padding),
     * so that a token denylist or a WAF in front sees the same string the gateway accepts.
     */
    @Test
    void nonCanonicalEncodingsOfAValidTokenAreRejected() throws Exception {
        Gateway gw = start();
        String valid = null;
        for (int i = 0; i < 200 && valid == null; i++) {
            int n = i;
            String t = rs256(payload(c -> put(c, "jti", "j" + n)));
            if ((t.contains("-") || t.contains("_")) && !t.endsWith("=")) {
                valid = t;
            }
        }
        assertThat(valid).as("a token with - or _ in it").isNotNull();
        String v = valid;
        String[] parts = v.split("\\.");
        Map<String, String> variants = new LinkedHashMap<>();
        variants.put("padded segments", pad(parts[0]) + "." + pad(parts[1]) + "." + pad(parts[2]));
        variants.put("standard base64 alphabet (+/)", v.replace('-', '+').replace('_', '/'));
        variants.put("percent-encoded dots", v.replace(".", "%2E"));
        variants.put("one percent-encoded letter", parts[0] + ".%" + Integer.toHexString(parts[1].charAt(0)).toUpperCase()
                + parts[1].substring(1) + "." + parts[2]);
        variants.put("a space inside the payload", parts[0] + "." + parts[1].substring(0, 10) + " "
                + parts[1].substring(10) + "." + parts[2]);
        variants.put("a tab inside the payload", parts[0] + "." + parts[1].substring(0, 10) + "\t"
                + parts[1].substring(10) + "." + parts[2]);
        variants.put("a space after a dot", parts[0] + ". " + parts[1] + "." + parts[2]);
        Checks checks = new Checks();
        for (Map.Entry<String, String> e : variants.entrySet()) {
            checks.run(e.getKey(), () -> rejected401(gw, "/admin/x", null, bearerLine(e.getValue())));
        }
        checks.run("control", () -> allowed(gw, "/admin/x", "mallory", bearerLine(v)));
        nonAsciiBytes(gw, checks);
        checks.assertAll();
    }

    /**
     * The last base64url character of an RS256 signature (2048 bits in 342 characters) carries 4 unused bits:
     * changing them yields a different token string with the same signature bytes. RFC 4648 3.5 lets a decoder
     * reject such non-canonical encodings; a security engineer expects one token string per signature.
     */
    @Test
    void aSignatureWithNonZeroPaddingBitsIsRejected() throws Exception {
        Gateway gw = start();
        String valid = rs256(payload(c -> c));
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int last = alphabet.indexOf(valid.charAt(valid.length() - 1));
        assertThat(last & 0b001111).as("canonical padding bits of the real signature").isZero();
        String malleated = valid.substring(0, valid.length() - 1) + alphabet.charAt((last & 0b110000) | 0b000101);
        Checks checks = new Checks();
        checks.run("control", () -> allowed(gw, "/admin/x", "mallory", bearerLine(valid)));
        checks.run("same signature bytes, padding bits set", () -> rejected401(gw, "/admin/x", null, bearerLine(malleated)));
        checks.assertAll();
    }

    /** Registered claims: aud / iss compared exactly, typed and per provider; exp / nbf / iat typed and skewed. */
    @Test
    void registeredClaimsOfTheWrongTypeOrValueAreRejected() throws Exception {
        Gateway gw = start();
        Map<String, UnaryOperator<Map<String, Object>>> bad = new LinkedHashMap<>();
        bad.put("aud []", c -> put(c, "aud", List.of()));
        bad.put("aud \"\"", c -> put(c, "aud", ""));
        bad.put("aud [\"ORDERS-API\"]", c -> put(c, "aud", List.of("ORDERS-API")));
        bad.put("aud \" orders-api\"", c -> put(c, "aud", " orders-api"));
        bad.put("aud \"orders-api \"", c -> put(c, "aud", "orders-api "));
        bad.put("aud [[\"orders-api\"]]", c -> put(c, "aud", List.of(List.of("orders-api"))));
        bad.put("aud {\"orders-api\":true}", c -> put(c, "aud", Map.of("orders-api", true)));
        bad.put("aud \"orders-api,other\"", c -> put(c, "aud", "orders-api,other"));
        bad.put("aud \"orders-api other\"", c -> put(c, "aud", "orders-api other"));
        bad.put("aud of the other provider", c -> put(c, "aud", "billing-api"));
        bad.put("iss without its trailing slash", c -> put(c, "iss", "https://issuer.test"));
        bad.put("iss upper case", c -> put(c, "iss", "HTTPS://ISSUER.TEST/"));
        bad.put("iss as an array", c -> put(c, "iss", List.of(ISS)));
        bad.put("iss with a trailing space", c -> put(c, "iss", ISS + " "));
        Checks checks = new Checks();
        for (Map.Entry<String, UnaryOperator<Map<String, Object>>> e : bad.entrySet()) {
            checks.run(e.getKey(), () -> rejected401(gw, "/admin/x", null, bearerLine(rs256(payload(e.getValue())))));
        }
        // a genuine token of the partner (its issuer, its key), but for this API's audience
        checks.run("partner token with aud orders-api", () -> rejected401(gw, "/admin/x", null,
                bearerLine(es256(ecB, "b-1", payload(c -> put(put(c, "iss", PARTNER_ISS), "aud", "orders-api"))))));
        checks.run("control: aud array with ours in it", () -> allowed(gw, "/admin/x", "mallory",
                bearerLine(rs256(payload(c -> put(c, "aud", List.of("x", "orders-api")))))));
        checks.run("control: partner token for its own audience", () -> allowed(gw, "/admin/x", "mallory",
                bearerLine(es256(ecB, "b-1", payload(c -> put(put(c, "iss", PARTNER_ISS), "aud", "billing-api"))))));
        timeClaims(gw, checks);
        checks.assertAll();
    }

    /** exp / nbf / iat: types, signs, fractions and the 30 s clock_skew (README: "exp/nbf/iat with clock_skew"). */
    private void timeClaims(Gateway gw, Checks checks) throws Exception {
        long now = Instant.now().getEpochSecond();
        Map<String, UnaryOperator<Map<String, Object>>> bad = new LinkedHashMap<>();
        bad.put("exp 45 s ago", c -> put(c, "exp", now - 45));
        bad.put("exp 45.5 s ago (fraction)", c -> put(c, "exp", now - 45.5));
        bad.put("exp -1", c -> put(c, "exp", -1));
        bad.put("exp 0", c -> put(c, "exp", 0));
        bad.put("exp as a string", c -> put(c, "exp", Long.toString(now + 600)));
        bad.put("exp true", c -> put(c, "exp", true));
        bad.put("exp as an array", c -> put(c, "exp", List.of(now + 600)));
        bad.put("exp null", c -> put(c, "exp", null));
        bad.put("nbf 45 s ahead", c -> put(c, "nbf", now + 45));
        bad.put("nbf as a string", c -> put(c, "nbf", "0"));
        bad.put("iat one hour ahead", c -> put(c, "iat", now + 3600));
        bad.put("iat as a string", c -> put(c, "iat", Long.toString(now)));
        for (Map.Entry<String, UnaryOperator<Map<String, Object>>> e : bad.entrySet()) {
            String expected = e.getKey().contains("ago") || e.getKey().equals("exp -1") || e.getKey().equals("exp 0")
                    ? "token_expired" : e.getKey().equals("exp null") ? "token_missing_exp" : null;
            checks.run(e.getKey(), () -> rejected401(gw, "/admin/x", expected,
                    bearerLine(rs256(payload(e.getValue())))));
        }
        checks.run("control: exp with a fraction (RFC 7519 NumericDate)", () -> allowed(gw, "/admin/x", "mallory",
                bearerLine(rs256(payload(c -> put(c, "exp", now + 600.5))))));
        checks.run("control: exp in year 9999", () -> allowed(gw, "/admin/x", "mallory",
                bearerLine(rs256(payload(c -> put(c, "exp", 253402300799L))))));
        // Long.MAX_VALUE seconds overflows milliseconds: whatever is decided, never an error page and never
        // a wrap-around into "expired long ago" that is then cached as valid
        checks.run("exp Long.MAX_VALUE never 5xx", () -> {
            RawResponse r = send(gw, "/admin/x", bearerLine(rs256(payload(c -> put(c, "exp", Long.MAX_VALUE)))));
            assertThat(r.status()).as("exp Long.MAX_VALUE; got%n%s", r).isIn(200, 401);
        });
    }

    /**
     * SPEC 3.5: the identity is subject_claim + roles. A token without a usable subject (missing, empty, not a
     * string) names nobody: a security engineer expects it rejected, not an identity "null" / "123" / "{...}" that
     * per-subject rate limits and upstream logs would lump together or confuse with a real user.
     */
    @Test
    void aTokenWithoutAUsableStringSubjectIsNotAnIdentity() throws Exception {
        Gateway gw = start();
        Checks checks = new Checks();
        Map<String, UnaryOperator<Map<String, Object>>> bad = new LinkedHashMap<>();
        bad.put("sub missing", c -> put(c, "sub", REMOVE));
        bad.put("sub null", c -> put(c, "sub", null));
        bad.put("sub \"\"", c -> put(c, "sub", ""));
        bad.put("sub true", c -> put(c, "sub", true));
        bad.put("sub [\"alice\"]", c -> put(c, "sub", List.of("alice")));
        bad.put("sub {\"id\":\"alice\"}", c -> put(c, "sub", Map.of("id", "alice")));
        for (Map.Entry<String, UnaryOperator<Map<String, Object>>> e : bad.entrySet()) {
            checks.run(e.getKey(), () -> rejected401(gw, "/authn/x", null, bearerLine(rs256(payload(e.getValue())))));
        }
        checks.run("control", () -> allowed(gw, "/authn/x", "mallory", bearerLine(rs256(payload(c -> c)))));
        checks.assertAll();
    }

    /** roles_claim of the wrong type never grants a role; huge but legal role lists work. */
    @Test
    void rolesOfTheWrongTypeNeverGrantARole() throws Exception {
        Gateway gw = start();
        Checks checks = new Checks();
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("roles {\"admin\":true}", Map.of("admin", true));
        bad.put("roles [[\"admin\"]]", List.of(List.of("admin")));
        bad.put("roles [{\"name\":\"admin\"}]", List.of(Map.of("name", "admin")));
        bad.put("roles [\"admin,ops\"] (one role with a comma)", List.of("admin,ops"));
        bad.put("roles [\"admin ops\"] (one role with a space)", List.of("admin ops"));
        bad.put("roles [1, true, null]", java.util.Arrays.asList(1, true, null));
        bad.put("roles true", true);
        bad.put("roles 1", 1);
        bad.put("roles \"\"", "");
        bad.put("roles \"administrator\"", "administrator");
        bad.put("roles [\"ADMIN\"]", List.of("ADMIN"));
        for (Map.Entry<String, Object> e : bad.entrySet()) {
            checks.run(e.getKey(), () -> deniedEitherWay(gw, "/admin/x", bearerLine(rs256(payload(c -> put(c, "roles",
                    e.getValue()))))));
        }
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            many.add("r" + i);
        }
        List<String> manyThenAdmin = new ArrayList<>(many);
        manyThenAdmin.add("admin");
        checks.run("600 roles without admin", () -> deniedEitherWay(gw, "/admin/x",
                bearerLine(rs256(payload(c -> put(c, "roles", many))))));
        checks.run("control: 600 roles then admin", () -> allowed(gw, "/admin/x", "mallory",
                bearerLine(rs256(payload(c -> put(c, "roles", manyThenAdmin))))));
        checks.run("control: \"user admin\" string", () -> allowed(gw, "/admin/x", "mallory",
                bearerLine(rs256(payload(c -> put(c, "roles", "user admin"))))));
        checks.assertAll();
    }

    /**
     * Authorization header spellings (RFC 6750 2.1 / RFC 7235) that must not yield an identity, and (README
     * "Status codes") a second Authorization header, which is a 400 whichever of them carries the token.
     */
    @Test
    void authorizationSpellingsThatAreNotOneBearerTokenGiveNoIdentity() throws Exception {
        Gateway gw = start();
        String valid = rs256(payload(c -> c));
        String other = rs256(payload(c -> put(c, "sub", "other")));
        Checks checks = new Checks();
        checks.run("two credentials comma-joined", () -> rejected401(gw, "/admin/x", null,
                "Authorization: Bearer " + valid + ", Bearer " + other));
        checks.run("Bearer token plus a trailing word", () -> rejected401(gw, "/admin/x", null,
                "Authorization: Bearer " + valid + " extra"));
        checks.run("Bearer token plus a trailing comma", () -> rejected401(gw, "/admin/x", null,
                "Authorization: Bearer " + valid + ","));
        checks.run("token first, scheme after", () -> anonymous401(gw, "/admin/x", "Authorization: " + valid + " Bearer"));
        checks.run("Basic then Bearer in one header", () -> anonymous401Or(gw, "/admin/x",
                "Authorization: Basic dXNlcjpwYXNz, Bearer " + valid));
        checks.run("scheme glued to the token", () -> anonymous401Or(gw, "/admin/x", "Authorization: Bearer" + valid));
        checks.run("scheme BearerX", () -> anonymous401Or(gw, "/admin/x", "Authorization: BearerX " + valid));
        checks.run("scheme Bearer: (with a colon)", () -> anonymous401Or(gw, "/admin/x", "Authorization: Bearer: " + valid));
        checks.run("empty Bearer", () -> anonymous401Or(gw, "/admin/x", "Authorization: Bearer"));
        checks.run("space before the colon of the name", () -> rejected(gw, 400, "/admin/x",
                "Authorization : Bearer " + valid));
        // RFC 7235 allows 1*SP: accepted or not, never proxied without the identity
        checks.run("two spaces after Bearer", () -> {
            RawResponse r = send(gw, "/admin/x", "Authorization: Bearer  " + valid);
            if (r.status() != 200) {
                JwtAssertions.assertUnauthorized(r, true, "Bearer with two spaces");
            }
        });
        secondAuthorizationHeaders(gw, valid, checks);
        checks.assertAll();
    }

    /** README "Status codes": more than one Authorization header is a 400 (closed), in any spelling of its name. */
    private void secondAuthorizationHeaders(Gateway gw, String valid, Checks checks) throws Exception {
        String forged = JwtMint.sign(attacker, JWSAlgorithm.RS256, com.nimbusds.jwt.JWTClaimsSet.parse(
                new String(java.util.Base64.getUrlDecoder().decode(payload(c -> c)), StandardCharsets.UTF_8)));
        checks.run("valid then forged", () -> rejected(gw, 400, "/admin/x", bearerLine(valid), bearerLine(forged)));
        checks.run("forged then valid", () -> rejected(gw, 400, "/admin/x", bearerLine(forged), bearerLine(valid)));
        checks.run("valid twice", () -> rejected(gw, 400, "/admin/x", bearerLine(valid), bearerLine(valid)));
        checks.run("Basic then valid Bearer", () -> rejected(gw, 400, "/admin/x", "Authorization: Basic dXNlcjpwYXNz",
                bearerLine(valid)));
        checks.run("lower-case name then upper-case name", () -> rejected(gw, 400, "/admin/x",
                "authorization: Bearer " + forged, "AUTHORIZATION: Bearer " + valid));
        checks.run("empty Authorization then valid", () -> rejected(gw, 400, "/admin/x", "Authorization:",
                bearerLine(valid)));
        checks.run("valid, then Authorization spelled with _", () -> {
            RawResponse r = send(gw, "/admin/x", bearerLine(forged), "Authorization_: Bearer " + valid);
            // the second line is another header name, not an Authorization: the forged one decides
            assertThat(r.status()).as("forged Authorization plus Authorization_; got%n%s", r).isIn(400, 401);
        });
    }

    /** Oversized tokens and header blocks: never proxied, never logged, answered by their documented status. */
    @Test
    void oversizedTokensAndHeadersAreRejectedUnparsedAndUnlogged() throws Exception {
        Gateway gw = start();
        String bigValid = rs256(payload(c -> put(c, "pad", "p".repeat(7000))));
        assertThat(bigValid.length()).isBetween(8 * 1024 + 1, 12 * 1024);
        String tooBigForHeaders = rs256(payload(c -> put(c, "pad", "q".repeat(15000))));
        Checks checks = new Checks();
        checks.run("a genuinely signed 9-12 KiB token (README: over 8 KiB rejected unparsed)",
                () -> rejected401(gw, "/admin/x", null, bearerLine(bigValid)));
        checks.run("8 KiB of junk dots", () -> rejected401(gw, "/admin/x", null, bearerLine(".".repeat(9000))));
        checks.run("a token pushing the header block over max_header_size: 431",
                () -> rejected(gw, 431, "/admin/x", bearerLine(tooBigForHeaders)));
        checks.run("control: a token just under 8 KiB", () -> {
            String t = rs256(payload(c -> put(c, "pad", "s".repeat(5500))));
            assertThat(t.length()).isLessThan(8 * 1024);
            allowed(gw, "/admin/x", "mallory", bearerLine(t));
        });
        checks.assertAll();
    }

    /** Bytes outside visible ASCII in or around a token; and a non-ASCII subject reaching the upstream encoded. */
    private void nonAsciiBytes(Gateway gw, Checks checks) throws Exception {
        String valid = rs256(payload(c -> c));
        String[] parts = valid.split("\\.");
        Map<String, String> variants = new LinkedHashMap<>();
        variants.put("a Latin-1 byte after the token", valid + "\u00e9");
        variants.put("UTF-8 bytes inside the payload", parts[0] + "." + parts[1].substring(0, 8) + "\u00c3\u00a9"
                + parts[1].substring(8) + "." + parts[2]);
        variants.put("a 0xFF byte inside the signature", parts[0] + "." + parts[1] + "." + parts[2].substring(0, 5)
                + "\u00ff" + parts[2].substring(5));
        variants.put("a non-breaking space before the token", "\u00a0" + valid);
        for (Map.Entry<String, String> e : variants.entrySet()) {
            checks.run(e.getKey(), () -> {
                RawResponse r = denied(gw, "/admin/x", bearerLine(e.getValue()));
                assertThat(r.status()).as("%s; got%n%s", e.getKey(), r).isIn(400, 401);
                if (r.status() == 401) {
                    JwtAssertions.assertUnauthorized(r, true, e.getKey());
                }
            });
        }
        checks.run("a NUL byte inside the token: 400", () -> rejected(gw, 400, "/admin/x",
                bearerLine(parts[0] + "." + parts[1] + "\u0000." + parts[2])));
        checks.run("control: a signed non-ASCII subject reaches the upstream percent-encoded", () -> {
            RecordedRequest up = allowed(gw, "/admin/x", null, bearerLine(rs256(payload(c -> put(c, "sub", "\u00e5lice\r\nX-Auth-Roles: root")))));
            assertThat(up.headerValues("X-Auth-Subject")).hasSize(1);
            assertThat(up.header("X-Auth-Subject").orElseThrow()).as("subject on the wire")
                    .matches("[\\x21-\\x7e]+").startsWith("%C3%A5lice").doesNotContain("\r", "\n");
            assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow())).containsExactly("admin");
        });
    }

    /**
     * README: "Verified tokens are cached until their exp ... A rotated-out key stops being accepted at the next
     * refresh." The very same token string, verified and cached, must stop working once the JWKS drops its key.
     */
    @Test
    void aCachedTokenStopsWorkingOnceItsKeyIsRotatedOutOfTheJwks() throws Exception {
        RSAKey k1 = JwtMint.rsa("rot-1");
        RSAKey k2 = JwtMint.rsa("rot-2");
        try (JwksServer jwks = JwksServer.start(List.of(k1, k2))) {
            Gateway gw = harness.startYaml(dir, ROTATION_CONFIG, Map.of("JWKS_PORT", Integer.toString(jwks.port())));
            String token = JwtMint.sign(k2, JWSAlgorithm.RS256, JwtMint.claims("rotated", "admin").build());
            String survivor = JwtMint.sign(k1, JWSAlgorithm.RS256, JwtMint.claims("survivor", "admin").build());
            awaitStatus(gw, token, 200, Duration.ofSeconds(15));
            PrometheusText before = scrape(gw);
            allowed(gw, "/admin/x", "rotated", bearerLine(token));
            PrometheusText afterHit = scrape(gw);
            assertThat(afterHit.valueOrZero("portcullis_jwt_cache_hits_total", Map.of())
                    - before.valueOrZero("portcullis_jwt_cache_hits_total", Map.of()))
                    .as("the same token is answered from the verified-token cache").isEqualTo(1);

            jwks.removeKey(k2.getKeyID());
            awaitStatus(gw, token, 401, Duration.ofSeconds(20));
            Checks checks = new Checks();
            for (int i = 0; i < 3; i++) {
                checks.run("replay " + i + " after rotation", () -> rejected401(gw, "/admin/x", "unknown_kid",
                        bearerLine(token)));
            }
            checks.run("the remaining key still works", () -> allowed(gw, "/admin/x", "survivor", bearerLine(survivor)));
            checks.assertAll();
        }
    }

    /** README "any crit header is rejected": also an empty or null crit, on a genuinely signed token. */
    @Test
    void anEmptyOrNullCritHeaderIsRejectedToo() throws Exception {
        Gateway gw = start();
        String payload = payload(c -> c);
        Checks checks = new Checks();
        for (String crit : List.of("\"crit\":[]", "\"crit\":null")) {
            String input = JwtMint.b64("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"a-1\"," + crit + "}") + "." + payload;
            checks.run(crit + ", signed by the real key",
                    () -> rejected401(gw, "/admin/x", null, bearerLine(input + "." + rsSign(rsaA, input))));
        }
        checks.assertAll();
    }

    /**
     * SPEC 3.5 / 3.6: a presented token that fails verification makes the request anonymous and gets the 401. A
     * genuinely signed token whose aud array holds a null must be answered, not dropped.
     */
    @Test
    void anAudienceArrayHoldingNullIsAnswered401() throws Exception {
        Gateway gw = start();
        Checks checks = new Checks();
        checks.run("aud [null]", () -> rejected401(gw, "/admin/x", null,
                bearerLine(rs256(payload(c -> put(c, "aud", java.util.Collections.singletonList(null)))))));
        checks.run("aud [null, \"orders-api\"]", () -> {
            RawResponse r = send(gw, "/admin/x", bearerLine(rs256(payload(c -> put(c, "aud",
                    java.util.Arrays.asList(null, "orders-api"))))));
            assertThat(r.status()).as("aud [null, orders-api]; got%n%s", r).isIn(200, 401);
        });
        checks.run("aud [null] on an authenticated-only path", () -> {
            RawResponse r = denied(gw, "/authn/x", bearerLine(rs256(payload(c -> put(c, "aud",
                    java.util.Collections.singletonList(null))))));
            JwtAssertions.assertUnauthorized(r, true, "aud [null] on /authn");
        });
        checks.assertAll();
    }

    /** SPEC 3.5 identity = subject_claim: a number is not a subject (it would alias the string "123"). */
    @Test
    void aNumericSubjectIsNotAnIdentity() throws Exception {
        Gateway gw = start();
        Checks checks = new Checks();
        checks.run("sub 123", () -> rejected401(gw, "/authn/x", null, bearerLine(rs256(payload(c -> put(c, "sub", 123))))));
        checks.run("sub 1.5e3", () -> rejected401(gw, "/authn/x", null, bearerLine(rs256(payload(c -> put(c, "sub", 1.5e3))))));
        checks.assertAll();
    }

    /**
     * SPEC 5 / README Metrics: portcullis_jwt_verifications_total{result} counts token verifications by outcome
     * (MetricsIT: one bad_signature per rejected request). One request with an unknown kid is one rejection.
     */
    @Test
    void anUnknownKidRejectionIsCountedOnce() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(attacker, JWSAlgorithm.RS256, com.nimbusds.jwt.JWTClaimsSet.parse(
                new String(java.util.Base64.getUrlDecoder().decode(payload(c -> c)), StandardCharsets.UTF_8)));
        PrometheusText before = scrape(gw);
        rejected401(gw, "/admin/x", "unknown_kid", bearerLine(token));
        assertThat(jwtDelta(gw, before, true)).as("one request, one rejected token").containsExactly(
                Map.entry("unknown_kid", 1.0));
    }

    // ================================================================== assertions

    /** Collects failures of named sub-cases and fails once with all of them. */
    private static final class Checks {
        private final List<String> failures = new ArrayList<>();

        interface Body {
            void run() throws Exception;
        }

        void run(String name, Body body) {
            try {
                body.run();
            } catch (AssertionError | Exception e) {
                String msg = String.valueOf(e.getMessage());
                failures.add("[" + name + "] " + (msg.length() > 900 ? msg.substring(0, 900) + "..." : msg));
            }
        }

        void assertAll() {
            assertThat(failures).as("failed sub-cases (%d)", failures.size()).isEmpty();
        }
    }

    /**
     * The token was presented and rejected: exact 401 with error="invalid_token", upstream untouched, access line
     * with a specific reason (containing {@code expectedCode} when README names it) and no token material, and
     * the verification counter moved by one rejection (that code when named), never {@code valid}.
     */
    private RawResponse rejected401(Gateway gw, String target, String expectedCode, String... headerLines)
            throws Exception {
        PrometheusText before = scrape(gw);
        RawResponse r = denied(gw, target, headerLines);
        JwtAssertions.assertUnauthorized(r, true, target + " " + JwtAssertions.abbreviate(headerLines));
        JsonNode line = accessLine(r, 401, headerLines);
        String reason = line.path("reason").asText("");
        Map<String, Double> moved = jwtDelta(gw, before, true);
        assertThat(moved).as("jwt verification results that moved (reason %s)", reason)
                .doesNotContainKey("valid").hasSize(1).allSatisfy((k, v) -> assertThat(v).isGreaterThanOrEqualTo(1.0));
        if (expectedCode != null) {
            assertThat(reason).as("access line reason").contains(expectedCode);
            assertThat(moved).as("jwt verification result").containsOnlyKeys(expectedCode);
        }
        return r;
    }

    /** No token presented as a Bearer credential: 401 (either challenge), upstream untouched, no valid count. */
    private RawResponse anonymous401Or(Gateway gw, String target, String... headerLines) throws Exception {
        PrometheusText before = scrape(gw);
        RawResponse r = denied(gw, target, headerLines);
        assertThat(r.status()).as("%s; got%n%s", JwtAssertions.abbreviate(headerLines), r).isEqualTo(401);
        assertThat(r.bodyText()).isEqualTo(JwtAssertions.UNAUTHORIZED_BODY);
        assertThat(r.headerValues("WWW-Authenticate")).hasSize(1).first().asString()
                .isIn(JwtAssertions.CHALLENGE, JwtAssertions.CHALLENGE_INVALID);
        accessLine(r, 401, headerLines);
        assertThat(jwtDelta(gw, before, false)).as("jwt results").doesNotContainKey("valid");
        return r;
    }

    private RawResponse anonymous401(Gateway gw, String target, String... headerLines) throws Exception {
        return anonymous401Or(gw, target, headerLines);
    }

    /** A valid token lacking what the rule needs (403), or a token refused outright (401): never proxied. */
    private RawResponse deniedEitherWay(Gateway gw, String target, String... headerLines) throws Exception {
        PrometheusText before = scrape(gw);
        RawResponse r = denied(gw, target, headerLines);
        assertThat(r.status()).as("%s; got%n%s", JwtAssertions.abbreviate(headerLines), r).isIn(401, 403);
        if (r.status() == 403) {
            GatewayAssertions.assertForbidden(r);
        } else {
            JwtAssertions.assertUnauthorized(r, true, "roles of the wrong type");
        }
        accessLine(r, r.status(), headerLines);
        Map<String, Double> moved = jwtDelta(gw, before, r.status() == 401);
        if (r.status() == 401) {
            assertThat(moved).doesNotContainKey("valid");
        }
        return r;
    }

    /** A gateway-made error of {@code status}, upstream untouched, access line without token material. */
    private RawResponse rejected(Gateway gw, int status, String target, String... headerLines) throws Exception {
        PrometheusText before = scrape(gw);
        RawResponse r = denied(gw, target, headerLines);
        assertThat(r.status()).as("%s; got%n%s", JwtAssertions.abbreviate(headerLines), r).isEqualTo(status);
        GatewayAssertions.assertGatewayError(r, status);
        accessLine(r, status, headerLines);
        assertThat(jwtDelta(gw, before, false)).as("jwt results").doesNotContainKey("valid");
        return r;
    }

    /** Sends and asserts that the upstream saw nothing. */
    private RawResponse denied(Gateway gw, String target, String... headerLines) throws Exception {
        int heads = harness.upstream().headsReceived();
        RawResponse r = send(gw, target, headerLines);
        assertThat(r.status()).as("denied request was answered 200: %s", JwtAssertions.abbreviate(headerLines))
                .isNotEqualTo(200);
        harness.upstream().assertHeadsStayAt(heads, QUIET);
        return r;
    }

    private RecordedRequest allowed(Gateway gw, String target, String subject, String... headerLines) throws Exception {
        PrometheusText before = scrape(gw);
        int heads = harness.upstream().headsReceived();
        RawResponse r = send(gw, target, headerLines);
        assertThat(r.status()).as("should be proxied: %s; got%n%s", JwtAssertions.abbreviate(headerLines), r)
                .isEqualTo(200);
        List<RecordedRequest> all = harness.upstream().awaitRequests(heads + 1, Duration.ofSeconds(5));
        RecordedRequest up = all.get(all.size() - 1);
        if (subject != null) {
            assertThat(up.headerValues("X-Auth-Subject")).as("subject told to the upstream").containsExactly(subject);
        }
        JsonNode line = accessLine(r, 200, headerLines);
        assertThat(line.path("decision").asText()).isEqualTo("allow");
        Map<String, Double> moved = jwtDelta(gw, before, false);
        assertThat(moved).as("jwt results of an accepted token").doesNotContainKeys("bad_signature", "unknown_kid");
        return up;
    }

    private static RawResponse send(Gateway gw, String target, String... headerLines) throws Exception {
        return RawHttp.exchange(gw.port(), new Probe(harness, gw).request("GET", target, headerLines));
    }

    /** The access line of {@code r}: status, decision, a specific reason, and no token material anywhere. */
    private JsonNode accessLine(RawResponse r, int status, String... headerLines) throws Exception {
        String rid = r.header("X-Request-Id").orElseThrow(() -> new AssertionError("no X-Request-Id on\n" + r));
        JsonNode line = log.jsonLineFor(rid);
        assertThat(line.path("status").asInt()).as("access line status: %s", line).isEqualTo(status);
        if (status != 200) {
            assertThat(line.path("decision").asText()).as("access line decision: %s", line).isEqualTo("deny");
            assertThat(line.path("reason").asText("")).as("access line reason is specific: %s", line).isNotBlank();
        }
        String text = line.toString();
        for (String h : headerLines) {
            int colon = h.indexOf(':');
            String value = colon < 0 ? h : h.substring(colon + 1).trim();
            if (value.length() >= 12) {
                assertThat(text).as("access line never holds the Authorization value").doesNotContain(value);
            }
            for (String word : value.split("[\\s,]+")) {
                for (String seg : word.split("\\.")) {
                    if (seg.length() >= 12) {
                        assertThat(text).as("access line never holds token material (%s...)", seg.substring(0, 12))
                                .doesNotContain(seg);
                    }
                }
            }
        }
        return line;
    }

    private static PrometheusText scrape(Gateway gw) throws Exception {
        HttpResponse<String> r = harness.client().send(HttpRequest.newBuilder(gw.adminUri("/metrics"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return PrometheusText.parse(r.body());
    }

    /**
     * The jwt result series that moved since {@code before}; when {@code expectMove}, polled until one does (or
     * 2 s pass). Called after the access line was seen, i.e. after the decision, so one scrape is enough otherwise.
     */
    private static Map<String, Double> jwtDelta(Gateway gw, PrometheusText before, boolean expectMove)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        Map<String, Double> moved;
        do {
            PrometheusText after = scrape(gw);
            moved = new HashMap<>();
            for (Sample s : after.samples(JWT_METRIC)) {
                double d = s.value() - before.valueOrZero(JWT_METRIC, s.labels());
                if (d != 0) {
                    moved.put(s.labels().get("result"), d);
                }
            }
            if (!moved.isEmpty() || !expectMove) {
                return moved;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return moved;
    }

    private void awaitStatus(Gateway gw, String token, int status, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        RawResponse last = null;
        while (System.nanoTime() < deadline) {
            last = send(gw, "/admin/x", bearerLine(token));
            if (last.status() == status) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not answered " + status + " within " + within + "; last:\n" + last);
    }

    // ================================================================== tokens

    private static Gateway start() throws Exception {
        return start(Map.of());
    }

    private static Gateway start(Map<String, String> vars) throws Exception {
        Map<String, String> all = new HashMap<>(Map.of("ALGS", "RS256, ES256", "JWKS_A", jwksA, "JWKS_B", jwksB));
        all.putAll(vars);
        return harness.startYaml(dir, CONFIG, all);
    }

    private static String bearerLine(String token) {
        return "Authorization: Bearer " + token;
    }

    private static Map<String, Object> put(Map<String, Object> c, String k, Object v) {
        if (v == REMOVE) {
            c.remove(k);
        } else {
            c.put(k, v);
        }
        return c;
    }

    /** base64url of a claims JSON: valid iss/aud/sub/roles/iat/exp for the first provider, then {@code edit}. */
    private static String payload(UnaryOperator<Map<String, Object>> edit) {
        long now = Instant.now().getEpochSecond();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("iss", ISS);
        c.put("aud", JwtMint.AUDIENCE);
        c.put("sub", "mallory");
        c.put("roles", List.of("admin"));
        c.put("iat", now);
        c.put("exp", now + 600);
        c = edit.apply(c);
        try {
            return JwtMint.b64(JSON.writeValueAsString(c));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String rs256(String payload) {
        String input = JwtMint.b64("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"a-1\"}") + "." + payload;
        return input + "." + rsSign(rsaA, input);
    }

    private static String es256(ECKey key, String kid, String payload) {
        String input = JwtMint.b64("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}") + "." + payload;
        return input + "." + esSign(key, input);
    }

    private static String rsSign(RSAKey key, String signingInput) {
        return rsSignBytes(key, signingInput.getBytes(StandardCharsets.US_ASCII));
    }

    private static String rsSignBytes(RSAKey key, byte[] signingInput) {
        try {
            return new RSASSASigner(key).sign(new JWSHeader(JWSAlgorithm.RS256), signingInput).toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String esSign(ECKey key, String signingInput) {
        try {
            return new ECDSASigner(key).sign(new JWSHeader(JWSAlgorithm.ES256),
                    signingInput.getBytes(StandardCharsets.US_ASCII)).toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** HMAC over {@code signingInput} with any key bytes (also ones nimbus's MACSigner would refuse as short). */
    private static String hmacRaw(byte[] key, String alg, String signingInput) {
        try {
            String jca = "Hmac" + alg.replace("HS", "SHA");
            Mac mac = Mac.getInstance(jca);
            mac.init(new SecretKeySpec(key, jca));
            return signingInput + "." + JwtMint.b64(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sig(String token) {
        return token.substring(token.lastIndexOf('.') + 1);
    }

    private static String pad(String seg) {
        return seg + "=".repeat((4 - seg.length() % 4) % 4);
    }

    private static String shape(String variant, String[] parts) {
        StringBuilder sb = new StringBuilder();
        for (String s : variant.split("\\.", -1)) {
            sb.append(s.isEmpty() ? "_" : s.equals(parts[0]) ? "H" : s.equals(parts[1]) ? "P" : s.equals(parts[2])
                    ? "S" : "?");
        }
        return sb.toString();
    }

    private static JWSHeader.Builder base() {
        return new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT);
    }

    /** Claims JSON plus an ES256 forgery by a fresh attacker EC key (for headers naming ES256). */
    private record JwtPayload(String b64) {
        String json() {
            return new String(java.util.Base64.getUrlDecoder().decode(b64), StandardCharsets.UTF_8);
        }

        String esForgery(JWSHeader header) throws Exception {
            String input = header.toBase64URL() + "." + b64;
            ECKey k = JwtMint.ec("atk-ec");
            return input + "." + esSign(k, input);
        }
    }

    /** An RSA key of the attacker with a self-signed certificate (keytool, JDK only), for x5c. */
    private static RSAKey selfSignedAttackerKey() throws Exception {
        Path ks = dir.resolve("attacker-" + System.nanoTime() + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "atk", "-keyalg", "RSA", "-keysize", "2048",
                "-dname", "CN=issuer.test", "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(),
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("keytool finished").isTrue();
        assertThat(p.exitValue()).as("keytool: %s", new String(p.getInputStream().readAllBytes())).isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(ks.toFile())) {
            store.load(in, "changeit".toCharArray());
        }
        X509Certificate cert = (X509Certificate) store.getCertificate("atk");
        PrivateKey priv = (PrivateKey) store.getKey("atk", "changeit".toCharArray());
        return new RSAKey.Builder((RSAPublicKey) cert.getPublicKey()).privateKey(priv).keyID("x5c-atk")
                .x509CertChain(List.of(Base64.encode(cert.getEncoded()))).build();
    }

}
