package dev.portcullis.core.http;

import dev.portcullis.core.net.IpAddress;
import java.util.Locale;

/** How the gateway reads the method and Host of a request head, shared by the server and the offline commands. */
public final class RequestHead {
    private RequestHead() {}

    /** Upper-case letters, {@code -} and {@code _}, as nginx accepts in a method (SPEC 3.6: anything else is 400). */
    public static boolean isUpperCaseToken(String method) {
        if (method.isEmpty()) {
            return false;
        }
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (!(c >= 'A' && c <= 'Z') && c != '-' && c != '_') {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a Host value (or an absolute-form target's authority) is one host and an optional port, so that the
     * policy and the upstream cannot read it differently: {@code name[:port]} where the name is made of letters,
     * digits, {@code - . _ ~} (no percent-encoding, no {@code ,;!$&'()*+=} sub-delimiters, which RFC 3986 allows in
     * a reg-name but no DNS name holds: {@code a,b} could be read as a list and {@code a%2e} decoded), or
     * {@code [IPv6][:port]}; the port is at most five digits up to 65535, or empty as RFC 3986 permits. Anything
     * else, such as {@code host:80:80}, {@code host:http} or {@code [name]}, is refused (RFC 9112 3.2: 400).
     */
    public static boolean isValidAuthority(String authority) {
        int n = authority.length();
        int portStart;
        if (n > 0 && authority.charAt(0) == '[') {
            int close = authority.indexOf(']');
            IpAddress literal = close > 1 ? IpAddress.parseOrNull(authority, 1, close) : null;
            int colon = authority.indexOf(':');
            if (literal == null || colon < 0 || colon > close) { // an IPv6 literal, not [10.0.0.1]
                return false;
            }
            if (close + 1 == n) {
                return true;
            }
            if (authority.charAt(close + 1) != ':') {
                return false;
            }
            portStart = close + 2;
        } else {
            int colon = authority.indexOf(':');
            int nameEnd = colon < 0 ? n : colon;
            if (nameEnd == 0) {
                return false;
            }
            for (int i = 0; i < nameEnd; i++) {
                char c = authority.charAt(i);
                // no empty label: ".a", "a..b" and "a.." are no names (one final dot is the FQDN spelling)
                if (!isNameChar(c) || c == '.' && (i == 0 || authority.charAt(i - 1) == '.')) {
                    return false;
                }
            }
            if (colon < 0) {
                return true;
            }
            portStart = colon + 1;
        }
        int digits = n - portStart;
        if (digits > 5) {
            return false;
        }
        int port = 0;
        for (int i = portStart; i < n; i++) {
            char c = authority.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535;
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_' || c == '~';
    }

    /**
     * The Host as policies see it: port removed, lower case, an IPv6 literal in its one RFC 5952 spelling (as
     * {@code hosts} patterns are compiled, so that {@code [0::1]} is {@code [::1]}); allocates only when it changes the
     * text.
     */
    public static String policyHost(String hostHeader) {
        String host = hostHeader;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            IpAddress literal = close > 0 ? IpAddress.parseOrNull(host, 1, close) : null;
            return literal != null ? "[" + literal + "]" : close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && host.indexOf(':') == colon) {
                host = host.substring(0, colon);
            }
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return host.toLowerCase(Locale.ROOT);
            }
        }
        return host;
    }
}
