package dev.portcullis.server.pipeline;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Removes, before the policy sees the request, the headers a client may not set: from a peer that
 * is not a trusted proxy every {@code X-Forwarded-*}, {@code Forwarded}, {@code X-Real-IP} and
 * {@code X-Client-IP} (Zuul's StripUntrustedProxyHeadersHandler, failing closed); from everyone the
 * headers the gateway itself sets for the upstream.
 *
 * <p>Names compare case-insensitively with {@code _} equal to {@code -}, because some upstream
 * stacks (CGI, nginx with underscores_in_headers, WSGI) read {@code X_Auth_Subject} as
 * {@code X-Auth-Subject}.
 */
final class ForwardedHeaderSanitizer {
    private static final String X_FORWARDED_PREFIX = "x-forwarded-";
    private static final List<String> UNTRUSTED_ONLY = List.of("forwarded", "x-real-ip", "x-client-ip");

    private ForwardedHeaderSanitizer() {}

    /**
     * Strips in place. {@code gatewayHeaders} are header names (any case) that the gateway sets
     * itself and that no client may send.
     */
    static void sanitize(HttpHeaders headers, boolean trustedPeer, List<String> gatewayHeaders) {
        List<String> doomed = null;
        for (Map.Entry<CharSequence, CharSequence> header : iterable(headers)) {
            CharSequence name = header.getKey();
            if (mustGo(name, trustedPeer, gatewayHeaders)) {
                if (doomed == null) {
                    doomed = new ArrayList<>(2);
                }
                doomed.add(name.toString());
            }
        }
        if (doomed != null) {
            doomed.forEach(headers::remove);
        }
    }

    private static boolean mustGo(CharSequence name, boolean trustedPeer, List<String> gatewayHeaders) {
        for (int i = 0; i < gatewayHeaders.size(); i++) {
            if (sameHeader(name, gatewayHeaders.get(i), false)) {
                return true;
            }
        }
        if (trustedPeer) {
            return false;
        }
        if (sameHeader(name, X_FORWARDED_PREFIX, true)) {
            return true;
        }
        for (int i = 0; i < UNTRUSTED_ONLY.size(); i++) {
            if (sameHeader(name, UNTRUSTED_ONLY.get(i), false)) {
                return true;
            }
        }
        return false;
    }

    /** Case-insensitive, {@code _} = {@code -}; with {@code prefix} true, {@code expected} need only start {@code name}. */
    static boolean sameHeader(CharSequence name, String expected, boolean prefix) {
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

    private static Iterable<Map.Entry<CharSequence, CharSequence>> iterable(HttpHeaders headers) {
        return headers::iteratorCharSequence;
    }
}
