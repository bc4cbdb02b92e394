package dev.portcullis.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

/** How an upstream response head becomes the client's head: framing, persistence, request id. */
class ResponseHeadsTest {

    private static HttpResponse response(HttpResponseStatus status, String... headers) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        for (int i = 0; i < headers.length; i += 2) {
            response.headers().add(headers[i], headers[i + 1]);
        }
        return response;
    }

    @Test
    void aDelimitedResponseKeepsItsFramingAndGetsTheRequestId() {
        HttpResponse head = response(HttpResponseStatus.OK, "Content-Length", "5", "Keep-Alive", "timeout=5");
        boolean close = ResponseHeads.finalForClient(head, "req-1", false, "GET", false);
        assertThat(close).isFalse();
        assertThat(head.headers().names()).containsExactlyInAnyOrder("Content-Length", "X-Request-Id", "date");
        assertThat(head.headers().get("X-Request-Id")).isEqualTo("req-1");
    }

    @Test
    void aDateIsAddedOnlyWhenTheUpstreamSentNone() {
        HttpResponse undated = response(HttpResponseStatus.OK, "Content-Length", "0");
        HttpResponse dated = response(HttpResponseStatus.OK, "Content-Length", "0", "Date",
                "Sun, 06 Nov 1994 08:49:37 GMT");

        ResponseHeads.finalForClient(undated, "r", false, "GET", false);
        ResponseHeads.finalForClient(dated, "r", false, "GET", false);

        assertThat(undated.headers().getAll("Date")).singleElement().asString().endsWith(" GMT");
        assertThat(dated.headers().getAll("Date")).containsExactly("Sun, 06 Nov 1994 08:49:37 GMT");
    }

    @Test
    void anUndelimitedResponseIsChunkedForAnHttp11Client() {
        HttpResponse head = response(HttpResponseStatus.OK);
        head.setProtocolVersion(HttpVersion.HTTP_1_0);
        assertThat(ResponseHeads.finalForClient(head, "r", false, "GET", false)).isFalse();
        assertThat(head.headers().get("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(head.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    }

    @Test
    void bodylessResponsesNeedNoFraming() {
        HttpResponse noContent = response(HttpResponseStatus.NO_CONTENT);
        HttpResponse toHead = response(HttpResponseStatus.OK);
        assertThat(ResponseHeads.finalForClient(noContent, "r", false, "GET", false)).isFalse();
        assertThat(ResponseHeads.finalForClient(toHead, "r", false, "HEAD", false)).isFalse();
        assertThat(noContent.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(toHead.headers().contains("Transfer-Encoding")).isFalse();
    }

    @Test
    void aChunkedResponseToAnHttp10ClientLosesItsChunkingAndClosesTheConnection() {
        HttpResponse head = response(HttpResponseStatus.OK, "Transfer-Encoding", "chunked");
        assertThat(ResponseHeads.finalForClient(head, "r", true, "GET", false)).isTrue();
        assertThat(head.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(head.headers().get("Connection")).isEqualTo("close");
    }

    @Test
    void aDelimitedResponseToAnHttp10ClientKeepsTheConnectionAlive() {
        HttpResponse head = response(HttpResponseStatus.OK, "Content-Length", "0");
        assertThat(ResponseHeads.finalForClient(head, "r", true, "GET", false)).isFalse();
        assertThat(head.headers().get("Connection")).isEqualTo("keep-alive");
    }

    @Test
    void aConnectionThatMustCloseSaysSo() {
        HttpResponse head = response(HttpResponseStatus.OK, "Content-Length", "0", "Connection", "keep-alive");
        assertThat(ResponseHeads.finalForClient(head, "r", false, "GET", true)).isTrue();
        assertThat(head.headers().getAll("Connection")).containsExactly("close");
    }

    @Test
    void interimHeadsReachOnlyHttp11Clients() {
        HttpResponse proceed = response(HttpResponseStatus.CONTINUE, "Connection", "x-hop", "X-Hop", "1");
        assertThat(ResponseHeads.interimForClient(proceed, "r", true)).isFalse();
        assertThat(ResponseHeads.interimForClient(proceed, "r", false)).isTrue();
        assertThat(proceed.headers().names()).as("hop-by-hop headers removed, the request id set")
                .containsExactly("X-Request-Id");
        assertThat(proceed.headers().get("X-Request-Id")).isEqualTo("r");
    }
}
