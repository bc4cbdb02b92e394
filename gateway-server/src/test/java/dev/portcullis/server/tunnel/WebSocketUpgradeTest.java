package dev.portcullis.server.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

/** Which requests are WebSocket handshakes, and which 101 answers prove the upstream read the handshake. */
class WebSocketUpgradeTest {
    /** The sample of RFC 6455 section 1.3. */
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private static HttpRequest handshake() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws");
        request.headers().set("Upgrade", "websocket").set("Connection", "keep-alive, Upgrade")
                .set("Sec-WebSocket-Version", "13");
        return request;
    }

    private static HttpResponse switching(String... accept) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        response.headers().set("Upgrade", "websocket").set("Connection", "Upgrade");
        for (String value : accept) {
            response.headers().add("Sec-WebSocket-Accept", value);
        }
        return response;
    }

    @Test
    void theAcceptValueIsTheRfcOne() {
        assertThat(WebSocketUpgrade.acceptFor(KEY)).isEqualTo(ACCEPT);
    }

    @Test
    void aHandshakeNeedsExactlyOneKey() {
        HttpRequest request = handshake();
        assertThat(WebSocketUpgrade.requested(request, false)).isNull();
        request.headers().set("Sec-WebSocket-Key", KEY);
        assertThat(WebSocketUpgrade.requested(request, false)).isEqualTo(KEY);
        assertThat(WebSocketUpgrade.requested(request, true)).as("with a body").isNull();
        request.headers().add("Sec-WebSocket-Key", KEY);
        assertThat(WebSocketUpgrade.requested(request, false)).as("two keys").isNull();
        request.headers().set("Sec-WebSocket-Key", "");
        assertThat(WebSocketUpgrade.requested(request, false)).as("an empty key").isNull();
    }

    @Test
    void onlyTheAcceptOfTheKeySwitches() {
        assertThat(WebSocketUpgrade.accepted(switching(ACCEPT), KEY)).isTrue();
        assertThat(WebSocketUpgrade.accepted(switching(), KEY)).as("no accept").isFalse();
        assertThat(WebSocketUpgrade.accepted(switching(KEY), KEY)).as("the key echoed").isFalse();
        assertThat(WebSocketUpgrade.accepted(switching(ACCEPT, ACCEPT), KEY)).as("two accepts").isFalse();
        assertThat(WebSocketUpgrade.accepted(switching(ACCEPT), "AQIDBAUGBwgJCgsMDQ4PEC==")).as("another key's")
                .isFalse();
    }
}
