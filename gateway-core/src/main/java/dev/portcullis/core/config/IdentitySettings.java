package dev.portcullis.core.config;

import dev.portcullis.core.identity.JwtProviderSettings;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The compiled {@code identity} section: how a request's identity is established and what the upstream is told
 * (SPEC 3.5). Key material is not loaded here: the identity package loads it when its resolver is built.
 *
 * @param jwtProviders the bearer-token providers, each with a distinct issuer when there are several; empty when
 *     bearer tokens are not verified (a presented one is then ignored, not rejected)
 * @param forwarded the identity headers of a trusted authenticating proxy; null when not configured
 * @param upstreamHeaders the headers removed from every inbound request and set from the identity
 */
public record IdentitySettings(
        List<JwtProviderSettings> jwtProviders,
        @Nullable ForwardedIdentity forwarded,
        UpstreamIdentityHeaders upstreamHeaders) {

    /** No {@code identity} section: no providers, no forwarded identity, the default upstream headers. */
    public static final IdentitySettings NONE = new IdentitySettings(List.of(), null, UpstreamIdentityHeaders.DEFAULT);

    /** Copies the provider list. */
    public IdentitySettings {
        jwtProviders = List.copyOf(jwtProviders);
        Objects.requireNonNull(upstreamHeaders, "upstreamHeaders");
    }
}
