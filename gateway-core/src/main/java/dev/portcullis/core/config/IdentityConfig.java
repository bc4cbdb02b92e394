package dev.portcullis.core.config;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@code identity} section as written: who a request comes from (SPEC 3.5).
 *
 * @param jwt the bearer-token providers, in file order: none when {@code identity.jwt} is absent, one when it is a
 *     map, one per item when it is a list (unusable items are reported and left out; each provider knows its path)
 * @param forwarded the identity headers of an authenticating proxy; null when not written
 * @param upstreamHeaders the headers that tell the upstream the identity
 */
public record IdentityConfig(
        List<JwtProviderConfig> jwt, @Nullable ForwardedConfig forwarded, UpstreamHeadersConfig upstreamHeaders) {

    /** No {@code identity} section: no providers, no forwarded identity, the default upstream headers. */
    public static final IdentityConfig DEFAULT = new IdentityConfig(List.of(), null, UpstreamHeadersConfig.DEFAULT);

    public IdentityConfig {
        jwt = List.copyOf(jwt);
    }
}
