package dev.portcullis.core.identity;

import dev.portcullis.core.config.ForwardedIdentity;
import dev.portcullis.core.config.IdentitySettings;
import dev.portcullis.core.config.UpstreamIdentityHeaders;
import dev.portcullis.core.http.HeaderValues;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.RequestHeaders;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Establishes who a request comes from (SPEC 3.5), in order: a verified bearer token, else the user a
 * trusted authenticating proxy forwarded, else anonymous. One chain per configuration generation.
 *
 * <p>A presented token that fails verification makes the request anonymous whatever the forwarded
 * headers say; its reason is kept for the 401. The header-name lists that the server strips from
 * requests are computed here once per generation.
 */
public final class IdentityChain {
    private final @Nullable JwtIdentityResolver jwt;
    private final @Nullable ForwardedIdentity forwarded;
    private final UpstreamIdentityHeaders upstreamHeaders;
    private final List<String> strippedFromTrusted;
    private final List<String> strippedFromUntrusted;
    private final List<String> forwardedHeaders;

    /**
     * @param jwt the bearer-token verifier; null when no provider is configured (a presented token is then ignored)
     * @param settings the compiled {@code identity} section
     */
    public IdentityChain(@Nullable JwtIdentityResolver jwt, IdentitySettings settings) {
        this.jwt = jwt;
        this.forwarded = settings.forwarded();
        this.upstreamHeaders = settings.upstreamHeaders();
        List<String> always = List.of(upstreamHeaders.subject(), upstreamHeaders.roles());
        List<String> forwardedNames = new ArrayList<>(2);
        if (forwarded != null) {
            forwardedNames.add(forwarded.userHeader());
            if (forwarded.rolesHeader() != null) {
                forwardedNames.add(forwarded.rolesHeader());
            }
        }
        List<String> untrusted = new ArrayList<>(always);
        untrusted.addAll(forwardedNames);
        this.strippedFromTrusted = always;
        this.strippedFromUntrusted = List.copyOf(untrusted);
        this.forwardedHeaders = List.copyOf(forwardedNames);
    }

    /**
     * Verifies the bearer token of an {@code Authorization} value now, without blocking:
     * {@link Resolution.NotPresented} when there is none (or no provider is configured).
     */
    public Resolution verifyBearer(@Nullable String authorization) {
        return jwt == null || authorization == null ? Resolution.notPresented() : jwt.resolve(authorization);
    }

    /**
     * When {@code now} rejected the token only because its key is not known yet, the wait for the key fetch it
     * triggered: the request is decided with {@link KeyWait#settle()}, which counts the token, or
     * {@link KeyWait#abandon()}ed; null when there is nothing to wait for ({@code now} was counted).
     */
    public @Nullable KeyWait afterKeyFetch(@Nullable String authorization, Resolution now) {
        return jwt == null || authorization == null ? null : jwt.afterKeyFetch(authorization, now);
    }

    /** The identity of a request whose bearer token resolved to {@code bearer}, arriving from {@code peer}. */
    public Identity identity(Resolution bearer, RequestHeaders headers, IpAddress peer) {
        if (bearer instanceof Resolution.Resolved resolved) {
            return resolved.identity();
        }
        if (bearer instanceof Resolution.Rejected) {
            return Identity.ANONYMOUS;
        }
        ForwardedIdentity trusted = forwarded;
        if (trusted != null && believesForwarded(peer)) {
            String user = headers.first(trusted.userHeader());
            if (user != null && !user.isBlank()) {
                String roles = trusted.rolesHeader() == null ? null : headers.first(trusted.rolesHeader());
                return new Identity(user.trim(), splitRoles(roles), Map.of(), IdentitySource.FORWARDED, null);
            }
        }
        return Identity.ANONYMOUS;
    }

    /**
     * Whether forwarded-identity headers from {@code peer} are believed (and so kept): only from
     * {@code identity.forwarded.trusted_proxies}, not from every {@code clients.trusted_proxies} peer.
     */
    public boolean believesForwarded(IpAddress peer) {
        ForwardedIdentity trusted = forwarded;
        return trusted != null && trusted.trusts(peer);
    }

    /**
     * The identity header names a request from {@code peer} may not carry: the upstream identity headers
     * always, the forwarded-identity headers unless the peer is believed. Precomputed.
     */
    public List<String> headersToStrip(IpAddress peer) {
        return believesForwarded(peer) ? strippedFromTrusted : strippedFromUntrusted;
    }

    /** Every identity header name of this configuration: the upstream identity headers and the forwarded ones. */
    public List<String> allIdentityHeaders() {
        return strippedFromUntrusted;
    }

    /**
     * The forwarded-identity header names, which go to the upstream only when they are what the identity came
     * from; empty when forwarded identity is not configured.
     */
    public List<String> forwardedHeaders() {
        return forwardedHeaders;
    }

    /** The headers that tell the upstream who the request is. */
    public UpstreamIdentityHeaders upstreamHeaders() {
        return upstreamHeaders;
    }

    private static Set<String> splitRoles(@Nullable String roles) {
        if (roles == null || roles.isBlank()) {
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        HeaderValues.forEachElement(roles, out::add);
        return out;
    }
}
