package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrictHttpServerCodecTest {

    private static HttpRequest decode(String wire) {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
        HttpRequest request = channel.readInbound();
        Object rest;
        while ((rest = channel.readInbound()) != null) {
            ReferenceCountUtil.release(rest);
        }
        channel.finishAndReleaseAll();
        return request;
    }

    @Test
    void headerNamesKeepTheSpellingTheyWereReceivedIn() {
        HttpRequest request = decode("GET /a HTTP/1.1\r\nhost: h\r\nAuthorization: a\r\nAUTHORIZATION: b\r\n"
                + "x-forwarded-for: 1.2.3.4\r\nX-FORWARDED-FOR: 5.6.7.8\r\nX-Custom: c\r\n\r\n");

        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.headers().names()).containsExactlyInAnyOrder("host", "Authorization", "AUTHORIZATION",
                "x-forwarded-for", "X-FORWARDED-FOR", "X-Custom");
        assertThat(request.headers().getAll("authorization")).containsExactly("a", "b");
    }

    @Test
    void acceptsAPlainRequest() {
        HttpRequest request = decode("GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.uri()).isEqualTo("/a");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET /a\tHTTP/1.1\r\nHost: h\r\n\r\n",
        "GET\t/a HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET  /a HTTP/1.1\r\nHost: h\r\n\r\n",
        " GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\tGET /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nContent_Length: 5\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nTransfer---Encoding: chunked\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nCONTENT__LENGTH: 5\r\n\r\n"
    })
    void rejectsRequestsThatAnotherServerWouldReadDifferently(String wire) {
        assertThat(decode(wire).decoderResult().isFailure()).as(wire).isTrue();
    }

    /** RFC 9112 2.2: blank lines before a request line are skipped; it still begins with its method. */
    @Test
    void acceptsBlankLinesBeforeARequestLine() {
        HttpRequest request = decode("\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.method().name()).isEqualTo("GET");
    }

    /** RFC 9112 2.3: the HTTP-name is case-sensitive, and one digit each side of the dot; nginx answers 400 too. */
    @ParameterizedTest
    @ValueSource(strings = {"http/1.1", "Http/1.1", "HTTp/1.0", "HTTP/1.10", "HTTP/11", "HTTP/1.x", "HTTPS/1.1"})
    void rejectsAVersionThatIsNotUpperCaseHttpAndTwoDigits(String version) {
        HttpRequest request = decode("GET /a " + version + "\r\nHost: h\r\n\r\n");

        assertThat(request.decoderResult().isFailure()).as(version).isTrue();
        assertThat(request).isInstanceOf(StrictHttpServerCodec.UnreadRequest.class);
    }

    /**
     * RFC 9112 5.1: no whitespace between a field name and its colon ("a server MUST reject"), and RFC 9110 5.1: a
     * name is a token. The same check as the upstream response decoder's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"X-A : 1", "X-A\t: 1", "Content-Length : 0", "Host : h", "X A: 1", "X\tA: 1",
        "Set-Cookie admin=1; x: y", "X(A): 1", ": 1"})
    void rejectsAHeaderNameThatIsNotATokenRightBeforeItsColon(String line) {
        HttpRequest request = decode("GET /a HTTP/1.1\r\nHost: h\r\n" + line + "\r\n\r\n");

        assertThat(request.decoderResult().isFailure()).as(line).isTrue();
    }

    @Test
    void acceptsEveryTcharInAHeaderName() {
        HttpRequest request = decode("GET /a HTTP/1.1\r\nHost: h\r\n!#$%&'*+-.^_`|~09azAZ: 1\r\n\r\n");

        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.headers().get("!#$%&'*+-.^_`|~09azAZ")).isEqualTo("1");
    }

    @Test
    void aResponseToHeadKeepsItsFramingHeadersWithoutABody() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        channel.writeInbound(Unpooled.copiedBuffer("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n", StandardCharsets.US_ASCII));
        Object in;
        while ((in = channel.readInbound()) != null) {
            ReferenceCountUtil.release(in);
        }
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set("Transfer-Encoding", "chunked");
        channel.writeOutbound(response);
        StringBuilder wire = new StringBuilder();
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            wire.append(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        channel.finishAndReleaseAll();
        assertThat(wire.toString()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n").doesNotContain("0\r\n\r\n");
    }

    /**
     * headStarted: the beginning of a head the decoder holds (the connection times it with header_timeout), never a
     * body, its chunk lines or trailers, nor blank lines between requests, whatever the reads it arrives in.
     */
    @Test
    void aHeadIsStartedByItsFirstBytesAndNotByABodyItsChunksTrailersOrBlankLines() {
        StrictHttpServerCodec codec = new StrictHttpServerCodec(serverConfig());
        EmbeddedChannel channel = new EmbeddedChannel(codec);
        List<String> reads = List.of("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r",
                "\nhel", "lo\r\n", "3;x=1\r\nabc\r\n0\r\nX-Trailer: ", "t\r\n", "\r\n", "\r\n", "\r\n");
        for (String read : reads) {
            releaseAll(decodeAll(channel, read));
            assertThat(codec.headStarted()).as("after %s", read.replace("\r\n", "CRLF")).isFalse();
        }
        releaseAll(decodeAll(channel, "G"));
        assertThat(codec.headStarted()).as("the first byte of a request line").isTrue();
        releaseAll(decodeAll(channel, "ET /b HTTP/1.1\r\nHost: h\r\nX-Slow: "));
        assertThat(codec.headStarted()).as("header lines").isTrue();
        List<Object> done = decodeAll(channel, "1\r\n\r\n");
        assertThat(done).hasSize(1);
        assertThat(codec.headStarted()).as("the head complete").isFalse();
        releaseAll(done);
        releaseAll(decodeAll(channel, "PUT /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nab"));
        assertThat(codec.headStarted()).as("inside a fixed-length body").isFalse();
        releaseAll(decodeAll(channel, "cGET /d HT"));
        assertThat(codec.headStarted()).as("a request line without its end, behind a body").isTrue();
        channel.finishAndReleaseAll();
    }

    /**
     * After a request asking to switch protocols, nothing is decoded until its answer: with a switch the bytes go on
     * to the tunnel as they are (when the codec is removed), without one they are decoded as the next requests.
     */
    @Test
    void nothingAfterARequestAskingToSwitchIsDecodedUntilItIsAnsweredWithoutASwitch() throws Exception {
        StrictHttpServerCodec codec = new StrictHttpServerCodec(serverConfig());
        EmbeddedChannel channel = new EmbeddedChannel(codec);
        List<Object> first = decodeAll(channel, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(first).hasSize(1);
        assertThat(((HttpRequest) first.get(0)).uri()).isEqualTo("/ws");
        assertThat(codec.heldForUpgrade()).isTrue();
        assertThat(decodeAll(channel, "GET /more HTTP/1.1\r\nHost: h\r\n\r\n")).as("still held").isEmpty();

        codec.resumeAfterUpgrade(channel.pipeline().context(codec));
        List<Object> rest = new ArrayList<>();
        Object in;
        while ((in = channel.readInbound()) != null) {
            rest.add(in);
        }
        assertThat(rest).extracting(m -> ((HttpRequest) m).uri()).containsExactly("/next", "/more");
        assertThat(codec.heldForUpgrade()).isFalse();
        releaseAll(first);
        releaseAll(rest);

        List<Object> plain = decodeAll(channel, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(plain).as("requests without Upgrade are not held").hasSize(2);
        assertThat(codec.heldForUpgrade()).isFalse();
        releaseAll(plain);
        channel.finishAndReleaseAll();
    }

    /** With a switch, the tunnel removes the codec: the bytes held come out as they are, in one buffer. */
    @Test
    void removingAHeldCodecPassesTheBytesAfterTheHandshakeOnRaw() {
        StrictHttpServerCodec codec = new StrictHttpServerCodec(serverConfig());
        EmbeddedChannel channel = new EmbeddedChannel(codec);
        releaseAll(decodeAll(channel, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n\u0081\u0085abcdefghi"));
        channel.pipeline().remove(codec);
        ByteBuf raw = channel.readInbound();
        assertThat(raw.toString(StandardCharsets.ISO_8859_1)).isEqualTo("\u0081\u0085abcdefghi");
        raw.release();
        channel.finishAndReleaseAll();
    }

    /** Every message the codec decodes from {@code wire}, in order (the caller releases them). */
    private static List<Object> decodeAll(EmbeddedChannel channel, String wire) {
        channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
        List<Object> messages = new ArrayList<>();
        Object in;
        while ((in = channel.readInbound()) != null) {
            messages.add(in);
        }
        return messages;
    }

    private static void releaseAll(List<Object> messages) {
        messages.forEach(ReferenceCountUtil::release);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET /a?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n",
        "DELETE /a?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
        "GET /a?q=1 HTTP/1.0\r\nHost: h\r\nX-A: 1\r\n\r\n"
    })
    void aRequestWithoutABodyIsOneFullRequest(String wire) {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> messages = decodeAll(channel, wire);

        assertThat(messages).hasSize(1);
        FullHttpRequest request = (FullHttpRequest) messages.get(0);
        assertThat(request.method().name()).isEqualTo(wire.substring(0, wire.indexOf(' ')));
        assertThat(request.uri()).isEqualTo("/a?q=1");
        assertThat(request.protocolVersion().text())
                .isEqualTo(wire.substring(wire.indexOf("HTTP/"), wire.indexOf('\r')));
        assertThat(request.headers().get("X-A")).isEqualTo("1");
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.content()).isSameAs(Unpooled.EMPTY_BUFFER);
        assertThat(request.trailingHeaders().isEmpty()).isTrue();
        releaseAll(messages);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aRequestWithABodyKeepsItsHeadAndContentApart() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> messages = decodeAll(channel, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");

        assertThat(messages).hasSize(2);
        assertThat(messages.get(0)).isInstanceOf(HttpRequest.class).isNotInstanceOf(HttpContent.class);
        LastHttpContent body = (LastHttpContent) messages.get(1);
        assertThat(body.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hi");
        releaseAll(messages);
        channel.finishAndReleaseAll();
    }

    @Test
    void aChunkedRequestIsNeverMergedEvenWhenItsBodyIsEmpty() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> messages = decodeAll(channel,
                "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");

        assertThat(messages).hasSize(2);
        assertThat(messages.get(0)).isInstanceOf(HttpRequest.class).isNotInstanceOf(HttpContent.class);
        assertThat(messages.get(1)).isInstanceOf(LastHttpContent.class).isNotInstanceOf(HttpRequest.class);
        releaseAll(messages);
        channel.finishAndReleaseAll();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET /a HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n"
    })
    void aHeadWithBadHeadersIsPassedOnAloneAndFailed(String wire) {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> messages = decodeAll(channel, wire);

        assertThat(messages).hasSize(1);
        assertThat(messages.get(0)).isInstanceOf(HttpRequest.class).isNotInstanceOf(HttpContent.class);
        assertThat(((HttpRequest) messages.get(0)).decoderResult().isFailure()).isTrue();
        releaseAll(messages);
        channel.finishAndReleaseAll();
    }

    @Test
    void aBadRequestLineIsOneFailedUnreadRequestAndNothingElse() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> messages = decodeAll(channel, "GET /a\tHTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n\r\n");

        assertThat(messages).hasSize(1);
        assertThat(messages.get(0)).isInstanceOf(StrictHttpServerCodec.UnreadRequest.class);
        assertThat(((HttpRequest) messages.get(0)).decoderResult().isFailure()).isTrue();
        releaseAll(messages);
        channel.finishAndReleaseAll();
    }

    @Test
    void aRequestLineOverTheLimitIsAnUnreadRequestButAFailureInTheHeadersIsNot() {
        EmbeddedChannel channel = new EmbeddedChannel(
                new StrictHttpServerCodec(serverConfig().setMaxInitialLineLength(64)));
        List<Object> tooLong = decodeAll(channel, "GET /" + "a".repeat(100) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(tooLong).hasSize(1);
        assertThat(tooLong.get(0)).isInstanceOf(StrictHttpServerCodec.UnreadRequest.class);
        releaseAll(tooLong);
        channel.finishAndReleaseAll();

        EmbeddedChannel second = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> badHeader = decodeAll(second, "GET /a HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n");
        assertThat(badHeader.get(0)).isNotInstanceOf(StrictHttpServerCodec.UnreadRequest.class);
        assertThat(((HttpRequest) badHeader.get(0)).uri()).isEqualTo("/a");
        releaseAll(badHeader);
        second.finishAndReleaseAll();
    }

    @Test
    void pipelinedRequestsWithoutBodiesAreFullRequestsAndHeadAnswersStayBodiless() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(serverConfig()));
        List<Object> messages = decodeAll(channel, "HEAD /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
                + "GET /4 HTTP/1.1\r\nHost: h\r\n\r\n");

        assertThat(messages).hasSize(5);
        assertThat(((FullHttpRequest) messages.get(0)).method()).isEqualTo(HttpMethod.HEAD);
        assertThat(((FullHttpRequest) messages.get(1)).uri()).isEqualTo("/2");
        assertThat(messages.get(2)).isNotInstanceOf(FullHttpRequest.class);
        assertThat(messages.get(3)).isInstanceOf(LastHttpContent.class).isNotInstanceOf(HttpRequest.class);
        assertThat(((FullHttpRequest) messages.get(4)).uri()).isEqualTo("/4");
        releaseAll(messages);

        // one method counted per request: only the first answer is the answer to a HEAD
        StringBuilder wire = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII));
            response.headers().set("Content-Length", 4);
            channel.writeOutbound(response);
            ByteBuf out;
            while ((out = channel.readOutbound()) != null) {
                wire.append(out.toString(StandardCharsets.US_ASCII));
                out.release();
            }
            wire.append('|');
        }
        assertThat(wire.toString().split("\\|"))
                .extracting(answer -> answer.endsWith("\r\n\r\nbody"))
                .containsExactly(false, true, true, true);
        channel.finishAndReleaseAll();
    }

    /** The server's decoder option that matters here: strict line parsing (else Netty skips a leading space). */
    private static HttpDecoderConfig serverConfig() {
        return new HttpDecoderConfig().setStrictLineParsing(true);
    }
}
