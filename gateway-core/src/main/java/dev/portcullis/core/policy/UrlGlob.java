package dev.portcullis.core.policy;

import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One compiled {@code scheme://host[:port]/path} referrer pattern, matched in place against a Referer parsed by
 * {@link RefererParts}.
 */
final class UrlGlob {

    private static final int HTTP = 0;
    private static final int HTTPS = 1;
    private static final int ANY = 2;

    private final String source;
    private final int scheme;
    /** Lower-case host labels, each possibly with {@code *}; one label for a bracketed IPv6 address. */
    private final String[] labels;
    /** The explicit port, 0 for the scheme's default. */
    private final int port;
    /** The path segments, matched case-sensitively and as written. */
    private final PathGlob path;

    private UrlGlob(String source, int scheme, String[] labels, int port, PathGlob path) {
        this.source = source;
        this.scheme = scheme;
        this.labels = labels;
        this.port = port;
        this.path = path;
    }

    /** Compiles {@code pattern}; throws IllegalArgumentException naming it and what was expected. */
    static UrlGlob compile(String pattern) {
        int schemeEnd = pattern.indexOf("://");
        String schemeText = schemeEnd < 0 ? "" : pattern.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        int scheme = schemeText.equals("http") ? HTTP : schemeText.equals("https") ? HTTPS
                : schemeText.equals("*") ? ANY : -1;
        if (scheme < 0) {
            throw invalid(pattern, "none, or a glob over scheme://host/path with scheme http, https or *, "
                    + "e.g. https://app.example.com/**");
        }
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '?' || c == '#') {
                throw invalid(pattern, "no query or fragment, which referer matching ignores");
            }
            if (c <= ' ' || c >= 0x7F) {
                throw invalid(pattern, "no whitespace, control or non-ASCII characters (percent-encode them)");
            }
        }
        int hostStart = schemeEnd + 3;
        int pathStart = pattern.indexOf('/', hostStart);
        if (pathStart < 0) {
            throw invalid(pattern, "a path after the host, e.g. " + pattern + "/**");
        }
        String authority = pattern.substring(hostStart, pathStart).toLowerCase(Locale.ROOT);
        int colon = authority.startsWith("[") ? authority.indexOf(':', authority.indexOf(']'))
                : authority.indexOf(':');
        String host = colon < 0 ? authority : authority.substring(0, colon);
        String[] labels = compileHost(pattern, host);
        int port = colon < 0 ? 0 : parsePort(pattern, authority.substring(colon + 1));
        if (scheme == HTTP && port == 80 || scheme == HTTPS && port == 443) {
            port = 0;
        }
        String path = pattern.substring(pathStart);
        return new UrlGlob(pattern, scheme, labels, port, PathGlob.ofSegments(path, compilePath(pattern, path)));
    }

    private static int parsePort(String pattern, String text) {
        boolean digits = !text.isEmpty() && text.length() <= 5;
        for (int i = 0; i < text.length() && digits; i++) {
            digits = text.charAt(i) >= '0' && text.charAt(i) <= '9';
        }
        int port = digits ? Integer.parseInt(text) : 0;
        if (port < 1 || port > 0xFFFF) {
            throw invalid(pattern, "a port from 1 to 65535 after the host, e.g. https://app.example.com:8443/**");
        }
        return port;
    }

    private static String[] compileHost(String pattern, String host) {
        String expected = "a host of non-empty labels of letters, digits, - and _, with * within a label, "
                + "e.g. https://*.example.com/**";
        if (host.startsWith("[")) {
            if (!host.endsWith("]") || IpAddress.parseOrNull(host, 1, host.length() - 1) == null) {
                throw invalid(pattern, expected);
            }
            return new String[] {host};
        }
        List<String> labels = new ArrayList<>();
        int start = 0;
        while (true) {
            int dot = host.indexOf('.', start);
            String label = host.substring(start, dot < 0 ? host.length() : dot);
            boolean valid = !label.isEmpty() && !label.contains("**");
            for (int i = 0; i < label.length() && valid; i++) {
                valid = RefererParts.isHostChar(label.charAt(i)) || label.charAt(i) == '*';
            }
            if (!valid) {
                throw invalid(pattern, expected);
            }
            labels.add(label);
            if (dot < 0) {
                return labels.toArray(String[]::new);
            }
            start = dot + 1;
        }
    }

    private static List<String> compilePath(String pattern, String path) {
        String trimmed = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        List<String> segments = new ArrayList<>();
        int start = 1;
        while (true) {
            int slash = trimmed.indexOf('/', start);
            String segment = trimmed.substring(start, slash < 0 ? trimmed.length() : slash);
            if (segment.isEmpty() && trimmed.length() > 1
                    || segment.contains("**") && !segment.equals("**")) {
                throw invalid(pattern, "a path of non-empty segments, with * within a segment and ** as a "
                        + "whole segment, e.g. https://app.example.com/docs/**");
            }
            segments.add(segment);
            if (slash < 0) {
                return segments;
            }
            start = slash + 1;
        }
    }

    private static IllegalArgumentException invalid(String pattern, String expected) {
        return new IllegalArgumentException(
                "\"" + pattern + "\" is not a valid referrer pattern (expected: " + expected + ")");
    }

    /**
     * The lower-case host a matching Referer must have (one trailing {@code .} aside), when the pattern's host has no
     * {@code *}; else null.
     */
    @Nullable String exactHost() {
        for (String label : labels) {
            if (label.indexOf('*') >= 0) {
                return null;
            }
        }
        return String.join(".", labels);
    }

    /**
     * When only the first label of the pattern's host has a {@code *}: what a matching Referer's host must be after its
     * first label and dot (lower-case), since {@code *} never crosses a {@code .}; else null.
     */
    @Nullable String hostAfterFirstLabel() {
        if (labels.length < 2 || labels[0].indexOf('*') < 0) {
            return null;
        }
        for (int i = 1; i < labels.length; i++) {
            if (labels[i].indexOf('*') >= 0) {
                return null;
            }
        }
        return String.join(".", List.of(labels).subList(1, labels.length));
    }

    /** Whether the parsed {@code referer} matches; allocation-free. */
    boolean matches(String referer, long parts) {
        boolean https = RefererParts.isHttps(referer);
        if (scheme != ANY && scheme == HTTPS != https) {
            return false;
        }
        int defaultPort = https ? 443 : 80;
        int refererPort = RefererParts.port(parts);
        if ((port == 0 ? defaultPort : port) != (refererPort == 0 ? defaultPort : refererPort)) {
            return false;
        }
        int pathStart = RefererParts.pathStart(parts);
        int pathEnd = RefererParts.pathEnd(parts);
        return hostMatches(referer, https ? 8 : 7, RefererParts.hostEnd(parts))
                && (pathStart == pathEnd ? path.matches("/", 0, 1) : path.matches(referer, pathStart, pathEnd));
    }

    private boolean hostMatches(String referer, int start, int end) {
        int p = start;
        for (String label : labels) {
            if (p > end) {
                return false;
            }
            int dot = referer.indexOf('.', p);
            int labelEnd = dot < 0 || dot > end ? end : dot;
            if (label.startsWith("[")) {
                labelEnd = end;
            }
            if (!labelMatches(label, referer, p, labelEnd)) {
                return false;
            }
            p = labelEnd + 1;
        }
        return p > end;
    }

    /** The classic one-star-memory wildcard match of a label, comparing ASCII case-insensitively. */
    private static boolean labelMatches(String label, String referer, int start, int end) {
        int length = label.length();
        int g = 0;
        int p = start;
        int starG = -1;
        int starP = -1;
        while (p < end) {
            if (g < length && label.charAt(g) == '*') {
                starG = g++;
                starP = p;
            } else if (g < length && label.charAt(g) == lower(referer.charAt(p))) {
                g++;
                p++;
            } else if (starG >= 0) {
                g = starG + 1;
                p = ++starP;
            } else {
                return false;
            }
        }
        while (g < length && label.charAt(g) == '*') {
            g++;
        }
        return g == length;
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    @Override
    public String toString() {
        return source;
    }
}
