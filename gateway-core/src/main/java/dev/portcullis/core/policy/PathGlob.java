package dev.portcullis.core.policy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A compiled path glob: {@code *} matches zero or more characters within one segment, {@code **} as a whole segment
 * matches zero or more segments; one trailing {@code /}, of the glob or of the path, is ignored.
 */
public final class PathGlob {

    /*
     * Implementation notes: a glob is compiled to an array of segments and matched against the
     * canonical path (RequestTarget) segment by segment, reading the path in place. "**" is
     * handled like "*" in the classic wildcard algorithm, one level up: remember the last "**"
     * and the path segment it started at, and on a mismatch let it swallow one more segment.
     * Remembering only the last one is enough because a later "**" can absorb anything an
     * earlier one could. "*" inside a segment uses the same algorithm over characters. Neither
     * level recurses or allocates, and both are O(glob x path) at worst. Referrer patterns (UrlGlob)
     * match their path part with a PathGlob of their segments as written, over a region of the Referer.
     *
     * Globs are canonicalized like request paths, so that they can match at all: unreserved
     * escapes are decoded ("%7Euser" -> "~user"), other escapes upper-cased, and non-ASCII
     * characters percent-encoded as UTF-8 ("/café" -> "/caf%C3%A9"). Globs that no canonical
     * path could match ("//", "/./", "/../", encoded "/") are rejected rather than left to
     * silently never match.
     *
     * A trailing "/" is ignored on both sides (SPEC 3.2): the glob drops it when compiled
     * ("/a/" is "/a") and matching reads the path up to its last "/" when it ends in one
     * ("/a/b/" is read as "/a/b"), in place. The root "/" is left as it is. So "/a/b/" matches
     * "/a/b" and "/a/*", and "/a/" no longer matches "/a/*" ("/a" has no segment for "*").
     *
     * A case-insensitive glob is the case-sensitive glob of its PathCase fold; it matches
     * paths folded the same way (Policy folds the request path once, AccessRequest.matchPath).
     */

    private static final String EXAMPLE = ", e.g. /api/*/orders or /admin/**)";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final String source;
    private final boolean caseInsensitive;
    private final String[] segments;
    private final boolean[] anySegments;
    private final boolean[] hasStar;

    private PathGlob(String source, boolean caseInsensitive, List<String> segments) {
        this.source = source;
        this.caseInsensitive = caseInsensitive;
        this.segments = segments.toArray(String[]::new);
        this.anySegments = new boolean[this.segments.length];
        this.hasStar = new boolean[this.segments.length];
        for (int i = 0; i < this.segments.length; i++) {
            anySegments[i] = this.segments[i].equals("**");
            hasStar[i] = this.segments[i].indexOf('*') >= 0;
        }
    }

    /**
     * A case-sensitive glob of already split {@code segments}, each {@code **} or with {@code *} matching within it,
     * taken as they are (not canonicalized); {@code source} is what {@link #toString} shows.
     */
    static PathGlob ofSegments(String source, List<String> segments) {
        return new PathGlob(source, false, segments);
    }

    /** Compiles a case-sensitive glob such as {@code /admin/**}, {@code /api/users/*} or {@code /files/*.pdf}. */
    public static PathGlob compile(String glob) {
        return compile(glob, false);
    }

    /**
     * Compiles a glob; a {@code caseInsensitive} one matches {@link PathCase#fold folded} paths, and is the same glob as
     * one written in any other case.
     */
    public static PathGlob compile(String glob, boolean caseInsensitive) {
        if (glob.isEmpty() || glob.charAt(0) != '/') {
            throw invalid(glob, "a path starting with /" + EXAMPLE);
        }
        String canonical = canonicalize(glob);
        if (caseInsensitive) {
            canonical = PathCase.fold(canonical);
        }
        int length = canonical.length();
        if (length > 2 && canonical.charAt(length - 1) == '/' && canonical.charAt(length - 2) != '/') {
            canonical = canonical.substring(0, canonical.length() - 1);
        }
        List<String> segments = new ArrayList<>();
        int start = 1;
        while (true) {
            int slash = canonical.indexOf('/', start);
            int end = slash < 0 ? canonical.length() : slash;
            String segment = canonical.substring(start, end);
            if (segment.isEmpty() && canonical.length() > 1 || segment.equals(".") || segment.equals("..")) {
                throw invalid(glob, "no empty, . or .. segments, which never occur in a normalized path" + EXAMPLE);
            }
            if (segment.contains("**") && !segment.equals("**")) {
                throw invalid(glob, "** only as a whole segment" + EXAMPLE);
            }
            segments.add(segment);
            if (slash < 0) {
                return new PathGlob(glob, caseInsensitive, segments);
            }
            start = slash + 1;
        }
    }

    private static String canonicalize(String glob) {
        StringBuilder sb = new StringBuilder(glob.length());
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '%') {
                int b = i + 2 < glob.length() ? hexByte(glob.charAt(i + 1), glob.charAt(i + 2)) : -1;
                if (b < 0) {
                    throw invalid(glob, "% followed by two hex digits" + EXAMPLE);
                }
                if (b == '/' || b == '\\' || b == ';' || b < 0x20 || b == 0x7F) {
                    throw invalid(glob, "no encoded /, \\, ; or control characters, which requests may not contain"
                            + EXAMPLE);
                }
                appendByte(sb, b);
                i += 2;
            } else if (c > '~') {
                int codePoint = glob.codePointAt(i);
                if (Character.isSurrogate(c) && Character.charCount(codePoint) == 1) {
                    throw invalid(glob, "well-formed Unicode" + EXAMPLE);
                }
                for (byte b : new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8)) {
                    appendByte(sb, b & 0xFF);
                }
                i += Character.charCount(codePoint) - 1;
            } else if (c <= ' ' || c == '?' || c == '#' || c == '\\' || c == ';') {
                throw invalid(glob, "no whitespace, control characters, ?, #, \\ or ;" + EXAMPLE);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static void appendByte(StringBuilder sb, int b) {
        boolean unreserved = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                || b == '-' || b == '.' || b == '_' || b == '~';
        if (unreserved) {
            sb.append((char) b);
        } else {
            sb.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
        }
    }

    private static int hexByte(char high, char low) {
        int h = Character.digit(high, 16);
        int l = Character.digit(low, 16);
        return h < 0 || l < 0 || high > 'f' || low > 'f' ? -1 : h << 4 | l;
    }

    private static IllegalArgumentException invalid(String glob, String expected) {
        return new IllegalArgumentException("\"" + glob + "\" is not a valid path glob (expected: " + expected);
    }

    /**
     * Whether the canonical {@code path} matches this glob, ignoring one trailing {@code /}; allocation-free. The path of
     * a {@link #caseInsensitive()} glob must be {@link PathCase#fold folded}.
     */
    public boolean matches(String path) {
        return !path.isEmpty() && path.charAt(0) == '/' && matches(path, 0, path.length());
    }

    /**
     * Whether the region {@code [start, end)} of {@code path}, which starts with {@code /}, matches this glob, ignoring
     * one trailing {@code /}; allocation-free.
     */
    boolean matches(String path, int start, int end) {
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
            if (g < segments.length && segmentMatches(g, path, p, segmentEnd)) {
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

    private static int segmentEnd(String path, int start, int length) {
        int slash = path.indexOf('/', start);
        return slash < 0 || slash > length ? length : slash;
    }

    private boolean segmentMatches(int index, String path, int start, int end) {
        String pattern = segments[index];
        int length = pattern.length();
        if (!hasStar[index]) {
            return end - start == length && path.regionMatches(start, pattern, 0, length);
        }
        return starMatches(pattern, path, start, end);
    }

    /** Case-sensitive matching of {@code pattern}, whose {@code *} matches any run of characters, to {@code path[start, end)}. */
    private static boolean starMatches(String pattern, String path, int start, int end) {
        int length = pattern.length();
        int g = 0;
        int p = start;
        int starG = -1;
        int starP = -1;
        while (p < end) {
            if (g < length && pattern.charAt(g) == '*') {
                starG = g++;
                starP = p;
            } else if (g < length && pattern.charAt(g) == path.charAt(p)) {
                g++;
                p++;
            } else if (starG >= 0) {
                g = starG + 1;
                p = ++starP;
            } else {
                return false;
            }
        }
        while (g < length && pattern.charAt(g) == '*') {
            g++;
        }
        return g == length;
    }

    /**
     * The first segment when it is literal (no {@code *}): every path this glob matches has it as its first segment, as
     * {@link #matches(String)} reads it; null when the first segment has a {@code *} or is {@code **}.
     */
    @Nullable String firstLiteralSegment() {
        return hasStar[0] ? null : segments[0];
    }

    /** Whether this glob matches folded paths ({@code upstream.case_insensitive_paths}). */
    public boolean caseInsensitive() {
        return caseInsensitive;
    }

    /** The glob as written. */
    @Override
    public String toString() {
        return source;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof PathGlob other && source.equals(other.source) && caseInsensitive == other.caseInsensitive;
    }

    @Override
    public int hashCode() {
        return source.hashCode() * 31 + Boolean.hashCode(caseInsensitive);
    }
}
