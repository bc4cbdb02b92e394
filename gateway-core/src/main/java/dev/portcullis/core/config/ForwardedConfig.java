package dev.portcullis.core.config;

import org.jspecify.annotations.Nullable;

/**
 * The {@code identity.forwarded} section as written: headers set by an authenticating proxy in front (SPEC 3.5).
 *
 * @param userHeader the header naming the user; null when missing (reported)
 * @param rolesHeader the header listing the user's roles, comma separated; null when not written (no roles)
 */
public record ForwardedConfig(@Nullable String userHeader, @Nullable String rolesHeader) {}
