package dev.portcullis.core.config;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The compiled {@code identity.forwarded} section: the headers by which an authenticating proxy in front names the
 * user, believed only when the direct peer is in {@code clients.trusted_proxies} (SPEC 3.5).
 *
 * @param userHeader the header naming the user, e.g. {@code X-Forwarded-User}
 * @param rolesHeader the header listing the user's roles, comma separated; null when the proxy sends none
 */
public record ForwardedIdentity(String userHeader, @Nullable String rolesHeader) {

    /** Rejects a null user header. */
    public ForwardedIdentity {
        Objects.requireNonNull(userHeader, "userHeader");
    }
}
