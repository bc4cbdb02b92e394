package dev.portcullis.core.http;

import java.util.List;

/**
 * Which request header names the gateway removes, or will not let {@code Connection} remove, before the policy runs
 * (README "Proxying", "Security notes"). The server's header handling and the offline simulation of a request
 * ({@code explain}, {@code test}) both ask here, so that they cannot disagree.
 */
public final class ClientHeaderNames {
    /** Headers by which middleware lets a request claim another method or path; lower case. */
    private static final List<String> OVERRIDES = List.of(
            "x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url");
    /** What a {@code Connection} token may not remove, besides {@code X-Forwarded-*} and identity headers. */
    private static final List<String> CONNECTION_PROTECTED = List.of(
            "content-length", "transfer-encoding", "host", "authorization", "x-request-id", "forwarded");
    private static final String X_FORWARDED_PREFIX = "x-forwarded-";
    private static final String PROXY_PREFIX = "proxy-";

    private ClientHeaderNames() {}

    /**
     * A method or URL override ({@code X-HTTP-Method-Override}, {@code X-HTTP-Method}, {@code X-Method-Override},
     * {@code X-Original-URL}, {@code X-Rewrite-URL}), in any case and with {@code _} for {@code -}.
     */
    public static boolean isOverride(CharSequence name) {
        int n = name.length();
        if (n < 13 || n > 22 || (name.charAt(0) | 0x20) != 'x') {
            return false;
        }
        for (int i = 0; i < OVERRIDES.size(); i++) {
            if (HeaderValues.sameName(name, OVERRIDES.get(i), false)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A hop-by-hop header other than {@code Connection} itself (RFC 9110 7.6.1): {@code Keep-Alive}, {@code TE},
     * {@code Trailer}, {@code Upgrade} or {@code Proxy-*}, in any case.
     */
    public static boolean isFixedHopByHop(CharSequence name) {
        return switch (name.length()) {
            case 2 -> equalsIgnoreCase(name, "te");
            case 7 -> equalsIgnoreCase(name, "trailer") || equalsIgnoreCase(name, "upgrade") || hasProxyPrefix(name);
            case 10 -> equalsIgnoreCase(name, "keep-alive") || hasProxyPrefix(name);
            default -> hasProxyPrefix(name);
        };
    }

    /**
     * A header that a {@code Connection} token may not remove: the framing headers, {@code Host},
     * {@code Authorization}, {@code X-Request-Id}, {@code Forwarded} and {@code X-Forwarded-*}, in any case.
     */
    public static boolean isConnectionProtected(CharSequence name) {
        for (int i = 0; i < CONNECTION_PROTECTED.size(); i++) {
            if (equalsIgnoreCase(name, CONNECTION_PROTECTED.get(i))) {
                return true;
            }
        }
        return startsWithIgnoreCase(name, X_FORWARDED_PREFIX);
    }

    /**
     * Whether a request line named {@code name} is removed before the policy runs, as a header the peer may not send:
     * one of {@code gatewayHeaders} (the identity headers the gateway sets or believes only from some peers; any case,
     * {@code _} for {@code -}) from anyone; every {@code X-Forwarded-*} and client-address claim
     * ({@link HeaderValues#CLIENT_ADDRESS_CLAIMS}) from a peer that is not a trusted proxy, and from a trusted proxy
     * those spelled with {@code _} (the gateway reads and extends only the dashed spelling, while a CGI-style upstream
     * would read the other as the same header); but never the {@code believed} forwarded-identity headers.
     */
    public static boolean isUnsentable(CharSequence name, boolean trustedPeer, List<String> gatewayHeaders,
            List<String> believed) {
        for (int i = 0; i < gatewayHeaders.size(); i++) {
            if (HeaderValues.sameName(name, gatewayHeaders.get(i), false)) {
                return true;
            }
        }
        for (int i = 0; i < believed.size(); i++) {
            if (HeaderValues.sameName(name, believed.get(i), false)) {
                return false; // every spelling: the identity reads the exact one and refuses a request with two
            }
        }
        return trustedPeer ? hasUnderscore(name) && isForwardingClaim(name) : isForwardingClaim(name);
    }

    /** {@code X-Forwarded-*} or a client-address claim, in any case and with {@code _} for {@code -}. */
    private static boolean isForwardingClaim(CharSequence name) {
        if (HeaderValues.sameName(name, X_FORWARDED_PREFIX, true)) {
            return true;
        }
        for (int i = 0; i < HeaderValues.CLIENT_ADDRESS_CLAIMS.size(); i++) {
            if (HeaderValues.sameName(name, HeaderValues.CLIENT_ADDRESS_CLAIMS.get(i), false)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasUnderscore(CharSequence name) {
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) == '_') {
                return true;
            }
        }
        return false;
    }

    private static boolean hasProxyPrefix(CharSequence name) {
        return startsWithIgnoreCase(name, PROXY_PREFIX);
    }

    /** ASCII case-insensitive equality with a lower-case {@code expected}. */
    private static boolean equalsIgnoreCase(CharSequence name, String expected) {
        return name.length() == expected.length() && startsWithIgnoreCase(name, expected);
    }

    /** ASCII case-insensitive prefix test with a lower-case {@code prefix}. */
    private static boolean startsWithIgnoreCase(CharSequence name, String prefix) {
        int n = prefix.length();
        if (name.length() < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                c = (char) (c + ('a' - 'A'));
            }
            if (c != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
