package dev.portcullis.core.http;

/**
 * The RFC 9112 grammar of the parts of an HTTP/1.1 message head that the server's request decoder and its upstream
 * response decoder both hold to, read from the received bytes: the protocol version, and a field name up to its colon.
 *
 * <p>Implementation notes: these run per start line and per header line on the event loop, so they only read bytes
 * (as ISO-8859-1; any byte above 0x7F is outside every set here) and never allocate.
 */
public final class MessageSyntax {
    /*
     * tchar (RFC 9110 5.6.2) as a bit set over 0..127: bit c of TCHAR_LOW (c < 64) or of TCHAR_HIGH (c - 64).
     * tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
     */
    private static final long TCHAR_LOW = bits("!#$%&'*+-.0123456789", 0);
    private static final long TCHAR_HIGH = bits("ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~", 64);

    private MessageSyntax() {}

    /**
     * Whether {@code bytes[start, start + length)} is exactly {@code HTTP/<digit>.<digit>} (RFC 9112 2.3: the
     * HTTP-name is case-sensitive, {@code %s"HTTP"}, so {@code http/1.1} is not a version; one digit each side of the
     * dot).
     */
    public static boolean isHttpVersion(byte[] bytes, int start, int length) {
        return length == 8 && bytes[start] == 'H' && bytes[start + 1] == 'T' && bytes[start + 2] == 'T'
                && bytes[start + 3] == 'P' && bytes[start + 4] == '/' && isDigit(bytes[start + 5])
                && bytes[start + 6] == '.' && isDigit(bytes[start + 7]);
    }

    /**
     * Whether {@code line[start, start + length)} is a field name (RFC 9110 5.1: a non-empty token) that the byte
     * right after it, {@code line[start + length]}, ends with a colon: RFC 9112 5.1 allows no whitespace between the
     * name and the colon. A decoder that ends a name at the first whitespace ({@code X Bad: a}, {@code Name : v}) and
     * skips on to the colon would otherwise invent a field the sender never wrote.
     */
    public static boolean isFieldNameBeforeColon(byte[] line, int start, int length) {
        int end = start + length;
        if (length == 0 || end >= line.length || line[end] != ':') {
            return false;
        }
        for (int i = start; i < end; i++) {
            if (!isTchar(line[i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean isTchar(byte b) {
        return b >= 0 && (b < 64 ? (TCHAR_LOW & (1L << b)) != 0 : (TCHAR_HIGH & (1L << (b - 64))) != 0);
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static long bits(String chars, int offset) {
        long set = 0;
        for (int i = 0; i < chars.length(); i++) {
            set |= 1L << (chars.charAt(i) - offset);
        }
        return set;
    }
}
