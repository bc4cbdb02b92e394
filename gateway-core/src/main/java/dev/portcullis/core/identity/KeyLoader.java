package dev.portcullis.core.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** Turns JWK sets, PEM public keys and HMAC secrets into {@link VerifyingKey}s: at load time, never per request. */
final class KeyLoader {

    /** RSA keys shorter than this are refused (NIST SP 800-131A; nimbus signs only with 2048+). */
    static final int MIN_RSA_BITS = 2048;

    private static final Set<JWSAlgorithm> RSA_ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384,
            JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);
    private static final Set<JWSAlgorithm> HMAC_ALGORITHMS =
            Set.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);
    private static final String EXPECTED_KEYS = "(expected: RSA of at least 2048 bits, EC P-256/P-384/P-521 or"
            + " Ed25519 public keys, with use \"sig\" or none, fitting the allowed algorithms)";

    /** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte key follows. */
    private static final int ED25519_SPKI_LENGTH = 44;

    /** DER AlgorithmIdentifier of rsaEncryption with NULL parameters, to wrap a PKCS#1 key into SPKI. */
    private static final byte[] RSA_ALGORITHM_IDENTIFIER = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
    };

    private KeyLoader() {}

    /** The problem with a key source's content; the caller adds which source it is. */
    static final class InvalidKeysException extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidKeysException(String message) {
            super(message);
        }
    }

    /**
     * The keys of a JWK set document.
     *
     * @param keys the usable keys (at least one)
     * @param skipped each unusable key and why, e.g. {@code RSA key "enc" is for use "enc"}
     */
    record JwksKeys(List<VerifyingKey> keys, List<String> skipped) {
        /** What the log says of the skipped keys: how many, each and why. */
        String skippedSummary() {
            return "skipped " + skipped.size() + " unusable key(s): " + String.join("; ", skipped);
        }
    }

    /** The usable keys of a JWK set document; unusable ones are skipped, and none usable is an error. */
    static List<VerifyingKey> fromJwks(String json, Set<JWSAlgorithm> allowed) throws InvalidKeysException {
        return readJwks(json, allowed).keys();
    }

    /** As {@link #fromJwks}, with the keys skipped and why, for the log. */
    static JwksKeys readJwks(String json, Set<JWSAlgorithm> allowed) throws InvalidKeysException {
        JWKSet set;
        try {
            set = JWKSet.parse(json);
        } catch (ParseException e) {
            throw new InvalidKeysException("is not a valid JWK set (expected: {\"keys\": [...]}): " + e.getMessage());
        }
        List<VerifyingKey> keys = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (JWK jwk : set.getKeys()) {
            try {
                keys.add(toVerifyingKey(jwk, allowed));
            } catch (InvalidKeysException e) {
                skipped.add(describe(jwk) + " " + e.getMessage());
            }
        }
        if (keys.isEmpty()) {
            throw new InvalidKeysException("has no usable signing key for " + names(allowed) + " " + EXPECTED_KEYS
                    + (skipped.isEmpty() ? "" : ": " + String.join("; ", skipped)));
        }
        return new JwksKeys(List.copyOf(keys), List.copyOf(skipped));
    }

    /** The key of a PEM file: SPKI {@code PUBLIC KEY}, PKCS#1 {@code RSA PUBLIC KEY}, or a {@code CERTIFICATE}. */
    static VerifyingKey fromPem(String pem, Set<JWSAlgorithm> allowed) throws InvalidKeysException {
        PublicKey key = parsePem(pem);
        JWK jwk;
        if (key instanceof RSAPublicKey rsa) {
            jwk = new RSAKey.Builder(rsa).build();
        } else if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (curve == null) {
                throw new InvalidKeysException(
                        "holds an EC key on an unsupported curve (expected: P-256, P-384 or P-521)");
            }
            jwk = new ECKey.Builder(curve, ec).build();
        } else if (key instanceof EdECPublicKey ed) {
            byte[] spki = ed.getEncoded();
            if (!"Ed25519".equalsIgnoreCase(ed.getParams().getName()) || spki.length != ED25519_SPKI_LENGTH) {
                throw new InvalidKeysException("holds an " + ed.getParams().getName() + " key (expected: Ed25519)");
            }
            byte[] raw = new byte[32];
            System.arraycopy(spki, ED25519_SPKI_LENGTH - 32, raw, 0, 32);
            jwk = new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(raw)).build();
        } else {
            throw new InvalidKeysException("holds a " + key.getAlgorithm() + " key (expected: RSA, EC or Ed25519)");
        }
        return toVerifyingKey(jwk, allowed);
    }

    /** The HMAC key for a secret, which must be long enough for every allowed HS algorithm (RFC 7518 3.2). */
    static VerifyingKey fromSecret(byte[] secret, Set<SigningAlgorithm> allowed) throws InvalidKeysException {
        Set<JWSAlgorithm> algorithms = new HashSet<>();
        for (SigningAlgorithm algorithm : allowed) {
            if (secret.length < algorithm.minSecretBytes()) {
                throw new InvalidKeysException("holds " + secret.length + " bytes (expected: at least "
                        + algorithm.minSecretBytes() + " bytes for " + algorithm + ")");
            }
            algorithms.add(algorithm.jws());
        }
        try {
            return new VerifyingKey(null, algorithms, new MACVerifier(secret), "secret");
        } catch (JOSEException e) {
            throw new InvalidKeysException("is not a usable HMAC secret: " + e.getMessage());
        }
    }

    static VerifyingKey toVerifyingKey(JWK jwk, Set<JWSAlgorithm> allowed) throws InvalidKeysException {
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
            throw new InvalidKeysException("is for use \"" + jwk.getKeyUse().identifier() + "\"");
        }
        if (jwk.getKeyOperations() != null && !jwk.getKeyOperations().contains(KeyOperation.VERIFY)) {
            throw new InvalidKeysException("has key_ops without \"verify\"");
        }
        Set<JWSAlgorithm> family;
        JWSVerifier verifier;
        try {
            if (jwk instanceof RSAKey rsa) {
                if (rsa.size() < MIN_RSA_BITS) {
                    throw new InvalidKeysException("has " + rsa.size() + " bits");
                }
                family = RSA_ALGORITHMS;
                verifier = new RSASSAVerifier(rsa.toPublicJWK());
            } else if (jwk instanceof ECKey ec) {
                JWSAlgorithm algorithm = ecAlgorithm(ec.getCurve());
                if (algorithm == null) {
                    throw new InvalidKeysException("is on curve " + ec.getCurve());
                }
                family = Set.of(algorithm);
                verifier = new ECDSAVerifier(ec.toPublicJWK());
            } else if (jwk instanceof OctetKeyPair okp) {
                if (!Curve.Ed25519.equals(okp.getCurve())) {
                    throw new InvalidKeysException("is on curve " + okp.getCurve());
                }
                family = Set.of(JWSAlgorithm.EdDSA);
                verifier = new Ed25519Verifier(okp.toPublicJWK());
            } else {
                // Symmetric keys never come from a JWK set: HS algorithms are only allowed with secret_env,
                // so a published key can never be used as an HMAC secret (key confusion).
                throw new InvalidKeysException("is of type " + jwk.getKeyType());
            }
        } catch (JOSEException e) {
            throw new InvalidKeysException("cannot verify: " + e.getMessage());
        }
        Set<JWSAlgorithm> algorithms = new HashSet<>(family);
        algorithms.retainAll(allowed);
        algorithms.removeAll(HMAC_ALGORITHMS);
        if (jwk.getAlgorithm() != null) {
            algorithms.retainAll(Set.of(JWSAlgorithm.parse(jwk.getAlgorithm().getName())));
        }
        if (algorithms.isEmpty()) {
            throw new InvalidKeysException("fits none of the allowed algorithms " + names(allowed));
        }
        return new VerifyingKey(jwk.getKeyID(), algorithms, verifier, id(jwk, algorithms));
    }

    private static String id(JWK jwk, Set<JWSAlgorithm> algorithms) throws InvalidKeysException {
        try {
            return (jwk.getKeyID() == null ? "" : jwk.getKeyID()) + '|' + jwk.computeThumbprint() + '|'
                    + names(algorithms);
        } catch (JOSEException e) {
            throw new InvalidKeysException("has no thumbprint: " + e.getMessage());
        }
    }

    private static @Nullable JWSAlgorithm ecAlgorithm(Curve curve) {
        if (Curve.P_256.equals(curve)) {
            return JWSAlgorithm.ES256;
        }
        if (Curve.P_384.equals(curve)) {
            return JWSAlgorithm.ES384;
        }
        if (Curve.P_521.equals(curve)) {
            return JWSAlgorithm.ES512;
        }
        return null;
    }

    private static PublicKey parsePem(String pem) throws InvalidKeysException {
        int begin = pem.indexOf("-----BEGIN ");
        if (begin < 0) {
            throw new InvalidKeysException("is not a PEM file (expected: -----BEGIN PUBLIC KEY----- ...)");
        }
        int labelEnd = pem.indexOf("-----", begin + 11);
        if (labelEnd < 0) {
            throw new InvalidKeysException("is not a valid PEM file (expected: -----BEGIN PUBLIC KEY----- ...)");
        }
        String label = pem.substring(begin + 11, labelEnd);
        String footer = "-----END " + label + "-----";
        int end = pem.indexOf(footer, labelEnd);
        if (end < 0) {
            throw new InvalidKeysException("has no \"" + footer + "\" line");
        }
        if (label.contains("PRIVATE KEY")) {
            throw new InvalidKeysException("holds a private key (expected: a public key or certificate; never give"
                    + " the gateway a signing key)");
        }
        byte[] der;
        try {
            der = Base64.getDecoder().decode(withoutWhitespace(pem.substring(labelEnd + 5, end)));
        } catch (IllegalArgumentException e) {
            throw new InvalidKeysException("has invalid base64 in its " + label + " block");
        }
        try {
            return switch (label) {
                case "PUBLIC KEY" -> spki(der);
                case "RSA PUBLIC KEY" -> KeyFactory.getInstance("RSA").generatePublic(
                        new X509EncodedKeySpec(wrapPkcs1(der)));
                case "CERTIFICATE" -> CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(der)).getPublicKey();
                default -> throw new InvalidKeysException("holds a \"" + label + "\" block (expected: PUBLIC KEY,"
                        + " RSA PUBLIC KEY or CERTIFICATE)");
            };
        } catch (GeneralSecurityException e) {
            throw new InvalidKeysException("holds a " + label + " block that is not a valid key (expected: the PEM of"
                    + " a public key or certificate)");
        }
    }

    /** The base64 body of a PEM block without its line breaks; the strict decoder then refuses anything else. */
    private static String withoutWhitespace(String body) {
        StringBuilder text = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
                text.append(c);
            }
        }
        return text.toString();
    }

    /** The key of a SubjectPublicKeyInfo, trying each supported key type (the JDK reads the OID for us). */
    private static PublicKey spki(byte[] der) throws GeneralSecurityException {
        try {
            return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException notRsa) {
            try {
                return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException notEc) {
                return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
            }
        }
    }

    /** SubjectPublicKeyInfo ::= SEQUENCE { rsaEncryption AlgorithmIdentifier, BIT STRING { 0 unused bits, key } }. */
    private static byte[] wrapPkcs1(byte[] pkcs1) {
        ByteArrayOutputStream bitString = new ByteArrayOutputStream();
        bitString.write(0x03);
        writeLength(bitString, pkcs1.length + 1);
        bitString.write(0x00);
        bitString.writeBytes(pkcs1);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(RSA_ALGORITHM_IDENTIFIER);
        body.writeBytes(bitString.toByteArray());
        ByteArrayOutputStream spki = new ByteArrayOutputStream();
        spki.write(0x30);
        writeLength(spki, body.size());
        spki.writeBytes(body.toByteArray());
        return spki.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
            return;
        }
        int bytes = length > 0xffffff ? 4 : length > 0xffff ? 3 : length > 0xff ? 2 : 1;
        out.write(0x80 | bytes);
        for (int i = bytes - 1; i >= 0; i--) {
            out.write(length >>> (8 * i));
        }
    }

    private static String describe(JWK jwk) {
        return jwk.getKeyType() + " key" + (jwk.getKeyID() == null ? "" : " \"" + jwk.getKeyID() + "\"");
    }

    static String names(Set<JWSAlgorithm> algorithms) {
        return algorithms.stream()
                .map(JWSAlgorithm::getName)
                .sorted(Comparator.naturalOrder())
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
