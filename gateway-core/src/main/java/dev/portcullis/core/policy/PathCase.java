package dev.portcullis.core.policy;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Folding of canonical paths and globs for {@code upstream.case_insensitive_paths} (SPEC 3.4): the case of every
 * letter, and the dots and spaces that end a segment, which Windows drops from file and directory names (IIS and
 * files on NTFS serve {@code /admin./x} and {@code /admin%20/x} as {@code /admin/x}).
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
     * Then every segment loses the dots and encoded spaces (%20) it ends with, after the case
     * fold; dot segments are gone from canonical paths, so only names such as "admin." or
     * "x%20." lose them, and a segment of nothing else ("...") is dropped with its slash (the
     * canonical path has no empty segment). A path with no such segment is, again, returned as
     * it is.
     */

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private PathCase() {}

    /**
     * The fold of a canonical path or glob: case folded, and no segment ending in a dot or a space; {@code path}
     * itself when there is nothing to fold.
     */
    public static String fold(String path) {
        return trimSegments(foldCase(path));
    }

    private static String foldCase(String path) {
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

    /** {@code path} without the dots and {@code %20}s that end any of its segments. */
    private static String trimSegments(String path) {
        int n = path.length();
        StringBuilder sb = null;
        int copied = 0;
        for (int start = 0; start <= n; ) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = n;
            }
            int kept = end;
            while (kept > start) {
                if (path.charAt(kept - 1) == '.') {
                    kept--;
                } else if (kept - 3 >= start && path.startsWith("%20", kept - 3)) {
                    kept -= 3;
                } else {
                    break;
                }
            }
            if (kept < end) {
                if (sb == null) {
                    sb = new StringBuilder(n);
                }
                sb.append(path, copied, kept);
                // a segment left empty goes with its slash, as repeated slashes are merged
                copied = kept == start && end < n ? end + 1 : end;
            }
            start = end + 1;
        }
        return sb == null ? path : sb.append(path, copied, n).toString();
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
