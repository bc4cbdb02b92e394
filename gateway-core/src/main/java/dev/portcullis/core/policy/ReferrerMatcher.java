package dev.portcullis.core.policy;

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
     * Implementation notes: the Referer is parsed in place, once per request (AccessRequest keeps
     * the parse for every referrers condition of every rule), into positions packed
     * into one long (RefererParts), which is why a Referer of 65535 characters or more is not parsed.
     * Each compiled UrlGlob then reads the header string through those positions, so matching allocates
     * nothing (except that a bracketed IPv6 host is validated by parsing it into an IpAddress). The host
     * is compared label by label ("*" never crosses a "."), the path by a PathGlob over a region of the
     * string.
     */

    /** The header read. */
    public static final String HEADER = "Referer";

    private static final String NONE = "none";
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

    /** Whether {@code none} is one of the patterns. */
    boolean matchesNone() {
        return matchesNone;
    }

    /** The compiled patterns other than {@code none}. */
    List<UrlGlob> globs() {
        return List.of(globs);
    }

    @Override
    public boolean matches(AccessRequest request) {
        String referer = request.referer();
        if (referer == null) {
            return matchesNone;
        }
        return firstMatch(referer, request.refererParts()) != null;
    }

    private @Nullable UrlGlob firstMatch(String referer, long parts) {
        if (parts == RefererParts.INVALID) {
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
        long parts = RefererParts.parse(referer);
        UrlGlob glob = firstMatch(referer, parts);
        return glob == null ? explainFailure(request) : "referer " + display(referer, parts) + " matches " + glob;
    }

    @Override
    public String explainFailure(AccessRequest request) {
        String referer = request.headers().first(HEADER);
        String shown = referer == null ? "(absent)" : display(referer, RefererParts.parse(referer));
        return "referer " + shown + " matches none of " + Explain.list(sources);
    }

    /**
     * The Referer as matched (lower-case scheme and host, no default port, no query or fragment), or for one that
     * does not parse, quoted and cut before any query and after {@value #MAX_SHOWN} characters, so that the log
     * never shows a query string.
     */
    private static String display(String referer, long parts) {
        if (parts == RefererParts.INVALID) {
            int end = referer.length();
            for (int i = 0; i < end; i++) {
                if (referer.charAt(i) == '?' || referer.charAt(i) == '#') {
                    end = i;
                }
            }
            String shown = end > MAX_SHOWN ? referer.substring(0, MAX_SHOWN) + "..." : referer.substring(0, end);
            return "\"" + shown + "\" (not an absolute http(s) URL)";
        }
        boolean https = RefererParts.isHttps(referer);
        int hostStart = https ? 8 : 7;
        int port = RefererParts.port(parts);
        int pathStart = RefererParts.pathStart(parts);
        int pathEnd = RefererParts.pathEnd(parts);
        return (https ? "https://" : "http://")
                + referer.substring(hostStart, RefererParts.hostEnd(parts)).toLowerCase(Locale.ROOT)
                + (port == 0 ? "" : ":" + port)
                + (pathStart == pathEnd ? "/" : referer.substring(pathStart, pathEnd));
    }

    @Override
    public String toString() {
        return "referrers " + Explain.list(sources);
    }
}
