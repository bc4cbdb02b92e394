package dev.portcullis.server.pipeline;

import dev.portcullis.server.http.RequestIds;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Turns an allowed request head into what the upstream receives (SPEC 3.3, 3.7): the canonical
 * target, HTTP/1.1, {@code Expect} removed (the gateway answers {@code 100 Continue} itself),
 * {@code X-Forwarded-For} with the peer appended, {@code X-Forwarded-Proto}, {@code X-Forwarded-Host}
 * and the request id. Hop-by-hop and untrusted forwarding headers were removed before the policy ran.
 *
 * <p>Implementation notes: names and constant values are cached {@link AsciiString}s, whose
 * case-insensitive hash is computed once, and the peer's text is built once per connection.
 */
final class UpstreamRequest {
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
    static final AsciiString FORWARDED = AsciiString.cached("Forwarded");
    private static final AsciiString HTTP = AsciiString.cached("http");

    private UpstreamRequest() {}

    static void rewrite(
            HttpRequest request,
            String uri,
            @Nullable String hostHeader,
            String peerText,
            boolean trustedPeer,
            String requestId,
            String upstreamAuthority) {
        HttpHeaders headers = request.headers();
        request.setUri(uri);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        headers.remove(HttpHeaderNames.EXPECT);
        if (hostHeader == null) {
            // an HTTP/1.0 request without Host: HTTP/1.1 requires one upstream
            headers.set(HttpHeaderNames.HOST, upstreamAuthority);
        }
        List<String> chain = trustedPeer ? headers.getAll(X_FORWARDED_FOR) : List.of();
        headers.set(X_FORWARDED_FOR, chain.isEmpty() ? peerText : String.join(", ", chain) + ", " + peerText);
        if (!trustedPeer || !headers.contains(X_FORWARDED_PROTO)) {
            headers.set(X_FORWARDED_PROTO, HTTP);
        }
        if (!trustedPeer || !headers.contains(X_FORWARDED_HOST)) {
            if (hostHeader != null) {
                headers.set(X_FORWARDED_HOST, hostHeader);
            } else {
                headers.remove(X_FORWARDED_HOST);
            }
        }
        headers.set(RequestIds.HEADER, requestId);
    }
}
