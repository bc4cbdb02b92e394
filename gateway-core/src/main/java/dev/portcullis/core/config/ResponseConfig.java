package dev.portcullis.core.config;

import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code responses} as written (SPEC 3): the body that replaces a gateway-made answer's.
 *
 * @param status the status whose body is replaced (the map key)
 * @param contentType the {@code Content-Type}; null for the default
 * @param body the body text; null when {@code bodyFile} is given
 * @param bodyFile the file holding the body, relative to the config's folder; null when {@code body} is given
 */
public record ResponseConfig(int status, @Nullable String contentType, @Nullable String body, @Nullable String bodyFile) {}
