package dev.portcullis.server.it.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * Test-side JWT minting with nimbus-jose-jwt: keys, well-formed signed tokens, and hand-assembled hostile
 * tokens (alg none, forged signatures, embedded keys). Knows nothing about the gateway's implementation.
 */
public final class JwtMint {

    /** The issuer the identity scenarios expect. */
    public static final String ISSUER = "https://issuer.test/";
    /** The audience the identity scenarios expect. */
    public static final String AUDIENCE = "orders-api";

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private JwtMint() {}

    // ---------------------------------------------------------------- keys

    public static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static OctetKeyPair ed25519(String kid) {
        try {
            return new OctetKeyPairGenerator(Curve.Ed25519).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public JWKS document for {@code keys} (private parts never included). */
    public static String jwksJson(List<? extends JWK> keys) {
        return new JWKSet(new ArrayList<JWK>(keys)).toString(true);
    }

    /** Writes the public JWKS for {@code keys} to {@code file} and returns its absolute path as a string. */
    public static String writeJwks(Path file, List<? extends JWK> keys) throws Exception {
        Files.writeString(file, jwksJson(keys), StandardCharsets.UTF_8);
        return file.toAbsolutePath().toString();
    }

    /** The X.509 SubjectPublicKeyInfo PEM of an RSA public key. */
    public static String pem(RSAKey key) throws JOSEException {
        byte[] der = key.toRSAPublicKey().getEncoded();
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
    }

    /** The DER (SubjectPublicKeyInfo) bytes of an RSA public key. */
    public static byte[] der(RSAKey key) throws JOSEException {
        return key.toRSAPublicKey().getEncoded();
    }

    // ---------------------------------------------------------------- claims

    /** Claims accepted by the scenarios: right iss/aud, iat now, exp in 10 minutes. */
    public static JWTClaimsSet.Builder claims(String subject) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .subject(subject)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(10))));
    }

    /** {@link #claims} with a "roles" array. */
    public static JWTClaimsSet.Builder claims(String subject, String... roles) {
        return claims(subject).claim("roles", List.of(roles));
    }

    // ---------------------------------------------------------------- signing

    /** Signs with {@code key} and {@code alg}; the header carries the key's kid (if any) and typ JWT. */
    public static String sign(JWK key, JWSAlgorithm alg, JWTClaimsSet claims) {
        JWSHeader.Builder h = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT);
        if (key.getKeyID() != null) {
            h.keyID(key.getKeyID());
        }
        return sign(key, h.build(), claims);
    }

    /** Signs {@code claims} under {@code header} with {@code key}. */
    public static String sign(JWK key, JWSHeader header, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(signer(key));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** HS256 (or other HMAC) token signed with raw {@code secret} bytes, header with optional kid. */
    public static String hmac(byte[] secret, JWSAlgorithm alg, String kid, JWTClaimsSet claims) {
        try {
            JWSHeader.Builder h = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT);
            if (kid != null) {
                h.keyID(kid);
            }
            SignedJWT jwt = new SignedJWT(h.build(), claims);
            jwt.sign(new MACSigner(secret));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSSigner signer(JWK key) throws JOSEException {
        if (key instanceof RSAKey r) {
            return new RSASSASigner(r);
        }
        if (key instanceof ECKey e) {
            return new ECDSASigner(e);
        }
        if (key instanceof OctetKeyPair o) {
            return new Ed25519Signer(o);
        }
        throw new IllegalArgumentException("no signer for " + key.getKeyType());
    }

    // ---------------------------------------------------------------- hand-made tokens

    public static String b64(String text) {
        return B64URL.encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    public static String b64(byte[] bytes) {
        return B64URL.encodeToString(bytes);
    }

    /** header.payload.signature from raw JSON texts and signature bytes. */
    public static String raw(String headerJson, String payloadJson, byte[] signature) {
        return b64(headerJson) + "." + b64(payloadJson) + "." + b64(signature);
    }

    /** The JSON text of {@code claims}. */
    public static String json(JWTClaimsSet claims) {
        return claims.toString();
    }

    /** {@code token} with one character in the middle of its signature changed. */
    public static String tamperSignature(String token) {
        int dot = token.lastIndexOf('.');
        int i = dot + 1 + (token.length() - dot - 1) / 2;
        char c = token.charAt(i);
        char repl = c == 'A' ? 'B' : 'A';
        return token.substring(0, i) + repl + token.substring(i + 1);
    }

    /** {@code token} with its payload replaced (original header and signature kept). */
    public static String swapPayload(String token, JWTClaimsSet claims) {
        String[] parts = token.split("\\.", -1);
        return parts[0] + "." + b64(json(claims)) + "." + parts[2];
    }

    /** The "Authorization: Bearer ..." header line for {@code token}. */
    public static String bearer(String token) {
        return "Authorization: Bearer " + token;
    }
}
