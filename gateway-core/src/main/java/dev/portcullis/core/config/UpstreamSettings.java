package dev.portcullis.core.config;

import java.time.Duration;

/**
 * The compiled {@code upstream} section: where requests are proxied to and how.
 *
 * @param scheme {@code http}
 * @param host IP literal (IPv6 without brackets) or host name to connect to
 * @param port the port to connect to (80 unless written)
 * @param authority {@code host[:port]} as written in the URL
 * @param connectTimeout how long connecting may take before a 502
 * @param responseTimeout how long until response headers before a 504
 * @param maxConnections pooled keep-alive connections, all event loops together
 * @param caseInsensitivePaths whether path conditions match regardless of case (the compiled {@code Policy} does it)
 */
public record UpstreamSettings(
        String scheme,
        String host,
        int port,
        String authority,
        Duration connectTimeout,
        Duration responseTimeout,
        int maxConnections,
        boolean caseInsensitivePaths) {}
