package dev.portcullis.core.config;

import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The compiled {@code identity.forwarded} section: the headers by which an authenticating proxy in front names the
 * user, believed only when the direct peer is in {@link #trustedProxies} (not merely in
 * {@code clients.trusted_proxies}; SPEC 3.5).
 *
 * @param trustedProxies the authenticating proxy's addresses; never empty and never a {@code /0}
 * @param userHeader the header naming the user, e.g. {@code X-Forwarded-User}
 * @param rolesHeader the header listing the user's roles, comma separated; null when the proxy sends none
 */
public record ForwardedIdentity(CidrSet trustedProxies, String userHeader, @Nullable String rolesHeader) {

    /** Rejects a null user header and an empty proxy set (which would make the section pointless). */
    public ForwardedIdentity {
        Objects.requireNonNull(trustedProxies, "trustedProxies");
        Objects.requireNonNull(userHeader, "userHeader");
        if (trustedProxies.size() == 0) {
            throw new IllegalArgumentException(
                    "[] is not a valid trusted_proxies (expected: the authenticating proxy's address)");
        }
    }

    /** Whether the identity headers of a request whose TCP peer is {@code peer} are believed; allocation-free. */
    public boolean trusts(IpAddress peer) {
        return trustedProxies.contains(peer);
    }
}
