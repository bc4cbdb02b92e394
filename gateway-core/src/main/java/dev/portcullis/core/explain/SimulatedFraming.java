package dev.portcullis.core.explain;

import dev.portcullis.core.config.Limits;
import dev.portcullis.core.http.RequestFraming;
import dev.portcullis.core.http.TargetResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The framing and size checks the server makes on a request head before any rule runs, for a simulated request
 * ({@code explain}, {@code test}) whose headers may include {@code Content-Length} or {@code Transfer-Encoding}: a
 * framing look-alike header name, ambiguous framing ({@link RequestFraming}), a target longer than
 * {@code limits.max_uri_length}, a body where the method has none, a declared length over {@code limits.max_body_size}.
 * A simulated request has no body of its own: its framing headers say what it would carry.
 */
final class SimulatedFraming {
    static final TargetResult.Rejected MALFORMED_REQUEST = new TargetResult.Rejected(400, "malformed_request");
    static final TargetResult.Rejected URI_TOO_LONG = new TargetResult.Rejected(414, "uri_too_long");
    static final TargetResult.Rejected BODY_NOT_ALLOWED = new TargetResult.Rejected(400, "body_not_allowed");
    static final TargetResult.Rejected BODY_TOO_LARGE = new TargetResult.Rejected(413, "body_too_large");

    private SimulatedFraming() {}

    /**
     * A header name the server's decoder refuses ({@link RequestFraming#isLookalikeName}: {@code Transfer_Encoding}):
     * {@link #MALFORMED_REQUEST}, before anything else is read; null when there is none.
     */
    static TargetResult.@Nullable Rejected decoded(Map<String, List<String>> given) {
        for (String name : given.keySet()) {
            byte[] bytes = name.trim().getBytes(StandardCharsets.ISO_8859_1);
            if (RequestFraming.isLookalikeName(bytes, 0, bytes.length)) {
                return MALFORMED_REQUEST;
            }
        }
        return null;
    }

    /** A target longer than the limit ({@link #URI_TOO_LONG}), then a framing problem; null when there is neither. */
    static TargetResult.@Nullable Rejected framing(String target, Map<String, List<String>> given, Limits limits) {
        if (target.length() > limits.maxUriLength()) {
            return URI_TOO_LONG;
        }
        List<Map.Entry<String, String>> lines = SimulatedHeaders.lines(given);
        RequestFraming.Problem problem = RequestFraming.check(
                SimulatedHeaders.values(lines, "transfer-encoding"), SimulatedHeaders.values(lines, "content-length"));
        return problem == null ? null : new TargetResult.Rejected(400, problem.code());
    }

    /**
     * For headers that passed {@link #framing}: a body the method may not carry ({@link #BODY_NOT_ALLOWED}), or a
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
