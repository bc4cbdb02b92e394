package dev.portcullis.core.explain;

import dev.portcullis.core.config.Limits;
import dev.portcullis.core.http.MessageSyntax;
import dev.portcullis.core.http.RequestFraming;
import dev.portcullis.core.http.TargetResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The checks the server's decoder and request screen make on a request head before any rule runs, for a simulated
 * request ({@code explain}, {@code test}) whose headers may include {@code Content-Length} or
 * {@code Transfer-Encoding}. The decoder's come first ({@link #decoded}), as on the server, where they fail the
 * decoding before the method is looked at: a request line longer than {@code limits.max_uri_length} and
 * {@link Limits#REQUEST_LINE_OVERHEAD}, a header name that is not a token or is a framing look-alike, and ambiguous
 * framing ({@link RequestFraming}); then, after the method, a target longer than {@code limits.max_uri_length}
 * ({@link #uriLength}), and, after the {@code Connection} check, a body where the method has none or a declared
 * length over {@code limits.max_body_size} ({@link #body}). A simulated request has no body of its own: its framing
 * headers say what it would carry.
 *
 * <p>One order differs from the server's: a {@code Transfer-Encoding} Netty's decoder accepts and the screen refuses
 * ({@code chunked, chunked}, an unknown coding before {@code chunked}) is named here before a bad method or a long
 * target, where the server names those first. Either way the request is refused before any rule runs.
 */
final class SimulatedFraming {
    static final TargetResult.Rejected MALFORMED_REQUEST = new TargetResult.Rejected(400, "malformed_request");
    static final TargetResult.Rejected URI_TOO_LONG = new TargetResult.Rejected(414, "uri_too_long");
    static final TargetResult.Rejected BODY_NOT_ALLOWED = new TargetResult.Rejected(400, "body_not_allowed");
    static final TargetResult.Rejected BODY_TOO_LARGE = new TargetResult.Rejected(413, "body_too_large");
    /** {@code " HTTP/1.1"}: what follows the target on a simulated request line. */
    private static final int VERSION_PART = 9;

    private SimulatedFraming() {}

    /**
     * What fails the server's decoder, in its order: a request line too long to read ({@link #URI_TOO_LONG}), a
     * header name that is not a token or reads as a framing header ({@link #MALFORMED_REQUEST}), then the framing
     * headers ({@link RequestFraming#check}); null when none does.
     */
    static TargetResult.@Nullable Rejected decoded(String method, String target, Map<String, List<String>> given,
            Limits limits) {
        int requestLine = method.length() + 1 + target.length() + VERSION_PART;
        if (requestLine > limits.maxUriLength() + Limits.REQUEST_LINE_OVERHEAD) {
            return URI_TOO_LONG;
        }
        for (String name : given.keySet()) {
            byte[] line = (name + ":").getBytes(StandardCharsets.ISO_8859_1);
            if (!MessageSyntax.isFieldNameBeforeColon(line, 0, line.length - 1)
                    || RequestFraming.isLookalikeName(line, 0, line.length - 1)) {
                return MALFORMED_REQUEST;
            }
        }
        List<Map.Entry<String, String>> lines = SimulatedHeaders.lines(given);
        RequestFraming.Problem problem = RequestFraming.check(
                SimulatedHeaders.values(lines, "transfer-encoding"), SimulatedHeaders.values(lines, "content-length"));
        return problem == null ? null : new TargetResult.Rejected(400, problem.code());
    }

    /** {@link #URI_TOO_LONG} for a target longer than {@code limits.max_uri_length}, checked after the method. */
    static TargetResult.@Nullable Rejected uriLength(String target, Limits limits) {
        return target.length() > limits.maxUriLength() ? URI_TOO_LONG : null;
    }

    /**
     * For headers that passed {@link #decoded}: a body the method may not carry ({@link #BODY_NOT_ALLOWED}), or a
     * declared length over the limit ({@link #BODY_TOO_LARGE}); null when neither.
     */
    static TargetResult.@Nullable Rejected body(String method, Map<String, List<String>> given, Limits limits) {
        List<Map.Entry<String, String>> lines = SimulatedHeaders.lines(given);
        List<String> lengths = SimulatedHeaders.values(lines, "content-length");
        long length = lengths.isEmpty() ? 0 : Long.parseLong(lengths.get(0)); // digits, at most 18: checked
        boolean hasBody = !SimulatedHeaders.values(lines, "transfer-encoding").isEmpty() || length > 0;
        if (hasBody && RequestFraming.forbidsBody(method, limits.allowGetBody())) {
            return BODY_NOT_ALLOWED;
        }
        return length > limits.maxBodySize() ? BODY_TOO_LARGE : null;
    }
}
