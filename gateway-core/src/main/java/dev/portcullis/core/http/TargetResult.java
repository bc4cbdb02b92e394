package dev.portcullis.core.http;

import org.jspecify.annotations.Nullable;

/**
 * The outcome of {@link RequestTarget#parse}: a canonical path and raw query, or the reason the target is rejected.
 */
public sealed interface TargetResult {

    /**
     * An acceptable target.
     *
     * @param path the canonical path, used for matching and forwarded upstream
     * @param rawQuery the query exactly as received, without the {@code ?}; null when there was no {@code ?}
     */
    record Accepted(String path, @Nullable String rawQuery) implements TargetResult {

        /** The target to forward: the path, then {@code ?} and the query when there was one. */
        public String uri() {
            return rawQuery == null ? path : path + "?" + rawQuery;
        }
    }

    /**
     * A target answered with {@code status} (400) and logged with {@code reason}, a stable snake_case code.
     */
    record Rejected(int status, String reason) implements TargetResult {

        /** {@code %2F} in the path. */
        public static final Rejected ENCODED_SLASH = new Rejected(400, "encoded_slash");
        /** {@code %5C} in the path. */
        public static final Rejected ENCODED_BACKSLASH = new Rejected(400, "encoded_backslash");
        /** {@code %3B} in the path. */
        public static final Rejected ENCODED_SEMICOLON = new Rejected(400, "encoded_semicolon");
        /** {@code ;} in the path. */
        public static final Rejected SEMICOLON = new Rejected(400, "semicolon");
        /** An encoded control character ({@code %00}-{@code %1F}, {@code %7F}, C1 {@code %C2%80}-{@code %C2%9F}) in the path. */
        public static final Rejected ENCODED_CONTROL = new Rejected(400, "encoded_control");
        /** A {@code %} not followed by two hex digits in the path. */
        public static final Rejected INVALID_ESCAPE = new Rejected(400, "invalid_escape");
        /** Percent-encoded bytes of the path that are not well-formed UTF-8. */
        public static final Rejected INVALID_UTF8 = new Rejected(400, "invalid_utf8");
        /** A space, control character, {@code \}, {@code #} or byte outside printable ASCII anywhere in the target. */
        public static final Rejected BAD_CHARACTER = new Rejected(400, "bad_character");
        /** Neither origin-form nor http(s) absolute-form: {@code *}, authority-form, another scheme. */
        public static final Rejected NOT_ORIGIN_FORM = new Rejected(400, "not_origin_form");
        /** An absolute-form target with an empty authority or one carrying userinfo. */
        public static final Rejected BAD_AUTHORITY = new Rejected(400, "bad_authority");
        /** An absolute-form target whose authority differs from the Host header. */
        public static final Rejected AUTHORITY_MISMATCH = new Rejected(400, "authority_mismatch");
    }
}
