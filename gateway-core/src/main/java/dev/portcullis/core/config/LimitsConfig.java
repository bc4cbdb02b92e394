package dev.portcullis.core.config;

import java.time.Duration;

/**
 * The {@code limits} section as written: sizes in bytes and timeouts that protect the gateway (SPEC 3.6).
 *
 * @param maxUriLength longest request target, else 414
 * @param maxHeaderSize all header lines together, else 431
 * @param maxBodySize largest request body, else 413
 * @param headerTimeout time to receive the request head, else 408
 * @param idleTimeout how long a keep-alive connection may wait for its next request
 * @param maxConnections concurrent client connections
 * @param allowGetBody whether a GET with a body is proxied instead of rejected
 */
public record LimitsConfig(
        long maxUriLength,
        long maxHeaderSize,
        long maxBodySize,
        Duration headerTimeout,
        Duration idleTimeout,
        int maxConnections,
        boolean allowGetBody) {

    public static final LimitsConfig DEFAULT = new LimitsConfig(
            8L << 10, 16L << 10, 10L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60), 10_000, false);
}
