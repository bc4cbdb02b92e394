package dev.portcullis.core.config;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The {@code upstream} section as written: the protected service and how it is connected to.
 *
 * @param url the service URL; {@code null} when missing or not a string (reported)
 * @param connectTimeout how long connecting may take before a 502
 * @param responseTimeout how long until response headers before a 504
 * @param maxConnections pooled keep-alive connections, all event loops together
 * @param caseInsensitivePaths whether path conditions match regardless of case ({@code case_insensitive_paths})
 */
public record UpstreamConfig(
        @Nullable String url,
        Duration connectTimeout,
        Duration responseTimeout,
        int maxConnections,
        boolean caseInsensitivePaths) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_CONNECTIONS = 512;
}
