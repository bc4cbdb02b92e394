package dev.portcullis.core.http;

import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * How a request's body is framed, and the framing the gateway refuses with 400 before any rule runs (README "Status
 * codes"): exactly one of nothing, one {@code Content-Length} of digits, or one {@code Transfer-Encoding} line of known
 * content codings ending in a single final {@code chunked}; no header name that reads as a framing header once case,
 * {@code -} and {@code _} are ignored unless it is that header; no body where the method has none. The server's
 * decoder and request screen, and the offline simulation of a request ({@code explain}, {@code test}), both ask here.
 */
public final class RequestFraming {

    /** Why a request's framing is refused; each is answered with 400 and its reason code in the access log. */
    public enum Problem {
        /** {@code Transfer-Encoding} repeated, or not a list of known codings ending in one final {@code chunked}. */
        BAD_TRANSFER_ENCODING("bad_transfer_encoding"),
        /** {@code Transfer-Encoding} and {@code Content-Length} together. */
        AMBIGUOUS_FRAMING("ambiguous_framing"),
        /** {@code Content-Length} repeated, or not digits. */
        BAD_CONTENT_LENGTH("bad_content_length");

        private final String code;

        Problem(String code) {
            this.code = code;
        }

        /** The reason code the access log shows. */
        public String code() {
            return code;
        }
    }

    private static final String CONTENT_LENGTH = "content-length";
    private static final String TRANSFER_ENCODING = "transfer-encoding";
    private static final String CONTENT_LENGTH_FOLDED = "contentlength";
    private static final String TRANSFER_ENCODING_FOLDED = "transferencoding";
    private static final List<String> CONTENT_CODINGS =
            List.of("gzip", "x-gzip", "deflate", "compress", "x-compress", "br", "zstd");

    private RequestFraming() {}

    /**
     * The problem with a request's framing headers, or null when it is framed unambiguously.
     *
     * @param transferEncodings the {@code Transfer-Encoding} lines, in order (empty for none)
     * @param contentLengths the {@code Content-Length} lines, in order (empty for none)
     */
    public static @Nullable Problem check(List<String> transferEncodings, List<String> contentLengths) {
        if (!transferEncodings.isEmpty()) {
            if (transferEncodings.size() != 1 || !endsInChunked(transferEncodings.get(0))) {
                return Problem.BAD_TRANSFER_ENCODING;
            }
            return contentLengths.isEmpty() ? null : Problem.AMBIGUOUS_FRAMING;
        }
        if (!contentLengths.isEmpty() && (contentLengths.size() != 1 || !isDigits(contentLengths.get(0)))) {
            return Problem.BAD_CONTENT_LENGTH;
        }
        return null;
    }

    /** Whether a request of {@code method} may not carry a body: GET (unless {@code allowGetBody}), HEAD, OPTIONS, TRACE. */
    public static boolean forbidsBody(String method, boolean allowGetBody) {
        if (method.equals("GET")) {
            return !allowGetBody;
        }
        return method.equals("HEAD") || method.equals("OPTIONS") || method.equals("TRACE");
    }

    /**
     * Whether the header name in {@code line[start, start + length)} reads as {@code Content-Length} or
     * {@code Transfer-Encoding} once case, {@code -} and {@code _} are ignored ({@code Transfer_Encoding},
     * {@code Content---Length}) but is not exactly that name: an upstream that folds {@code _} to {@code -} would frame
     * the body differently. Bytes are read as ISO-8859-1; allocation-free.
     */
    public static boolean isLookalikeName(byte[] line, int start, int length) {
        return length >= CONTENT_LENGTH_FOLDED.length()
                && (foldsTo(line, start, length, CONTENT_LENGTH_FOLDED, CONTENT_LENGTH)
                        || foldsTo(line, start, length, TRANSFER_ENCODING_FOLDED, TRANSFER_ENCODING));
    }

    /** True when the name equals {@code folded} ignoring case, '-' and '_', but is not exactly {@code exact}. */
    private static boolean foldsTo(byte[] line, int start, int length, String folded, String exact) {
        int j = 0;
        boolean isExact = length == exact.length();
        for (int i = 0; i < length; i++) {
            byte b = line[start + i];
            char lower = (char) (b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b & 0xff);
            if (isExact && lower != exact.charAt(i)) {
                isExact = false;
            }
            if (b == '-' || b == '_') {
                continue;
            }
            if (j >= folded.length() || lower != folded.charAt(j)) {
                return false;
            }
            j++;
        }
        return j == folded.length() && !isExact;
    }

    private static boolean endsInChunked(String value) {
        int start = 0;
        while (true) {
            int comma = value.indexOf(',', start);
            boolean last = comma < 0;
            String coding = value.substring(start, last ? value.length() : comma).trim().toLowerCase(Locale.ROOT);
            if (last) {
                return coding.equals("chunked");
            }
            if (!CONTENT_CODINGS.contains(coding)) {
                return false;
            }
            start = comma + 1;
        }
    }

    private static boolean isDigits(String value) {
        if (value.isEmpty() || value.length() > 18) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}
