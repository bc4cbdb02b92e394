package dev.portcullis.core.identity;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jwt.JWTClaimsSet;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The checks one provider makes of a token whose signature it has verified (typ, exp and require_exp, nbf, iat,
 * aud), and the {@link Identity} it then makes of the token's subject and roles.
 */
final class TokenClaimsCheck {

    private static final String APPLICATION = "application/";

    private final Set<String> audiences;
    private final Duration clockSkew;
    private final ClaimPath subjectClaim;
    private final ClaimPath rolesClaim;
    private final boolean requireExp;
    /** The {@code typ} allow-list in lower case; empty skips the check. */
    private final Set<String> types;

    TokenClaimsCheck(JwtProviderSettings settings) {
        this.audiences = Set.copyOf(settings.audiences());
        this.clockSkew = settings.clockSkew();
        this.subjectClaim = ClaimPath.compile(settings.subjectClaim());
        this.rolesClaim = ClaimPath.compile(settings.rolesClaim());
        this.requireExp = settings.requireExp();
        Set<String> lower = new HashSet<>();
        for (String type : settings.types()) {
            String name = type.toLowerCase(Locale.ROOT);
            lower.add(name.startsWith(APPLICATION) ? name.substring(APPLICATION.length()) : name);
        }
        this.types = Set.copyOf(lower);
    }

    /**
     * The token's identity, or the first check it fails at {@code now}: {@code typ} (the header's, null when
     * absent), {@code exp}, {@code nbf}, {@code iat}, {@code aud}, then the subject.
     */
    Resolution check(@Nullable JOSEObjectType type, JWTClaimsSet claims, Instant now) {
        if (!acceptsType(type)) {
            return Resolution.Rejected.of(RejectReason.TOKEN_TYPE_NOT_ALLOWED);
        }
        Date exp = claims.getExpirationTime();
        if (exp == null && requireExp) {
            return Resolution.Rejected.of(RejectReason.TOKEN_MISSING_EXP);
        }
        Instant expiresAt = exp == null ? null : exp.toInstant();
        if (expiresAt != null && !now.isBefore(expiresAt.plus(clockSkew))) {
            return Resolution.Rejected.of(RejectReason.TOKEN_EXPIRED);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(clockSkew).isBefore(nbf.toInstant())) {
            return Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID);
        }
        Date iat = claims.getIssueTime();
        if (iat != null && now.plus(clockSkew).isBefore(iat.toInstant())) {
            return Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID);
        }
        if (!audiences.isEmpty() && !containsAny(claims.getAudience(), audiences)) {
            return Resolution.Rejected.of(RejectReason.AUDIENCE_MISMATCH);
        }
        Map<String, Object> claimMap = ClaimValues.immutableCopy(claims.getClaims());
        String subject = subject(subjectClaim.resolve(claimMap));
        if (subject == null) {
            return Resolution.Rejected.of(RejectReason.MISSING_SUBJECT);
        }
        Set<String> roles = ClaimValues.roles(rolesClaim.resolve(claimMap));
        return new Resolution.Resolved(new Identity(subject, roles, claimMap, IdentitySource.JWT, expiresAt));
    }

    /**
     * Whether the token's {@code typ} is allowed: compared case-insensitively, and, as RFC 7515 4.1.9 allows
     * {@code typ} to omit it, with a leading {@code application/} ignored ({@code application/at+jwt} is {@code at+jwt}).
     */
    private boolean acceptsType(@Nullable JOSEObjectType type) {
        if (types.isEmpty()) {
            return true;
        }
        if (type == null) {
            return false;
        }
        String name = type.getType().toLowerCase(Locale.ROOT);
        return types.contains(name.startsWith(APPLICATION) ? name.substring(APPLICATION.length()) : name);
    }

    private static boolean containsAny(List<String> audience, Set<String> accepted) {
        for (String value : audience) {
            if (value == null) {
                return false; // an aud array holding null is not a list of audiences: deny on doubt
            }
            if (accepted.contains(value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The subject named by a claim value: a string, or a whole number written without a fraction or exponent (a
     * numeric id); null for anything else, so that {@code 5.0}, {@code 1e2} or an id beyond 2^63 (read as the double
     * {@code 1.2345678901234567E19}) cannot merge distinct identities.
     */
    private static @Nullable String subject(@Nullable Object value) {
        boolean integer = value instanceof Long || value instanceof Integer || value instanceof BigInteger
                || value instanceof Short || value instanceof Byte;
        String text = value instanceof String || integer ? ClaimValues.scalarText(value) : null;
        return text == null || text.isBlank() ? null : text;
    }
}
