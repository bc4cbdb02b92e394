package dev.portcullis.core.http;

import java.util.List;
import java.util.function.Consumer;

/**
 * Reading list-valued header fields (RFC 9110 5.6.1) and comparing header names, shared by the server, the identity
 * chain and the decision step.
 */
public final class HeaderValues {
    private HeaderValues() {}

    /**
     * Client-address claims other than {@code X-Forwarded-*}, lower case: RFC 7239's and those of proxies and CDNs
     * (nginx, Akamai, Cloudflare, F5, Fastly) an upstream might read. Removed from requests of untrusted peers, and
     * never usable as an identity header.
     */
    public static final List<String> CLIENT_ADDRESS_CLAIMS = List.of("forwarded", "x-real-ip", "x-client-ip",
            "true-client-ip", "cf-connecting-ip", "x-cluster-client-ip", "fastly-client-ip");

    /** Calls {@code action} with each trimmed, non-empty element of a comma-separated header value. */
    public static void forEachElement(String value, Consumer<String> action) {
        int start = 0;
        while (start <= value.length()) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? value.length() : comma;
            String token = value.substring(start, end).trim();
            if (!token.isEmpty()) {
                action.accept(token);
            }
            start = end + 1;
        }
    }

    /**
     * Header names compare case-insensitively with {@code _} equal to {@code -} (CGI-style upstreams read
     * {@code X_Tenant} as {@code X-Tenant}); {@code prefix}: {@code expected} starts {@code name}.
     */
    public static boolean sameName(CharSequence name, String expected, boolean prefix) {
        int n = expected.length();
        if (prefix ? name.length() < n : name.length() != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (fold(name.charAt(i)) != fold(expected.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static char fold(char c) {
        if (c == '_') {
            return '-';
        }
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }
}
