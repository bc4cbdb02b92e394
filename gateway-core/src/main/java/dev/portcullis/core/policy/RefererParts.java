package dev.portcullis.core.policy;

import dev.portcullis.core.net.IpAddress;

/**
 * The in-place, allocation-free parse of a {@code Referer} as an absolute http(s) URL into the positions of its parts,
 * packed into one long.
 */
final class RefererParts {

    /*
     * Four positions are packed into the long, 16 bits each (host end, path start, path end,
     * explicit port), which is why a Referer of 65535 characters or more is not parsed. Nothing is
     * allocated except that a bracketed IPv6 host is validated by parsing it into an IpAddress.
     */

    /** What {@link #parse} returns for a value that is not an absolute http(s) URL. */
    static final long INVALID = -1L;

    private static final int MAX_LENGTH = 0xFFFF;

    private RefererParts() {}

    /**
     * Parses an absolute http(s) URL in place: the packed positions of its parts ({@link #hostEnd}, {@link #pathStart},
     * {@link #pathEnd}, {@link #port}), or {@link #INVALID}.
     */
    static long parse(String referer) {
        int length = referer.length();
        if (length >= MAX_LENGTH) {
            return INVALID;
        }
        boolean https = referer.regionMatches(true, 0, "https://", 0, 8);
        if (!https && !referer.regionMatches(true, 0, "http://", 0, 7)) {
            return INVALID;
        }
        int hostStart = https ? 8 : 7;
        int authorityEnd = hostStart;
        while (authorityEnd < length && "/?#".indexOf(referer.charAt(authorityEnd)) < 0) {
            authorityEnd++;
        }
        int hostEnd = hostStart;
        if (hostEnd < authorityEnd && referer.charAt(hostEnd) == '[') {
            int close = referer.indexOf(']', hostStart);
            if (close < 0 || close >= authorityEnd || IpAddress.parseOrNull(referer, hostStart + 1, close) == null) {
                return INVALID;
            }
            hostEnd = close + 1;
        } else {
            int labelLength = 0;
            while (hostEnd < authorityEnd && referer.charAt(hostEnd) != ':') {
                char c = referer.charAt(hostEnd);
                if (c == '.') {
                    if (labelLength == 0) {
                        return INVALID;
                    }
                    labelLength = 0;
                } else if (isHostChar(c) || c >= 'A' && c <= 'Z') {
                    labelLength++;
                } else {
                    return INVALID;
                }
                hostEnd++;
            }
            if (hostEnd == hostStart) {
                return INVALID;
            }
        }
        int matchedHostEnd = hostEnd - (referer.charAt(hostEnd - 1) == '.' ? 1 : 0);
        int port = 0;
        if (hostEnd < authorityEnd) {
            if (referer.charAt(hostEnd) != ':' || authorityEnd - hostEnd - 1 > 5) {
                return INVALID;
            }
            for (int i = hostEnd + 1; i < authorityEnd; i++) {
                char c = referer.charAt(i);
                if (c < '0' || c > '9') {
                    return INVALID;
                }
                port = port * 10 + c - '0';
            }
            if (authorityEnd > hostEnd + 1 && (port == 0 || port > 0xFFFF)) {
                return INVALID;
            }
            port = port == (https ? 443 : 80) ? 0 : port;
        }
        int pathEnd = length;
        for (int i = authorityEnd; i < length; i++) {
            char c = referer.charAt(i);
            if (c <= ' ' || c >= 0x7F) {
                return INVALID;
            }
            if ((c == '?' || c == '#') && pathEnd == length) {
                pathEnd = i;
            }
        }
        return matchedHostEnd | (long) authorityEnd << 16 | (long) pathEnd << 32 | (long) port << 48;
    }

    /** The end of the host, before one trailing {@code .}. */
    static int hostEnd(long parts) {
        return (int) (parts & 0xFFFF);
    }

    /** The start of the path, which is the end of the authority. */
    static int pathStart(long parts) {
        return (int) (parts >>> 16 & 0xFFFF);
    }

    /** The end of the path, before any query or fragment. */
    static int pathEnd(long parts) {
        return (int) (parts >>> 32 & 0xFFFF);
    }

    /** The explicit port, or 0 for the scheme's default. */
    static int port(long parts) {
        return (int) (parts >>> 48 & 0xFFFF);
    }

    /** Whether the parsed {@code referer} is https (else http). */
    static boolean isHttps(String referer) {
        return referer.charAt(4) == 's' || referer.charAt(4) == 'S';
    }

    /** Whether {@code c} may occur in a host label, lower-case. */
    static boolean isHostChar(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }
}
