package dev.portcullis.core.config;

import java.util.Locale;

/**
 * The parts of a valid {@code upstream.url}: an http origin with no path, query, fragment or user info.
 *
 * @param scheme lower-case {@code http}
 * @param host IP literal (IPv6 without brackets) or host name
 * @param port the written port, or 80
 * @param authority {@code host[:port]} exactly as written, for the upstream {@code Host} header
 */
record UpstreamUrl(String scheme, String host, int port, String authority) {

    private static final String EXAMPLE = "e.g. http://127.0.0.1:3000";
    /** The example for an authority that is (or tries to be) an IPv6 address: it has more than one colon. */
    private static final String IPV6_EXAMPLE = "e.g. http://[::1]:3000";

    /**
     * Parses an upstream URL.
     *
     * @throws IllegalArgumentException with a message showing the value and what was expected
     */
    static UpstreamUrl parse(String url) {
        int separator = url.indexOf("://");
        if (separator <= 0) {
            throw invalid(url, "http://host[:port], " + EXAMPLE);
        }
        String scheme = url.substring(0, separator).toLowerCase(Locale.ROOT);
        if (scheme.equals("https")) {
            throw new IllegalArgumentException("https upstreams are not supported yet (expected: an http:// URL)");
        }
        if (!scheme.equals("http")) {
            throw invalid(url, "scheme http, " + EXAMPLE);
        }
        int start = separator + 3;
        int end = start;
        while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
            end++;
        }
        String authority = url.substring(start, end);
        String rest = url.substring(end);
        if (authority.indexOf('@') >= 0) {
            throw invalid(url, "no user info in the URL");
        }
        int query = indexOfAny(rest, "?#");
        String path = query < 0 ? rest : rest.substring(0, query);
        if (!path.isEmpty() && !path.equals("/")) {
            throw invalid(url, "no path, " + EXAMPLE);
        }
        if (query >= 0) {
            throw invalid(url, "no query or fragment, " + EXAMPLE);
        }
        HostPort hostPort;
        try {
            hostPort = HostPort.split(authority, 80, 1);
        } catch (IllegalArgumentException e) {
            boolean ipv6 = authority.indexOf(':') != authority.lastIndexOf(':');
            throw invalid(url, ConfigValues.messageOf(e) + ", " + (ipv6 ? IPV6_EXAMPLE : EXAMPLE));
        }
        return new UpstreamUrl(scheme, hostPort.host(), hostPort.port(), authority);
    }

    private static int indexOfAny(String text, String chars) {
        for (int i = 0; i < text.length(); i++) {
            if (chars.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static IllegalArgumentException invalid(String url, String expected) {
        return new IllegalArgumentException(
                ConfigValues.quote(url) + " is not a valid upstream URL (expected: " + expected + ")");
    }
}
