package dev.portcullis.server.tunnel;

import dev.portcullis.core.http.WebSocketHandshake;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Recognizes a WebSocket opening handshake (RFC 6455 section 4) on both sides of the proxy: the only
 * upgrade the gateway lets through, and only after the policy allowed the handshake (SPEC 3.7).
 *
 * <p>A request asks for it with {@code GET}, HTTP/1.1, no body, exactly one {@code Upgrade: websocket}
 * (any case), a {@code Connection} header naming {@code upgrade} and exactly one non-empty
 * {@code Sec-WebSocket-Key}. Hop-by-hop removal drops the upgrade headers from every request; for such a
 * request {@link #keep} puts back the ones the upstream needs. Any other upgrade ({@code h2c},
 * {@code websocket, h2c}, no key, a body, HTTP/1.0) is stripped as before.
 *
 * <p>The upstream's {@code 101} switches only when its {@code Sec-WebSocket-Accept} proves that it read
 * the handshake ({@link #accepted}): an upstream that answers {@code 101} and goes on speaking HTTP would
 * otherwise get a raw channel whose requests the policy never sees (WebSocket smuggling).
 */
public final class WebSocketUpgrade {
    /** The {@code Connection} value sent on, in its usual spelling (some servers compare it case-sensitively). */
    private static final AsciiString UPGRADE = AsciiString.cached("Upgrade");

    private WebSocketUpgrade() {}

    /** The GUID that RFC 6455 section 4.2.2 appends to the key before hashing it into the accept value. */
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /**
     * The {@code Sec-WebSocket-Key} of {@code request} (before hop-by-hop removal) when it asks for a WebSocket
     * upgrade the gateway may tunnel; null when it does not.
     */
    public static @Nullable String requested(HttpRequest request, boolean hasBody) {
        if (hasBody || !HttpMethod.GET.equals(request.method()) || !HttpVersion.HTTP_1_1.equals(request.protocolVersion())) {
            return null;
        }
        HttpHeaders headers = request.headers();
        if (!headers.contains(HttpHeaderNames.UPGRADE) || !headers.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)) {
            return null;
        }
        return WebSocketHandshake.key(headers.getAll(HttpHeaderNames.UPGRADE),
                headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true),
                headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY));
    }

    /**
     * Sets the upgrade headers again after hop-by-hop removal, for a request that {@link #requested} the upgrade
     * with {@code key}: the upstream gets the very key its answer is checked against.
     */
    public static void keep(HttpHeaders headers, String key) {
        keep(headers);
        headers.set(HttpHeaderNames.SEC_WEBSOCKET_KEY, key);
    }

    /** Sets {@code Upgrade: websocket} and {@code Connection: Upgrade}. */
    static void keep(HttpHeaders headers) {
        headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        headers.set(HttpHeaderNames.CONNECTION, UPGRADE);
    }

    /**
     * True when a {@code 101} from the upstream switches to WebSocket (and not to something else) in answer to
     * the handshake with {@code key}: exactly one {@code Sec-WebSocket-Accept}, equal to
     * base64(SHA-1(key + GUID)).
     */
    public static boolean accepted(HttpResponse response, String key) {
        HttpHeaders headers = response.headers();
        String upgrade = headers.get(HttpHeaderNames.UPGRADE);
        if (response.status().code() != 101 || upgrade == null
                || !HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(upgrade.trim())) {
            return false;
        }
        List<String> accept = headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        return accept.size() == 1 && accept.get(0).trim().equals(acceptFor(key));
    }

    /** The {@code Sec-WebSocket-Accept} an upstream must send for {@code key} (RFC 6455 section 4.2.2). */
    static String acceptFor(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }
}
