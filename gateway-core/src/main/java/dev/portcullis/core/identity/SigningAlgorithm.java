package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSAlgorithm;
import java.util.EnumSet;
import java.util.Set;

/** A JWS algorithm a provider may allow; {@code none} has no constant and is never accepted. */
public enum SigningAlgorithm {
    RS256(JWSAlgorithm.RS256),
    RS384(JWSAlgorithm.RS384),
    RS512(JWSAlgorithm.RS512),
    PS256(JWSAlgorithm.PS256),
    PS384(JWSAlgorithm.PS384),
    PS512(JWSAlgorithm.PS512),
    ES256(JWSAlgorithm.ES256),
    ES384(JWSAlgorithm.ES384),
    ES512(JWSAlgorithm.ES512),
    /** Ed25519 signatures (RFC 8037); Ed448 keys are not supported. */
    EdDSA(JWSAlgorithm.EdDSA),
    HS256(JWSAlgorithm.HS256),
    HS384(JWSAlgorithm.HS384),
    HS512(JWSAlgorithm.HS512);

    private static final String EXPECTED = " (expected: one of RS256, RS384, RS512, PS256, PS384, PS512, ES256,"
            + " ES384, ES512, EdDSA, HS256, HS384, HS512)";

    private final JWSAlgorithm jws;

    SigningAlgorithm(JWSAlgorithm jws) {
        this.jws = jws;
    }

    /**
     * The algorithm whose JWS name is {@code name}, matched exactly as RFC 7515 compares {@code alg}.
     *
     * @throws IllegalArgumentException for {@code none}, a wrong case, or an unknown name
     */
    public static SigningAlgorithm parse(String name) {
        for (SigningAlgorithm algorithm : values()) {
            if (algorithm.name().equals(name)) {
                return algorithm;
            }
        }
        if (name.equalsIgnoreCase("none")) {
            throw new IllegalArgumentException("\"" + name + "\" is never accepted as a JWT algorithm" + EXPECTED);
        }
        throw new IllegalArgumentException("\"" + name + "\" is not a valid JWT algorithm" + EXPECTED);
    }

    /**
     * The allow-list for a provider that names none: HS256 for {@code secret_env} (a shorter secret than
     * HS384/HS512 need is then enough), every asymmetric algorithm for the other key sources (each key
     * still verifies only the algorithms of its own type and curve).
     */
    public static Set<SigningAlgorithm> defaultsFor(KeySource keySource) {
        if (keySource instanceof KeySource.SecretEnv) {
            return Set.copyOf(EnumSet.of(HS256));
        }
        return Set.copyOf(EnumSet.complementOf(EnumSet.of(HS256, HS384, HS512)));
    }

    /** True for HS256, HS384 and HS512. */
    public boolean isHmac() {
        return this == HS256 || this == HS384 || this == HS512;
    }

    /** For an HMAC algorithm, the shortest secret it accepts (RFC 7518 3.2: at least the hash size); else 0. */
    public int minSecretBytes() {
        return switch (this) {
            case HS256 -> 32;
            case HS384 -> 48;
            case HS512 -> 64;
            default -> 0;
        };
    }

    JWSAlgorithm jws() {
        return jws;
    }
}
