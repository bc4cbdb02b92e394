package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimNames;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The checks {@link JwtIdentityResolver} makes on a token as it is written, where nimbus's parsed objects hide what
 * the token said: a {@code crit} of any form, {@code alg: none}, and the JSON types of {@code sub} and {@code aud}.
 */
final class RawTokenChecks {
    private RawTokenChecks() {}

    /**
     * Why the provider refuses the token's header: an alg not in its allow-list, or a {@code crit} parameter in any
     * form (nimbus reads {@code "crit": []} and {@code null} as none, but a token that carries one was not made for
     * a verifier that understands no extension); null if it does not.
     */
    static @Nullable RejectReason headerRejected(JwtProvider provider, JWSHeader header, String token) {
        if (!provider.algorithms.contains(header.getAlgorithm())) {
            return RejectReason.ALGORITHM_NOT_ALLOWED;
        }
        Set<String> critical = header.getCriticalParams();
        if ((critical != null && !critical.isEmpty()) || !header.isBase64URLEncodePayload() || declares(token, "crit")) {
            return RejectReason.UNSUPPORTED_CRITICAL_HEADER;
        }
        return null;
    }

    /** True when the token's header (its first part) names {@code parameter}, whatever its value, or is unreadable. */
    static boolean declares(String token, String parameter) {
        Map<String, Object> header = rawHeader(token);
        return header == null || header.containsKey(parameter); // nimbus read it already: refusing costs nothing
    }

    /** The token's header (its first part) as JSON, as written; null when it is not readable as such. */
    static @Nullable Map<String, Object> rawHeader(String token) {
        try {
            return JSONObjectUtils.parse(new Base64URL(token.substring(0, token.indexOf('.'))).decodeToString());
        } catch (ParseException | RuntimeException e) {
            return null;
        }
    }

    /**
     * RFC 7519: {@code sub} is a string and {@code aud} a string or a list of strings, as the payload says them.
     * nimbus turns a numeric {@code sub} into its text (123 would alias "123") and the audience check would skip a
     * null after a match. Checked once the signature holds, so a forged token is still reported as such.
     */
    static boolean registeredClaimsAreStrings(SignedJWT jwt) {
        Map<String, Object> payload = jwt.getPayload().toJSONObject();
        Object sub = payload.get(JWTClaimNames.SUBJECT);
        if (sub != null && !(sub instanceof String)) {
            return false;
        }
        Object aud = payload.get(JWTClaimNames.AUDIENCE);
        if (aud instanceof List<?> audiences) {
            for (Object audience : audiences) {
                if (!(audience instanceof String)) {
                    return false;
                }
            }
            return true;
        }
        return aud == null || aud instanceof String;
    }

    /** True when the header names {@code alg: none} in any case, which nimbus refuses to parse as a JWS. */
    static boolean declaresNone(String token) {
        Map<String, Object> header = rawHeader(token);
        return header != null && header.get("alg") instanceof String alg && "none".equalsIgnoreCase(alg);
    }
}
