package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrictHttpServerCodecTest {

    private static HttpRequest decode(String wire) {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(new HttpDecoderConfig()));
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
        "POST /a HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nContent_Length: 5\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nTransfer---Encoding: chunked\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: h\r\nCONTENT__LENGTH: 5\r\n\r\n"
    })
    void rejectsRequestsThatAnotherServerWouldReadDifferently(String wire) {
        assertThat(decode(wire).decoderResult().isFailure()).as(wire).isTrue();
    }

    @Test
    void aResponseToHeadKeepsItsFramingHeadersWithoutABody() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(new HttpDecoderConfig()));
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
}
