package dev.portcullis.core.config;

import java.time.Duration;

/**
 * The compiled {@code limits} section: the sizes and timeouts the server enforces (SPEC 3.6).
 *
 * @param maxUriLength longest request target in bytes, else 414
 * @param maxHeaderSize all header lines together in bytes, else 431
 * @param maxBodySize largest request body in bytes, else 413
 * @param headerTimeout time to receive the request head, else 408
 * @param idleTimeout how long a keep-alive connection may wait for its next request
 * @param maxConnections concurrent client connections
 * @param allowGetBody whether a GET with a body is proxied instead of rejected with 400
 */
public record Limits(
        int maxUriLength,
        int maxHeaderSize,
        long maxBodySize,
        Duration headerTimeout,
        Duration idleTimeout,
        int maxConnections,
        boolean allowGetBody) {

    /**
     * Room for the method, spaces and version around a target of {@code maxUriLength}: a request line longer than
     * both is refused (414) while it is read, before its headers.
     */
    public static final int REQUEST_LINE_OVERHEAD = 64;
}
