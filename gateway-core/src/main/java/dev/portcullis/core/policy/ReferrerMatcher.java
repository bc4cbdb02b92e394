package dev.portcullis.core.policy;

import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A condition that holds when the request's {@code Referer} matches one of a list of patterns ({@code referrers}):
 * {@code none} for a request without a Referer, or a glob over {@code scheme://host[:port]/path}.
 *
 * <p>Patterns: the scheme is {@code http}, {@code https} or {@code *} (either); in the host {@code *} matches within
 * one label ({@code https://*.example.com/**} matches {@code a.example.com} but neither {@code example.com} nor
 * {@code a.b.example.com}); an optional port; a path in which {@code *} matches within one segment and {@code **} as a
 * whole segment matches any number of segments. Scheme and host compare case-insensitively, the path
 * case-sensitively. A pattern without a path, or with a query or fragment, is rejected.
 *
 * <p>Matching: the first {@code Referer} value is read as an absolute http(s) URL; its query and fragment are
 * ignored, an empty path is {@code /}, one trailing {@code /} of the path and one trailing {@code .} of the host are
 * ignored, and a default port ({@code :80} for http, {@code :443} for https) is the same as none. The path is matched
 * as sent, without normalization: a browser sends it normalized, and anything else could send any Referer anyway. A
 * missing Referer matches only {@code none}; a present one that is not an absolute http(s) URL (including an empty
 * value, one with user info such as {@code https://app.example.com@evil.example/}, or one of 65535 characters or
 * more) matches nothing, not even {@code none}.
 */
public final class ReferrerMatcher implements RequestMatcher {

    /*
     * Implementation notes: the Referer is parsed in place, once per evaluation, into four positions
     * packed into one long (host end, path start, path end, explicit port), which is why a Referer of
     * 65535 characters or more is not parsed. Each compiled UrlGlob then reads the header string through
     * those positions, so matching allocates nothing (except that a bracketed IPv6 host is validated by
     * parsing it into an IpAddress). The host is compared label by label ("*" never crosses
     * a "."), the path segment by segment with the PathGlob algorithm over a region of the string.
     */

    /** The header read. */
    public static final String HEADER = "Referer";

    private static final String NONE = "none";
    private static final int MAX_LENGTH = 0xFFFF;
    private static final long INVALID = -1L;
    private static final int MAX_SHOWN = 100;

    private final List<String> sources;
    private final boolean matchesNone;
    private final UrlGlob[] globs;

    private ReferrerMatcher(List<String> sources, boolean matchesNone, List<UrlGlob> globs) {
        this.sources = sources;
        this.matchesNone = matchesNone;
        this.globs = globs.toArray(UrlGlob[]::new);
    }

    /**
     * A matcher for {@code patterns}, each {@code none} or an absolute http(s) URL glob.
     *
     * @throws IllegalArgumentException for an empty list or an invalid pattern, naming it and what was expected
     */
    public static ReferrerMatcher of(List<String> patterns) {
        if (patterns.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid referrers condition "
                    + "(expected: at least one pattern, e.g. none or https://app.example.com/**)");
        }
        boolean none = false;
        List<UrlGlob> globs = new ArrayList<>();
        for (String pattern : patterns) {
            if (pattern.equals(NONE)) {
                none = true;
            } else {
                globs.add(UrlGlob.compile(pattern));
            }
        }
        return new ReferrerMatcher(List.copyOf(patterns), none, globs);
    }

    /** The patterns as written. */
    public List<String> patterns() {
        return sources;
    }

    @Override
    public boolean matches(AccessRequest request) {
        String referer = request.headers().first(HEADER);
        if (referer == null) {
            return matchesNone;
        }
        return firstMatch(referer, parse(referer)) != null;
    }

    private @Nullable UrlGlob firstMatch(String referer, long parts) {
        if (parts == INVALID) {
            return null;
        }
        for (UrlGlob glob : globs) {
            if (glob.matches(referer, parts)) {
                return glob;
            }
        }
        return null;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        String referer = request.headers().first(HEADER);
        if (referer == null) {
            return matchesNone ? "referer (absent) matches none" : explainFailure(request);
        }
        long parts = parse(referer);
        UrlGlob glob = firstMatch(referer, parts);
        return glob == null ? explainFailure(request) : "referer " + display(referer, parts) + " matches " + glob;
    }

    @Override
    public String explainFailure(AccessRequest request) {
        String referer = request.headers().first(HEADER);
        String shown = referer == null ? "(absent)" : display(referer, parse(referer));
        return "referer " + shown + " matches none of " + Explain.list(sources);
    }

    /**
     * The Referer as matched (lower-case scheme and host, no default port, no query or fragment), or for one that
     * does not parse, quoted and cut before any query and after {@value #MAX_SHOWN} characters, so that the log
     * never shows a query string.
     */
    private static String display(String referer, long parts) {
        if (parts == INVALID) {
            int end = referer.length();
            for (int i = 0; i < end; i++) {
                if (referer.charAt(i) == '?' || referer.charAt(i) == '#') {
                    end = i;
                }
            }
            String shown = end > MAX_SHOWN ? referer.substring(0, MAX_SHOWN) + "..." : referer.substring(0, end);
            return "\"" + shown + "\" (not an absolute http(s) URL)";
        }
        boolean https = isHttps(referer);
        int hostStart = https ? 8 : 7;
        int port = port(parts);
        int pathStart = pathStart(parts);
        int pathEnd = pathEnd(parts);
        return (https ? "https://" : "http://")
                + referer.substring(hostStart, hostEnd(parts)).toLowerCase(Locale.ROOT)
                + (port == 0 ? "" : ":" + port)
                + (pathStart == pathEnd ? "/" : referer.substring(pathStart, pathEnd));
    }

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

    static int hostEnd(long parts) {
        return (int) (parts & 0xFFFF);
    }

    static int pathStart(long parts) {
        return (int) (parts >>> 16 & 0xFFFF);
    }

    static int pathEnd(long parts) {
        return (int) (parts >>> 32 & 0xFFFF);
    }

    /** The explicit port, or 0 for the scheme's default. */
    static int port(long parts) {
        return (int) (parts >>> 48 & 0xFFFF);
    }

    private static boolean isHttps(String referer) {
        return referer.charAt(4) == 's' || referer.charAt(4) == 'S';
    }

    private static boolean isHostChar(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }

    @Override
    public String toString() {
        return "referrers " + Explain.list(sources);
    }

    /** One compiled {@code scheme://host[:port]/path} glob. */
    private static final class UrlGlob {

        private static final int HTTP = 0;
        private static final int HTTPS = 1;
        private static final int ANY = 2;

        private final String source;
        private final int scheme;
        /** Lower-case host labels, each possibly with {@code *}; one label for a bracketed IPv6 address. */
        private final String[] labels;
        /** The explicit port, 0 for the scheme's default. */
        private final int port;
        private final String[] segments;
        private final boolean[] anySegments;

        private UrlGlob(String source, int scheme, String[] labels, int port, List<String> segments) {
            this.source = source;
            this.scheme = scheme;
            this.labels = labels;
            this.port = port;
            this.segments = segments.toArray(String[]::new);
            this.anySegments = new boolean[this.segments.length];
            for (int i = 0; i < this.segments.length; i++) {
                anySegments[i] = this.segments[i].equals("**");
            }
        }

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
            return new UrlGlob(pattern, scheme, labels, port, compilePath(pattern, pattern.substring(pathStart)));
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
                    valid = isHostChar(label.charAt(i)) || label.charAt(i) == '*';
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

        /** Whether the parsed {@code referer} matches; allocation-free. */
        boolean matches(String referer, long parts) {
            boolean https = isHttps(referer);
            if (scheme != ANY && scheme == HTTPS != https) {
                return false;
            }
            int defaultPort = https ? 443 : 80;
            int refererPort = port(parts);
            if ((port == 0 ? defaultPort : port) != (refererPort == 0 ? defaultPort : refererPort)) {
                return false;
            }
            int pathStart = pathStart(parts);
            int pathEnd = pathEnd(parts);
            return hostMatches(referer, https ? 8 : 7, hostEnd(parts))
                    && (pathStart == pathEnd ? pathMatches("/", 0, 1) : pathMatches(referer, pathStart, pathEnd));
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

        /** {@link PathGlob#matches}, over the region {@code [start, end)} of {@code path}, which starts with '/'. */
        private boolean pathMatches(String path, int start, int end) {
            int n = end;
            if (n - start > 1 && path.charAt(n - 1) == '/') {
                n--;
            }
            int g = 0;
            int p = start + 1;
            int starG = -1;
            int starP = -1;
            while (true) {
                if (g < segments.length && anySegments[g]) {
                    starG = g++;
                    starP = p;
                    continue;
                }
                if (p > n) {
                    return g == segments.length;
                }
                int segmentEnd = segmentEnd(path, p, n);
                if (g < segments.length && segmentMatches(segments[g], path, p, segmentEnd)) {
                    g++;
                    p = segmentEnd + 1;
                } else if (starG >= 0 && starP <= n) {
                    starP = segmentEnd(path, starP, n) + 1;
                    p = starP;
                    g = starG + 1;
                } else {
                    return false;
                }
            }
        }

        private static int segmentEnd(String path, int start, int end) {
            int slash = path.indexOf('/', start);
            return slash < 0 || slash > end ? end : slash;
        }

        /** Case-sensitive {@code *} matching within one segment. */
        private static boolean segmentMatches(String pattern, String path, int start, int end) {
            return PathGlob.starMatches(pattern, path, start, end);
        }

        @Override
        public String toString() {
            return source;
        }
    }
}
