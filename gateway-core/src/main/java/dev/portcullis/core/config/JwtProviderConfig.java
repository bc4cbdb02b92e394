package dev.portcullis.core.config;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One {@code identity.jwt} provider as written (SPEC 3, 3.5). Of the four key sources exactly one must be written.
 *
 * @param path where the provider was written, {@code identity.jwt} or {@code identity.jwt[i]}, for problems
 * @param issuer the required {@code iss}; null when not written
 * @param audience accepted {@code aud} values, written as one string or a list; empty when not written
 * @param algorithms the allow-list as written; null when not written (the key source's defaults apply)
 * @param jwksFile path of a JWK set file, relative to the config file's folder unless absolute
 * @param jwksUrl URL of a JWK set
 * @param publicKeyFile path of a PEM public key or certificate, relative to the config file's folder unless absolute
 * @param secretEnv name of the environment variable holding an HMAC secret
 * @param jwksRefresh background refresh interval of {@code jwks_url}; null when not written
 * @param subjectClaim dotted path of the subject claim
 * @param rolesClaim dotted path of the roles claim
 * @param clockSkew tolerance for {@code exp}, {@code nbf} and {@code iat}
 * @param requireExp whether a token without {@code exp} is rejected; true when not written
 * @param types the allow-list for the {@code typ} header as written; null when not written (no check)
 */
public record JwtProviderConfig(
        String path,
        @Nullable String issuer,
        List<String> audience,
        @Nullable List<String> algorithms,
        @Nullable String jwksFile,
        @Nullable String jwksUrl,
        @Nullable String publicKeyFile,
        @Nullable String secretEnv,
        @Nullable Duration jwksRefresh,
        String subjectClaim,
        String rolesClaim,
        Duration clockSkew,
        boolean requireExp,
        @Nullable List<String> types) {

    public JwtProviderConfig {
        audience = List.copyOf(audience);
        algorithms = algorithms == null ? null : List.copyOf(algorithms);
        types = types == null ? null : List.copyOf(types);
    }
}
