package dev.portcullis.core.http;

import dev.portcullis.core.http.TargetResult.Accepted;
import dev.portcullis.core.http.TargetResult.Rejected;
import org.jspecify.annotations.Nullable;

/**
 * The request-target canonicalization of SPEC 3.4, which makes the policy and the upstream see the same path.
 */
public final class RequestTarget {

    /*
     * Implementation notes: parsing runs in two passes over the path. The first validates and
     * notes whether anything must change: an escape to decode or upper-case, an empty segment,
     * a "." or ".." segment. Most paths need nothing, and are returned as the very string
     * received (or a substring of it). Otherwise the second pass rebuilds the path segment by
     * segment, decoding unreserved escapes first so that "%2e%2E" is resolved like "..", and
     * never climbs above the root. Each escape is decoded exactly once, so "%252F" stays "%252F".
     *
     * Escapes of non-ASCII bytes stay encoded but must form well-formed UTF-8 (RFC 3629: no
     * overlong forms, surrogates or values above U+10FFFF), the way "%C0%AF" once smuggled a
     * slash past IIS.
     */

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** Pseudo-rejection from {@link #validate}, never returned by {@link #parse}: valid, but not canonical. */
    private static final Rejected NEEDS_REWRITE = new Rejected(400, "needs_rewrite");

    private RequestTarget() {
    }

    /**
     * Validates and canonicalizes a request target.
     *
     * @param rawTarget the request-target exactly as received
     * @param host the Host header value, or null when there was none
     */
    public static TargetResult parse(String rawTarget, @Nullable String host) {
        int n = rawTarget.length();
        for (int i = 0; i < n; i++) {
            char c = rawTarget.charAt(i);
            if (c <= ' ' || c > '~' || c == '\\' || c == '#') {
                return Rejected.BAD_CHARACTER;
            }
        }
        int pathStart = 0;
        if (n == 0 || rawTarget.charAt(0) != '/') {
            int authorityStart = rawTarget.regionMatches(true, 0, "http://", 0, 7) ? 7
                    : rawTarget.regionMatches(true, 0, "https://", 0, 8) ? 8 : -1;
            if (authorityStart < 0) {
                return Rejected.NOT_ORIGIN_FORM;
            }
            int authorityEnd = authorityStart;
            while (authorityEnd < n && rawTarget.charAt(authorityEnd) != '/' && rawTarget.charAt(authorityEnd) != '?') {
                if (rawTarget.charAt(authorityEnd++) == '@') {
                    return Rejected.BAD_AUTHORITY;
                }
            }
            int length = authorityEnd - authorityStart;
            if (length == 0) {
                return Rejected.BAD_AUTHORITY;
            }
            if (host == null || host.length() != length
                    || !rawTarget.regionMatches(true, authorityStart, host, 0, length)) {
                return Rejected.AUTHORITY_MISMATCH;
            }
            pathStart = authorityEnd;
        }
        int question = rawTarget.indexOf('?', pathStart);
        int pathEnd = question < 0 ? n : question;
        String rawQuery = question < 0 ? null : rawTarget.substring(question + 1);
        if (pathStart == pathEnd) {
            return new Accepted("/", rawQuery);
        }
        Rejected rejected = validate(rawTarget, pathStart, pathEnd);
        if (rejected != null) {
            return rejected != NEEDS_REWRITE ? rejected
                    : new Accepted(rewrite(rawTarget, pathStart, pathEnd), rawQuery);
        }
        String path = pathStart == 0 && pathEnd == n ? rawTarget : rawTarget.substring(pathStart, pathEnd);
        return new Accepted(path, rawQuery);
    }

    /** Null for a canonical path, {@link #NEEDS_REWRITE} for a valid one that is not, else the rejection. */
    private static @Nullable Rejected validate(String s, int start, int end) {
        boolean rewrite = false;
        int continuations = 0;
        int lower = 0x80;
        int upper = 0xBF;
        boolean c1 = false; // the escape before was %C2, the lead byte of U+0080-U+00BF
        int segmentStart = start + 1;
        for (int i = start + 1; i <= end; i++) {
            char c = i < end ? s.charAt(i) : '/';
            if (c == '%') {
                if (i + 2 >= end) {
                    return Rejected.INVALID_ESCAPE;
                }
                int high = hexDigit(s.charAt(i + 1));
                int low = hexDigit(s.charAt(i + 2));
                if (high < 0 || low < 0) {
                    return Rejected.INVALID_ESCAPE;
                }
                int b = high << 4 | low;
                if (b == '/') {
                    return Rejected.ENCODED_SLASH;
                }
                if (b == '\\') {
                    return Rejected.ENCODED_BACKSLASH;
                }
                if (b == ';') {
                    return Rejected.ENCODED_SEMICOLON;
                }
                if (b < 0x20 || b == 0x7F) {
                    return Rejected.ENCODED_CONTROL;
                }
                rewrite |= isUnreserved(b) || s.charAt(i + 1) >= 'a' || s.charAt(i + 2) >= 'a';
                if (continuations > 0) {
                    if (b < lower || b > upper) {
                        return Rejected.INVALID_UTF8;
                    }
                    if (c1 && b < 0xA0) {
                        return Rejected.ENCODED_CONTROL; // U+0080-U+009F, the C1 controls
                    }
                    c1 = false;
                    continuations--;
                    lower = 0x80;
                    upper = 0xBF;
                } else if (b >= 0x80) {
                    if (b >= 0xC2 && b <= 0xDF) {
                        continuations = 1;
                        c1 = b == 0xC2;
                    } else if (b >= 0xE0 && b <= 0xEF) {
                        continuations = 2;
                        lower = b == 0xE0 ? 0xA0 : 0x80;
                        upper = b == 0xED ? 0x9F : 0xBF;
                    } else if (b >= 0xF0 && b <= 0xF4) {
                        continuations = 3;
                        lower = b == 0xF0 ? 0x90 : 0x80;
                        upper = b == 0xF4 ? 0x8F : 0xBF;
                    } else {
                        return Rejected.INVALID_UTF8;
                    }
                }
                i += 2;
                continue;
            }
            if (continuations > 0) {
                return Rejected.INVALID_UTF8;
            }
            if (c == ';') {
                return Rejected.SEMICOLON;
            }
            if (c == '/') {
                int length = i - segmentStart;
                rewrite |= length == 0 && i < end
                        || length == 1 && s.charAt(segmentStart) == '.'
                        || length == 2 && s.charAt(segmentStart) == '.' && s.charAt(segmentStart + 1) == '.';
                segmentStart = i + 1;
            }
        }
        return rewrite ? NEEDS_REWRITE : null;
    }

    /** Rebuilds a valid path: decodes unreserved escapes, upper-cases the others, resolves dot and empty segments. */
    private static String rewrite(String s, int start, int end) {
        StringBuilder out = new StringBuilder(end - start);
        boolean trailingSlash = false;
        int i = start + 1;
        while (i <= end) {
            int mark = out.length();
            out.append('/');
            while (i < end && s.charAt(i) != '/') {
                char c = s.charAt(i);
                if (c == '%') {
                    int b = hexDigit(s.charAt(i + 1)) << 4 | hexDigit(s.charAt(i + 2));
                    if (isUnreserved(b)) {
                        out.append((char) b);
                    } else {
                        out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
                    }
                    i += 3;
                } else {
                    out.append(c);
                    i++;
                }
            }
            int length = out.length() - mark - 1;
            boolean dot = length == 1 && out.charAt(mark + 1) == '.';
            boolean dotDot = length == 2 && out.charAt(mark + 1) == '.' && out.charAt(mark + 2) == '.';
            if (length == 0 || dot || dotDot) {
                out.setLength(mark);
                if (dotDot) {
                    out.setLength(Math.max(out.lastIndexOf("/"), 0));
                }
                trailingSlash = i >= end;
            }
            i++;
        }
        if (out.length() == 0 || trailingSlash) {
            out.append('/');
        }
        return out.toString();
    }

    private static boolean isUnreserved(int b) {
        return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                || b == '-' || b == '.' || b == '_' || b == '~';
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        char lower = (char) (c | 0x20);
        return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
    }
}
