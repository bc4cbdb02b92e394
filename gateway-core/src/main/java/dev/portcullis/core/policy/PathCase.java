package dev.portcullis.core.policy;

import dev.portcullis.core.http.TargetResult;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Case folding of canonical paths and globs for {@code upstream.case_insensitive_paths} (SPEC 3.4), and the paths
 * such a policy refuses: a segment that ends in a dot or a space.
 */
public final class PathCase {

    /*
     * Implementation notes: canonical paths (RequestTarget) and canonical globs (PathGlob) are
     * ASCII: other characters are percent-encoded as UTF-8 with upper-case hex digits. Folding
     * lower-cases ASCII letters, leaves every escape of an ASCII byte as it is (its hex digits
     * stay upper case: they are not letters of the path), and decodes each run of escapes of
     * non-ASCII bytes, folds it code point by code point and encodes it again in canonical form
     * (a fold that yields an unreserved ASCII character, such as KELVIN SIGN -> "k", is written
     * plainly, as the canonicalizer would have). The fold of a code point is
     * toLowerCase(toUpperCase(cp)), the simple case folding that String.equalsIgnoreCase, .NET's
     * OrdinalIgnoreCase and JavaScript's /i use; it never changes the length of a character
     * sequence and never depends on the neighbours (no final-sigma rule), so a glob's literal
     * parts fold exactly as the same characters do inside a path. A run that is not valid UTF-8
     * (only a glob can hold one; it never matches a path) is kept as it is. A string without
     * upper-case ASCII letters or non-ASCII escapes is returned as it is, without allocating.
     */

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /**
     * Where paths match regardless of case, a segment that ends in {@code .} or an encoded space: Windows drops them
     * from names (IIS and files on NTFS serve {@code /admin./x} as {@code /admin/x}), the other case-insensitive
     * upstreams (Express, ASP.NET Core on Linux) do not, so no one reading of such a path is safe to match on: deny
     * rules would miss it on the former, allow rules widen on the latter.
     */
    public static final TargetResult.Rejected SEGMENT_ENDS_IN_DOT_OR_SPACE =
            new TargetResult.Rejected(400, "segment_ends_in_dot_or_space");

    private PathCase() {}

    /**
     * {@code target}, or {@link #SEGMENT_ENDS_IN_DOT_OR_SPACE} when {@code caseInsensitivePaths} and a segment of its
     * canonical path ends in {@code .} or {@code %20}.
     */
    public static TargetResult screen(TargetResult target, boolean caseInsensitivePaths) {
        if (caseInsensitivePaths && target instanceof TargetResult.Accepted accepted
                && hasSegmentEndingInDotOrSpace(accepted.path())) {
            return SEGMENT_ENDS_IN_DOT_OR_SPACE;
        }
        return target;
    }

    /** Whether a segment of a canonical path ends in {@code .} or {@code %20} (dot segments are gone from it). */
    static boolean hasSegmentEndingInDotOrSpace(String path) {
        int n = path.length();
        for (int i = 1; i <= n; i++) {
            if (i == n || path.charAt(i) == '/') {
                if (path.charAt(i - 1) == '.' || i >= 3 && path.startsWith("%20", i - 3)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The case fold of a canonical path or glob; {@code path} itself when it has no upper-case or non-ASCII letter. */
    public static String fold(String path) {
        int first = firstToFold(path);
        if (first < 0) {
            return path;
        }
        int n = path.length();
        StringBuilder sb = new StringBuilder(n + 8);
        sb.append(path, 0, first);
        int i = first;
        while (i < n) {
            char c = path.charAt(i);
            int b = c == '%' ? escapedByte(path, i) : -1;
            if (b >= 0x80) {
                i = foldRun(path, i, sb);
            } else if (b >= 0) {
                sb.append(path, i, i + 3);
                i += 3;
            } else {
                sb.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
                i++;
            }
        }
        return sb.toString();
    }

    private static int firstToFold(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c >= 'A' && c <= 'Z' || c == '%' && escapedByte(path, i) >= 0x80) {
                return i;
            }
            if (c == '%' && escapedByte(path, i) >= 0) {
                i += 2;
            }
        }
        return -1;
    }

    /** Folds the run of non-ASCII escapes starting at {@code start} into {@code sb}; returns where the run ends. */
    private static int foldRun(String path, int start, StringBuilder sb) {
        int end = start;
        while (end < path.length() && path.charAt(end) == '%' && escapedByte(path, end) >= 0x80) {
            end += 3;
        }
        byte[] bytes = new byte[(end - start) / 3];
        for (int k = 0; k < bytes.length; k++) {
            bytes[k] = (byte) escapedByte(path, start + 3 * k);
        }
        CharBuffer decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            sb.append(path, start, end);
            return end;
        }
        String text = decoded.toString();
        for (int k = 0; k < text.length(); ) {
            int codePoint = text.codePointAt(k);
            k += Character.charCount(codePoint);
            int folded = Character.toLowerCase(Character.toUpperCase(codePoint));
            for (byte b : new String(Character.toChars(folded)).getBytes(StandardCharsets.UTF_8)) {
                appendByte(sb, b & 0xFF);
            }
        }
        return end;
    }

    private static void appendByte(StringBuilder sb, int b) {
        boolean unreserved = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                || b == '-' || b == '.' || b == '_' || b == '~';
        if (unreserved) {
            sb.append(b >= 'A' && b <= 'Z' ? (char) (b + ('a' - 'A')) : (char) b);
        } else {
            sb.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
        }
    }

    /** The byte escaped at {@code i} (a {@code %}), or -1 when no two hex digits follow. */
    private static int escapedByte(String s, int i) {
        if (i + 2 >= s.length() || s.charAt(i + 1) > 'f' || s.charAt(i + 2) > 'f') {
            return -1;
        }
        int high = Character.digit(s.charAt(i + 1), 16);
        int low = Character.digit(s.charAt(i + 2), 16);
        return high < 0 || low < 0 ? -1 : high << 4 | low;
    }
}
