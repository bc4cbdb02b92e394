package dev.portcullis.core.policy;

import dev.portcullis.core.net.IpAddress;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A compiled host pattern: an exact host, or {@code *.example.com} for its subdomains at any depth (not
 * {@code example.com} itself), compared case-insensitively.
 */
public final class HostPattern {

    private final String source;
    /** The lower-case host, or for a wildcard the suffix with its leading dot (".example.com"). */
    private final String host;
    private final boolean wildcard;

    private HostPattern(String source, String host, boolean wildcard) {
        this.source = source;
        this.host = host;
        this.wildcard = wildcard;
    }

    /** Compiles a host name, IPv4 address, bracketed IPv6 address or {@code *.} wildcard domain. */
    public static HostPattern compile(String pattern) {
        String lower = pattern.toLowerCase(Locale.ROOT);
        boolean wildcard = lower.startsWith("*.");
        String name = wildcard ? lower.substring(2) : lower;
        if (!isHostName(name) && (wildcard || !isBracketedIPv6(name))) {
            throw new IllegalArgumentException("\"" + pattern + "\" is not a valid host pattern (expected: "
                    + "a host name or address, or *. and a domain, e.g. api.example.com or *.example.com)");
        }
        if (!wildcard && !isHostName(name)) {
            // an IPv6 literal in the one spelling RequestHead.policyHost gives a request's Host
            return new HostPattern(pattern, "[" + IpAddress.parse(name.substring(1, name.length() - 1)) + "]", false);
        }
        return new HostPattern(pattern, wildcard ? lower.substring(1) : lower, wildcard);
    }

    /** Dot-separated labels of letters, digits, '-' and '_' (which also covers IPv4 addresses). */
    private static boolean isHostName(String name) {
        int labelLength = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (labelLength == 0) {
                    return false;
                }
                labelLength = 0;
            } else if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
                labelLength++;
            } else {
                return false;
            }
        }
        return labelLength > 0;
    }

    private static boolean isBracketedIPv6(String name) {
        return name.length() > 2 && name.charAt(0) == '[' && name.charAt(name.length() - 1) == ']'
                && IpAddress.parseOrNull(name, 1, name.length() - 1) != null;
    }

    /**
     * Whether {@code requestHost} (without port) matches, ignoring case and one trailing dot
     * ({@code example.com.} is the fully qualified {@code example.com}); allocation-free.
     */
    public boolean matches(String requestHost) {
        int length = requestHost.length();
        if (length > 0 && requestHost.charAt(length - 1) == '.') {
            length--;
        }
        if (wildcard) {
            return length > host.length()
                    && requestHost.regionMatches(true, length - host.length(), host, 0, host.length());
        }
        return length == host.length() && requestHost.regionMatches(true, 0, host, 0, length);
    }

    /** The lower-case host, or for a wildcard its suffix with the leading dot ({@code .example.com}). */
    String key() {
        return host;
    }

    /** Whether this is a {@code *.} wildcard pattern. */
    boolean wildcard() {
        return wildcard;
    }

    /** The pattern as written. */
    @Override
    public String toString() {
        return source;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof HostPattern other && host.equals(other.host) && wildcard == other.wildcard;
    }

    @Override
    public int hashCode() {
        return host.hashCode() * 31 + Boolean.hashCode(wildcard);
    }
}
