package dev.portcullis.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which upstream responses are passed on as one full response, and which stay a head and its content. */
class UpstreamResponseDecoderTest {
    private final List<Object> decoded = new ArrayList<>();
    private UpstreamResponseDecoder decoder = new UpstreamResponseDecoder(new HttpDecoderConfig());
    private EmbeddedChannel channel = new EmbeddedChannel(decoder);

    @AfterEach
    void releaseEverything() {
        decoded.forEach(ReferenceCountUtil::release);
        channel.finishAndReleaseAll();
    }

    /** The messages decoded from {@code wire} so far (owned by the test, released after it). */
    private List<Object> read(String wire) {
        channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
        List<Object> messages = new ArrayList<>();
        Object in;
        while ((in = channel.readInbound()) != null) {
            messages.add(in);
        }
        decoded.addAll(messages);
        return messages;
    }

    private static String body(HttpContent content) {
        return content.content().toString(StandardCharsets.US_ASCII);
    }

    @Test
    void aContentLengthBodyAlreadyReceivedMakesOneFullResponse() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello");

        assertThat(messages).hasSize(1);
        FullHttpResponse response = (FullHttpResponse) messages.get(0);
        assertThat(response.status().code()).isEqualTo(200);
        assertThat(response.headers().get("X-A")).isEqualTo("1");
        assertThat(response.decoderResult().isSuccess()).isTrue();
        assertThat(body(response)).isEqualTo("hello");
        assertThat(response.refCnt()).isEqualTo(1);
        assertThat(response.trailingHeaders().isEmpty()).isTrue();
        assertThat(decoder.hasLeftover()).isFalse();
    }

    @Test
    void aTransferCodingOtherThanChunkedMakesTheHeadMalformedUnlessTheResponseHasNoBody() {
        HttpResponse gzip = (HttpResponse) read("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz").get(0);
        assertThat(gzip.decoderResult().isFailure()).isTrue();

        channel.finishAndReleaseAll();
        decoder = new UpstreamResponseDecoder(new HttpDecoderConfig());
        channel = new EmbeddedChannel(decoder);
        HttpResponse chunked = (HttpResponse) read("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n").get(0);
        assertThat(chunked.decoderResult().isSuccess()).isTrue();

        channel.finishAndReleaseAll();
        decoder = new UpstreamResponseDecoder(new HttpDecoderConfig());
        channel = new EmbeddedChannel(decoder);
        decoder.expectResponseTo(HttpMethod.HEAD);
        HttpResponse head = (HttpResponse) read("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").get(0);
        assertThat(head.decoderResult().isSuccess()).as("a HEAD response has no body to mislabel").isTrue();
    }

    @Test
    void theStatusLineAndHeaderNamesKeepTheSpellingTheyWereReceivedIn() {
        List<Object> messages = read("HTTP/1.1 200 Fine\r\ncontent-length: 0\r\nSERVER: s\r\nServer: t\r\n"
                + "ETag: \"e\"\r\nX-A: 1\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        assertThat(messages).hasSize(2);
        FullHttpResponse first = (FullHttpResponse) messages.get(0);
        assertThat(first.status().reasonPhrase()).isEqualTo("Fine");
        assertThat(first.headers().names()).containsExactlyInAnyOrder("content-length", "SERVER", "Server", "ETag",
                "X-A");
        assertThat(first.headers().getAll("server")).containsExactly("s", "t");
        FullHttpResponse second = (FullHttpResponse) messages.get(1);
        assertThat(second.protocolVersion().text()).isEqualTo("HTTP/1.1");
        assertThat(second.status().reasonPhrase()).isEqualTo("OK");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nX-A: 1\r\nContent-Length: 12\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"
    })
    void aBodilessResponseIsOneFullResponse(String wire) {
        List<Object> messages = read(wire);

        assertThat(messages).hasSize(1);
        FullHttpResponse response = (FullHttpResponse) messages.get(0);
        assertThat(response.headers().get("X-A")).isEqualTo("1");
        assertThat(response.protocolVersion().text()).isEqualTo(wire.substring(0, 8));
        assertThat(response.content()).isSameAs(Unpooled.EMPTY_BUFFER);
        assertThat(decoder.hasLeftover()).isFalse();
    }

    @Test
    void theAnswerToHeadIsFullAndKeepsItsContentLength() {
        decoder.expectResponseTo(HttpMethod.HEAD);
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");

        assertThat(messages).hasSize(1);
        FullHttpResponse response = (FullHttpResponse) messages.get(0);
        assertThat(response.headers().get("Content-Length")).isEqualTo("100");
        assertThat(response.content().isReadable()).isFalse();
        assertThat(decoder.hasLeftover()).isFalse();
    }

    @Test
    void wholeLinesPastTheResponseAreLeftOverToo() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nX-B: 2\r\n");

        assertThat(messages).hasSize(1);
        assertThat(decoder.hasLeftover()).as("the lines were taken in as the head of another response").isTrue();
    }

    @Test
    void aResponseInProgressIsLeftOverUntilItsLastContent() {
        List<Object> head = read("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
        assertThat(decoder.hasLeftover()).isTrue();
        List<Object> rest = read("cd");

        assertThat(head).hasSize(2);
        assertThat(rest).singleElement().isInstanceOf(LastHttpContent.class);
        assertThat(decoder.hasLeftover()).isFalse();
    }

    @Test
    void bytesPastTheResponseAreStillLeftOver() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200");

        assertThat(messages).hasSize(1);
        assertThat(body((FullHttpResponse) messages.get(0))).isEqualTo("hi");
        assertThat(decoder.hasLeftover()).isTrue();
    }

    @Test
    void aBodyOnAnAnswerToHeadIsLeftOver() {
        decoder.expectResponseTo(HttpMethod.HEAD);
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");

        assertThat(messages).hasSize(1);
        assertThat(((FullHttpResponse) messages.get(0)).content().isReadable()).isFalse();
        assertThat(decoder.hasLeftover()).isTrue();
    }

    @Test
    void aChunkedResponseIsNeverMerged() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");

        assertThat(messages).hasSize(3);
        assertThat(messages.get(0)).isInstanceOf(HttpResponse.class).isNotInstanceOf(HttpContent.class);
        assertThat(body((HttpContent) messages.get(1))).isEqualTo("hi");
        assertThat(messages.get(2)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Test
    void aPartialBodyIsPassedOnAsItCame() {
        List<Object> first = read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");

        assertThat(first).hasSize(2);
        assertThat(first.get(0)).isInstanceOf(HttpResponse.class).isNotInstanceOf(HttpContent.class);
        assertThat(first.get(1)).isNotInstanceOf(LastHttpContent.class);
        assertThat(body((HttpContent) first.get(1))).isEqualTo("hel");

        List<Object> rest = read("lo");
        assertThat(rest).hasSize(1);
        assertThat(rest.get(0)).isInstanceOf(LastHttpContent.class).isNotInstanceOf(HttpResponse.class);
        assertThat(body((HttpContent) rest.get(0))).isEqualTo("lo");
    }

    @Test
    void aBodyThatArrivesAfterItsHeadIsNotMerged() {
        List<Object> head = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
        assertThat(head).hasSize(1);
        assertThat(head.get(0)).isNotInstanceOf(HttpContent.class);

        List<Object> rest = read("hi");
        assertThat(rest).hasSize(1);
        assertThat(rest.get(0)).isInstanceOf(LastHttpContent.class).isNotInstanceOf(HttpResponse.class);
    }

    @Test
    void aBodyLargerThanOneChunkIsNotMerged() {
        decoder = new UpstreamResponseDecoder(new HttpDecoderConfig().setMaxChunkSize(4));
        channel.finishAndReleaseAll();
        channel = new EmbeddedChannel(decoder);
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef");

        assertThat(messages).hasSize(3);
        assertThat(messages.get(0)).isNotInstanceOf(HttpContent.class);
        assertThat(messages.get(1)).isNotInstanceOf(LastHttpContent.class);
        assertThat(messages.get(2)).isInstanceOf(LastHttpContent.class).isNotInstanceOf(HttpResponse.class);
    }

    @Test
    void aCloseDelimitedBodyIsNotMerged() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\n\r\nhello");

        assertThat(messages).hasSize(2);
        assertThat(messages.get(0)).isNotInstanceOf(HttpContent.class);
        assertThat(messages.get(1)).isNotInstanceOf(LastHttpContent.class);
    }

    @Test
    void anInterimResponseStaysApartAndTheFinalOneAfterItIsMerged() {
        List<Object> messages = read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");

        assertThat(messages).hasSize(3);
        assertThat(((HttpResponse) messages.get(0)).status().code()).isEqualTo(100);
        assertThat(messages.get(0)).isNotInstanceOf(HttpContent.class);
        assertThat(messages.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(body((FullHttpResponse) messages.get(2))).isEqualTo("hi");
    }

    @Test
    void aSwitchToWebSocketIsNotMerged() {
        List<Object> messages = read("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");

        assertThat(messages).hasSize(2);
        assertThat(((HttpResponse) messages.get(0)).status().code()).isEqualTo(101);
        assertThat(messages.get(0)).isNotInstanceOf(HttpContent.class);
        assertThat(messages.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Test
    void aHeadWithBadHeadersIsPassedOnAloneAndFailed() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi");

        assertThat(messages).hasSize(1);
        assertThat(messages.get(0)).isInstanceOf(HttpResponse.class).isNotInstanceOf(HttpContent.class);
        assertThat(((HttpResponse) messages.get(0)).decoderResult().isFailure()).isTrue();
    }

    @Test
    void aBadStatusLineIsNettysOwnFailedResponseAndNothingElse() {
        List<Object> messages = read("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n");

        assertThat(messages).hasSize(1);
        assertThat(((HttpResponse) messages.get(0)).decoderResult().isFailure()).isTrue();
    }

    @Test
    void aFullResponseHoldsTheOnlyReferenceToItsBody() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        FullHttpResponse response = (FullHttpResponse) messages.get(0);
        ByteBuf content = response.content();

        decoded.clear();
        assertThat(response.release()).isTrue();
        assertThat(content.refCnt()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"20", "2000", "000", "099", "+20", "0200", "2O0", "-20", ""})
    void aStatusCodeThatIsNotThreeDigitsFrom100IsAMalformedHead(String code) {
        List<Object> messages = read("HTTP/1.1 " + code + " X\r\nContent-Length: 2\r\n\r\nok");

        assertThat(messages).isNotEmpty();
        assertThat(((HttpObject) messages.get(0)).decoderResult().isFailure()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"100", "200", "404", "599", "600", "999"})
    void aThreeDigitStatusCodeIsDecoded(String code) {
        List<Object> messages = read("HTTP/1.1 " + code + " X\r\nContent-Length: 0\r\n\r\n");

        assertThat(((HttpResponse) messages.get(0)).status().code()).isEqualTo(Integer.parseInt(code));
        assertThat(((HttpResponse) messages.get(0)).decoderResult().isSuccess()).isTrue();
    }

    /**
     * RFC 9112 5.1: no whitespace between a field name and its colon, and RFC 9110 5.1: a name is a token. Netty ends
     * a response's field name at whitespace and skips on to the colon, which would relay {@code Set-Cookie: y} for
     * the first line: each is a malformed head (502), the same check as the request decoder's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Set-Cookie admin=1; x: y", "Location http://evil/: y", "X Bad: a", "X\tA: b", "X-A : b",
        "X-A\t: b", "Content-Type : text/plain", "X(A): b", ": novalue", "NoColon", " X-Leading: 1"})
    void aFieldNameThatIsNotATokenRightBeforeItsColonIsAMalformedHead(String line) {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + line + "\r\n\r\nok");

        assertThat(messages).as(line).isNotEmpty();
        assertThat(messages.get(0)).isInstanceOf(HttpResponse.class);
        assertThat(((HttpObject) messages.get(0)).decoderResult().isFailure()).as(line).isTrue();
    }

    @Test
    void aChunkedResponseWithAMalformedTrailerNameEndsInAFailure() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n"
                + "X Bad: t\r\n\r\n");

        assertThat(messages).isNotEmpty();
        assertThat(((HttpObject) messages.get(messages.size() - 1)).decoderResult().isFailure()).isTrue();
    }

    @Test
    void everyTcharIsAcceptedInAFieldName() {
        List<Object> messages = read("HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09azAZ: v\r\nContent-Length: 0\r\n\r\n");

        assertThat(((HttpResponse) messages.get(0)).decoderResult().isSuccess()).isTrue();
        assertThat(((HttpResponse) messages.get(0)).headers().get("!#$%&'*+-.^_`|~09azAZ")).isEqualTo("v");
    }

    /** RFC 9112 2.3: the HTTP-name is case-sensitive; a status line that does not begin with it is no response. */
    @ParameterizedTest
    @ValueSource(strings = {"http/1.1", "Http/1.1", "HTTP/1.10", "HTTP/11", "HTTPS/1.1"})
    void aVersionThatIsNotUpperCaseHttpAndTwoDigitsIsAMalformedHead(String version) {
        List<Object> messages = read(version + " 200 OK\r\nContent-Length: 2\r\n\r\nok");

        assertThat(messages).isNotEmpty();
        assertThat(((HttpObject) messages.get(0)).decoderResult().isFailure()).as(version).isTrue();
    }
}
