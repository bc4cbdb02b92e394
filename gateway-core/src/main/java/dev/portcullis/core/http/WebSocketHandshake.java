package dev.portcullis.core.http;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The headers of a WebSocket opening handshake (RFC 6455 section 4), the one upgrade the gateway tunnels: exactly one
 * {@code Upgrade: websocket} (any case), a {@code Connection} naming {@code upgrade} and exactly one non-empty
 * {@code Sec-WebSocket-Key}. The server's handshake check and the offline simulation of a request both ask here; the
 * request must also be a {@code GET} over HTTP/1.1 without a body, which each checks on its own request.
 */
public final class WebSocketHandshake {
    private WebSocketHandshake() {}

    /**
     * The handshake's key (trimmed), or null when the headers do not ask for a WebSocket.
     *
     * @param upgrade the {@code Upgrade} lines
     * @param connectionNamesUpgrade whether a {@code Connection} line names {@code upgrade}
     * @param keys the {@code Sec-WebSocket-Key} lines
     */
    public static @Nullable String key(List<String> upgrade, boolean connectionNamesUpgrade, List<String> keys) {
        boolean handshake = upgrade.size() == 1 && isWebSocket(upgrade.get(0).trim())
                && connectionNamesUpgrade && keys.size() == 1 && !keys.get(0).isBlank();
        return handshake ? keys.get(0).trim() : null;
    }

    /** {@code websocket} in any ASCII case (no other letter folds to it). */
    private static boolean isWebSocket(String value) {
        String expected = "websocket";
        if (value.length() != expected.length()) {
            return false;
        }
        for (int i = 0; i < expected.length(); i++) {
            char c = value.charAt(i);
            if ((c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c) != expected.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
