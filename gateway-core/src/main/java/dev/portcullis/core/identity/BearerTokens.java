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
        int start = 0;
        int end = authorization.length();
        while (start < end && isWhitespace(authorization.charAt(start))) {
            start++;
        }
        while (end > start && isWhitespace(authorization.charAt(end - 1))) {
            end--;
        }
        if (end - start < 6 || !authorization.regionMatches(true, start, "Bearer", 0, 6)) {
            return null;
        }
        int i = start + 6;
        if (i == end) {
            return "";
        }
        if (!isWhitespace(authorization.charAt(i))) {
            return null;
        }
        while (i < end && isWhitespace(authorization.charAt(i))) {
            i++;
        }
        return authorization.substring(i, end);
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }
}
