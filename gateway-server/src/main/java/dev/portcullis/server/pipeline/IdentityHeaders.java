package dev.portcullis.server.pipeline;

import dev.portcullis.server.http.HeaderTokens;
import dev.portcullis.core.config.ForwardedIdentity;
import dev.portcullis.core.config.IdentitySettings;
import dev.portcullis.core.config.UpstreamIdentityHeaders;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.identity.Resolution;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Identity in headers (SPEC 3.5): who a request is, from its token or a trusted proxy, and what the upstream is told. */
final class IdentityHeaders {
    private IdentityHeaders() {}

    /**
     * SPEC 3.5: a verified bearer token wins; failing that, the forwarded user is believed when {@code identityPeer}
     * (the TCP peer is in {@code identity.forwarded.trusted_proxies});
     * a presented token that failed verification makes the request anonymous whatever else it carries.
     */
    static Identity identityOf(
            Resolution resolution, IdentitySettings settings, HttpHeaders headers, boolean identityPeer) {
        if (resolution instanceof Resolution.Resolved resolved) {
            return resolved.identity();
        }
        if (resolution instanceof Resolution.Rejected) {
            return Identity.ANONYMOUS;
        }
        ForwardedIdentity forwarded = settings.forwarded();
        if (forwarded != null && identityPeer) {
            String user = headers.get(forwarded.userHeader());
            if (user != null && !user.isBlank()) {
                String roles = forwarded.rolesHeader() == null ? null : headers.get(forwarded.rolesHeader());
                return new Identity(user.trim(), splitRoles(roles), Map.of(), IdentitySource.FORWARDED, null);
            }
        }
        return Identity.ANONYMOUS;
    }

    private static Set<String> splitRoles(@Nullable String roles) {
        if (roles == null || roles.isBlank()) {
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        HeaderTokens.forEach(roles, out::add);
        return out;
    }

    /**
     * What the upstream is told of the identity; client-sent copies were stripped before the policy ran.
     * Values are percent-encoded where they are not plain visible ASCII (and each role's commas), so
     * distinct subjects and role lists stay distinct and nothing can be injected into the header block.
     * A trusted proxy's forwarded-identity headers go on only when they are what the identity came from.
     */
    static void setForUpstream(HttpHeaders headers, Identity identity, IdentitySettings settings) {
        ForwardedIdentity forwarded = settings.forwarded();
        if (forwarded != null && identity.source() != IdentitySource.FORWARDED) {
            ForwardedHeaderSanitizer.sanitize(headers, true, forwardedHeaders(forwarded));
        }
        if (identity.isAnonymous()) {
            return;
        }
        UpstreamIdentityHeaders names = settings.upstreamHeaders();
        headers.set(names.subject(), HeaderTokens.encodeValue(identity.subject(), ' '));
        if (!identity.roles().isEmpty()) {
            StringBuilder roles = new StringBuilder();
            for (String role : identity.roles()) {
                if (roles.length() > 0) {
                    roles.append(',');
                }
                roles.append(HeaderTokens.encodeValue(role, ','));
            }
            headers.set(names.roles(), roles.toString());
        }
    }

    private static List<String> forwardedHeaders(ForwardedIdentity forwarded) {
        return forwarded.rolesHeader() == null
                ? List.of(forwarded.userHeader())
                : List.of(forwarded.userHeader(), forwarded.rolesHeader());
    }

}
