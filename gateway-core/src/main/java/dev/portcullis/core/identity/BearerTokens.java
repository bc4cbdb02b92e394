package dev.portcullis.core.identity;

import org.jspecify.annotations.Nullable;

/** Reads the bearer token out of an {@code Authorization} header value (RFC 6750 §2.1). */
public final class BearerTokens {
    private BearerTokens() {}

    /**
     * The bearer token of an {@code Authorization} header value: null when there is no header or its scheme
     * is not {@code Bearer} (case-insensitive), {@code ""} when the scheme has no token.
     */
    public static @Nullable String parse(@Nullable String authorization) {
        if (authorization == null) {
            return null;
        }
        int start = tokenStart(authorization);
        return start < 0 ? null : authorization.substring(start, tokenEnd(authorization));
    }

    /**
     * Where the bearer token of an {@code Authorization} header value starts, or -1 when there is no header or its
     * scheme is not {@code Bearer}; the token ends at {@link #tokenEnd} (equal to the start when it is empty). Lets a
     * caller read the token in place, without the substring {@link #parse} makes.
     */
    public static int tokenStart(@Nullable String authorization) {
        if (authorization == null) {
            return -1;
        }
        int start = 0;
        int end = tokenEnd(authorization);
        while (start < end && isWhitespace(authorization.charAt(start))) {
            start++;
        }
        if (end - start < 6 || !authorization.regionMatches(true, start, "Bearer", 0, 6)) {
            return -1;
        }
        int i = start + 6;
        if (i == end) {
            return i;
        }
        if (!isWhitespace(authorization.charAt(i))) {
            return -1;
        }
        while (i < end && isWhitespace(authorization.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The end of an {@code Authorization} header value without its trailing whitespace. */
    public static int tokenEnd(String authorization) {
        int end = authorization.length();
        while (end > 0 && isWhitespace(authorization.charAt(end - 1))) {
            end--;
        }
        return end;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }
}
