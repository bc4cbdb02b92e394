package dev.portcullis.core.config;

import java.util.List;

/**
 * The {@code clients} section as written: whose forwarding headers are believed (SPEC 3.3).
 *
 * @param trustedProxies CIDRs of the peers whose {@code X-Forwarded-For} and {@code Forwarded} headers are believed
 */
public record ClientsConfig(List<String> trustedProxies) {

    public static final ClientsConfig DEFAULT = new ClientsConfig(List.of());

    public ClientsConfig {
        trustedProxies = List.copyOf(trustedProxies);
    }
}
