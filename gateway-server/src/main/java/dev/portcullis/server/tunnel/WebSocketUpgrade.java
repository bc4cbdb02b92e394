package dev.portcullis.server.tunnel;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Recognizes a WebSocket opening handshake (RFC 6455 section 4) on both sides of the proxy: the only
 * upgrade the gateway lets through, and only after the policy allowed the handshake (SPEC 3.7).
 *
 * <p>A request asks for it with {@code GET}, HTTP/1.1, no body, exactly one {@code Upgrade: websocket}
 * (any case) and a {@code Connection} header naming {@code upgrade}. Hop-by-hop removal drops both
 * headers from every request; for such a request {@link #keep} puts back the two the upstream needs.
 * Any other upgrade ({@code h2c}, {@code websocket, h2c}, a body, HTTP/1.0) is stripped as before.
 */
public final class WebSocketUpgrade {
    /** The {@code Connection} value sent on, in its usual spelling (some servers compare it case-sensitively). */
    private static final AsciiString UPGRADE = AsciiString.cached("Upgrade");

    private WebSocketUpgrade() {}

    /** True when {@code request} (before hop-by-hop removal) asks for a WebSocket upgrade the gateway may tunnel. */
    public static boolean requested(HttpRequest request, boolean hasBody) {
        if (hasBody || !HttpMethod.GET.equals(request.method()) || !HttpVersion.HTTP_1_1.equals(request.protocolVersion())) {
            return false;
        }
        HttpHeaders headers = request.headers();
        List<String> upgrade = headers.getAll(HttpHeaderNames.UPGRADE);
        return upgrade.size() == 1
                && HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(upgrade.get(0).trim())
                && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /** Sets the upgrade headers again after hop-by-hop removal, for a request {@link #requested} the upgrade. */
    public static void keep(HttpHeaders headers) {
        headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        headers.set(HttpHeaderNames.CONNECTION, UPGRADE);
    }

    /** True when a {@code 101} from the upstream switches to WebSocket (and not to something else). */
    public static boolean accepted(HttpResponse response) {
        String upgrade = response.headers().get(HttpHeaderNames.UPGRADE);
        return response.status().code() == 101 && upgrade != null
                && HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(upgrade.trim());
    }
}
