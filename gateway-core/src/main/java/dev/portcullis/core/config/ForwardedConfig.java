package dev.portcullis.core.config;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@code identity.forwarded} section as written: headers set by an authenticating proxy in front (SPEC 3.5).
 *
 * @param trustedProxies the CIDRs of the authenticating proxy, the only peers whose identity headers are believed;
 *     null when missing or unusable (reported)
 * @param userHeader the header naming the user; null when missing (reported)
 * @param rolesHeader the header listing the user's roles, comma separated; null when not written (no roles)
 */
public record ForwardedConfig(
        @Nullable List<String> trustedProxies, @Nullable String userHeader, @Nullable String rolesHeader) {

    /** Copies the CIDR list. */
    public ForwardedConfig {
        trustedProxies = trustedProxies == null ? null : List.copyOf(trustedProxies);
    }
}
