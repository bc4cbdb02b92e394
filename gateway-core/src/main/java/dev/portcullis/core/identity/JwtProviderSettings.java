package dev.portcullis.core.identity;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One compiled {@code identity.jwt} provider: what a token from it must satisfy and where its keys come from.
 *
 * @param issuer the required {@code iss}, which also selects this provider; null skips the check and
 *     makes this the provider for tokens whose {@code iss} no other provider names
 * @param audiences {@code aud} must contain one of them; empty skips the check
 * @param algorithms the allow-list; HMAC algorithms go with {@link KeySource.SecretEnv} and only with it
 * @param keySource the single key source
 * @param jwksRefresh how often a {@link KeySource.JwksUrl} is fetched again; ignored by other sources
 * @param subjectClaim dotted path of the subject claim
 * @param rolesClaim dotted path of the roles claim: an array of strings, or a space/comma separated string
 * @param clockSkew tolerance for {@code exp}, {@code nbf} and {@code iat}
 * @param requireExp whether a token without {@code exp} is rejected ({@code token_missing_exp})
 * @param types the allow-list for the header's {@code typ}, compared case-insensitively; empty skips the check
 */
public record JwtProviderSettings(
        @Nullable String issuer,
        List<String> audiences,
        Set<SigningAlgorithm> algorithms,
        KeySource keySource,
        Duration jwksRefresh,
        String subjectClaim,
        String rolesClaim,
        Duration clockSkew,
        boolean requireExp,
        Set<String> types) {

    /** {@code jwks_refresh} when the config names none. */
    public static final Duration DEFAULT_JWKS_REFRESH = Duration.ofMinutes(10);
    /** {@code clock_skew} when the config names none. */
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    /** {@code subject_claim} when the config names none. */
    public static final String DEFAULT_SUBJECT_CLAIM = "sub";
    /** {@code roles_claim} when the config names none. */
    public static final String DEFAULT_ROLES_CLAIM = "roles";

    /** Copies the collections and checks that the settings fit together. */
    public JwtProviderSettings {
        if (issuer != null && issuer.isEmpty()) {
            throw new IllegalArgumentException("\"\" is not a valid issuer (expected: the token's iss, or no issuer)");
        }
        audiences = List.copyOf(audiences);
        for (String audience : audiences) {
            if (audience.isEmpty()) {
                throw new IllegalArgumentException("\"\" is not a valid audience (expected: a non-empty string)");
            }
        }
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid algorithms list (expected: at least one algorithm)");
        }
        algorithms = Set.copyOf(EnumSet.copyOf(algorithms));
        boolean secret = keySource instanceof KeySource.SecretEnv;
        for (SigningAlgorithm algorithm : algorithms) {
            if (algorithm.isHmac() != secret) {
                throw new IllegalArgumentException("\"" + algorithm + "\" is not allowed with " + keySource.configKey()
                        + (secret ? " (expected: HS256, HS384 or HS512 with secret_env)"
                                : " (expected: HS256/HS384/HS512 only with secret_env; asymmetric algorithms with "
                                        + keySource.configKey() + ")"));
            }
        }
        if (jwksRefresh.isNegative() || jwksRefresh.isZero()) {
            throw new IllegalArgumentException("\"" + jwksRefresh + "\" is not a valid jwks_refresh (expected: > 0)");
        }
        if (clockSkew.isNegative()) {
            throw new IllegalArgumentException("\"" + clockSkew + "\" is not a valid clock_skew (expected: >= 0)");
        }
        ClaimPath.compile(subjectClaim);
        ClaimPath.compile(rolesClaim);
        types = Set.copyOf(types);
        for (String type : types) {
            if (type.isBlank()) {
                throw new IllegalArgumentException(
                        "\"" + type + "\" is not a valid type (expected: a typ header value, e.g. at+jwt or JWT)");
            }
        }
    }

    /** Settings that require {@code exp} and accept any {@code typ}, as an unwritten config does. */
    public JwtProviderSettings(@Nullable String issuer, List<String> audiences, Set<SigningAlgorithm> algorithms,
            KeySource keySource, Duration jwksRefresh, String subjectClaim, String rolesClaim, Duration clockSkew) {
        this(issuer, audiences, algorithms, keySource, jwksRefresh, subjectClaim, rolesClaim, clockSkew, true,
                Set.of());
    }

    /** A provider with the defaults: no audience check, {@link SigningAlgorithm#defaultsFor} the key source. */
    public static JwtProviderSettings of(@Nullable String issuer, KeySource keySource) {
        return new JwtProviderSettings(issuer, List.of(), SigningAlgorithm.defaultsFor(keySource), keySource,
                DEFAULT_JWKS_REFRESH, DEFAULT_SUBJECT_CLAIM, DEFAULT_ROLES_CLAIM, DEFAULT_CLOCK_SKEW);
    }

    /** A copy with these audiences. */
    public JwtProviderSettings withAudiences(List<String> newAudiences) {
        return new JwtProviderSettings(issuer, newAudiences, algorithms, keySource, jwksRefresh, subjectClaim,
                rolesClaim, clockSkew, requireExp, types);
    }

    /** A copy with this allow-list. */
    public JwtProviderSettings withAlgorithms(Set<SigningAlgorithm> newAlgorithms) {
        return new JwtProviderSettings(issuer, audiences, newAlgorithms, keySource, jwksRefresh, subjectClaim,
                rolesClaim, clockSkew, requireExp, types);
    }

    /** A copy with this refresh interval. */
    public JwtProviderSettings withJwksRefresh(Duration newJwksRefresh) {
        return new JwtProviderSettings(issuer, audiences, algorithms, keySource, newJwksRefresh, subjectClaim,
                rolesClaim, clockSkew, requireExp, types);
    }

    /** A copy with these claim paths. */
    public JwtProviderSettings withClaims(String newSubjectClaim, String newRolesClaim) {
        return new JwtProviderSettings(issuer, audiences, algorithms, keySource, jwksRefresh, newSubjectClaim,
                newRolesClaim, clockSkew, requireExp, types);
    }

    /** A copy that requires {@code exp} or not. */
    public JwtProviderSettings withRequireExp(boolean newRequireExp) {
        return new JwtProviderSettings(issuer, audiences, algorithms, keySource, jwksRefresh, subjectClaim,
                rolesClaim, clockSkew, newRequireExp, types);
    }

    /** A copy with this {@code typ} allow-list; empty skips the check. */
    public JwtProviderSettings withTypes(Set<String> newTypes) {
        return new JwtProviderSettings(issuer, audiences, algorithms, keySource, jwksRefresh, subjectClaim,
                rolesClaim, clockSkew, requireExp, newTypes);
    }

    /** A copy with this clock skew. */
    public JwtProviderSettings withClockSkew(Duration newClockSkew) {
        return new JwtProviderSettings(issuer, audiences, algorithms, keySource, jwksRefresh, subjectClaim,
                rolesClaim, newClockSkew, requireExp, types);
    }
}
