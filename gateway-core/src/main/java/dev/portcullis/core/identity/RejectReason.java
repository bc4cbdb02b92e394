package dev.portcullis.core.identity;

/**
 * Why a presented bearer token was not accepted, with a stable snake_case {@link #code()} for the
 * decision log and metrics (never for the client, which only sees {@code error="invalid_token"}).
 */
public enum RejectReason {
    /** The token is longer than {@link JwtIdentityResolver#MAX_TOKEN_LENGTH} characters; it was not parsed. */
    TOKEN_TOO_LARGE("token_too_large"),
    /** Not a JWS compact serialization: wrong number of parts, bad base64url, header or claims not a JSON object. */
    MALFORMED_TOKEN("malformed_token"),
    /** The header's {@code alg} is {@code none} or not in the provider's allow-list. */
    ALGORITHM_NOT_ALLOWED("algorithm_not_allowed"),
    /** The header lists {@code crit} parameters; the gateway understands none. */
    UNSUPPORTED_CRITICAL_HEADER("unsupported_critical_header"),
    /** No provider is configured for the token's {@code iss}. */
    ISSUER_MISMATCH("issuer_mismatch"),
    /** The provider has no keys yet: its JWKS URL has not answered since startup. */
    NO_KEY_SOURCE("no_key_source"),
    /** The token's {@code kid} is not in the provider's key set. */
    UNKNOWN_KID("unknown_kid"),
    /** The key set has no key of the type, curve or {@code alg} that the token's algorithm needs. */
    NO_SUITABLE_KEY("no_suitable_key"),
    /** The signature does not verify with any candidate key. */
    BAD_SIGNATURE("bad_signature"),
    /** The header's {@code typ} is absent or not in the provider's {@code types} allow-list. */
    TOKEN_TYPE_NOT_ALLOWED("token_type_not_allowed"),
    /** The token has no {@code exp} and the provider requires one ({@code require_exp}, the default). */
    TOKEN_MISSING_EXP("token_missing_exp"),
    /** {@code exp} is past, beyond the clock skew. */
    TOKEN_EXPIRED("token_expired"),
    /** {@code nbf}, or {@code iat}, is in the future beyond the clock skew. */
    TOKEN_NOT_YET_VALID("token_not_yet_valid"),
    /** The provider requires an audience and {@code aud} contains none of them. */
    AUDIENCE_MISMATCH("audience_mismatch"),
    /** The subject claim is absent, empty, or not a string or number. */
    MISSING_SUBJECT("missing_subject");

    private final String code;

    RejectReason(String code) {
        this.code = code;
    }

    /** The stable snake_case code. */
    public String code() {
        return code;
    }
}
