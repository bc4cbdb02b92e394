package dev.portcullis.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The header block is byte for byte what Netty's own encoder writes, only faster; the one difference, a surrogate pair
 * written as one {@code ?} instead of two, is asserted on its own.
 */
class HeaderLinesTest {

    @Test
    void writesWhatNettyWritesForTypicalHeaders() {
        String token = "Bearer " + "eyJhbGciOiJSUzI1NiJ9.".repeat(30);
        assertSameAsNetty(h -> h
                .add(HttpHeaderNames.HOST, "api.example:8080")
                .add("Authorization", token)
                .add(AsciiString.cached("x-forwarded-for"), "198.51.100.7, 127.0.0.1")
                .add("Accept", "")
                .add("X-Caf\u00e9", "cr\u00e8me br\u00fbl\u00e9e")
                .add(HttpHeaderNames.CONTENT_LENGTH, 0));
    }

    @Test
    void writesACharacterAboveLatin1AsAQuestionMarkNeverAsItsLowByte() {
        // U+010A and U+010D end in 0x0A and 0x0D: copied by their low byte they would end the header line
        String head = encode(h -> h.add("X-Note", "a\u010Ab\u010Dc\u20ACd"), true);
        assertThat(head).contains("X-Note: a?b?c?d\r\n").doesNotContain("a\nb").doesNotContain("b\rc");
        assertSameAsNetty(h -> h.add("X-Note", "a\u010Ab\u010Dc\u20ACd"));
    }

    @Test
    void writesValuesLongerThanTheReusedArraysAndLoneSurrogatesAsNettyDoes() {
        assertSameAsNetty(h -> h.add("X-Long", "a\u0100".repeat(3000)).add("X-Short", "b"));
        assertSameAsNetty(h -> h.add("X-Lone", "a\uD800b\uDC00c"));
        // a surrogate pair is one character to the encoder, two to Netty: one ? instead of two, never a control byte
        assertThat(encode(h -> h.add("X-Pair", "a\uD83D\uDE00b"), true)).contains("X-Pair: a?b\r\n");
    }

    @Test
    void writesOtherCharSequencesAsciiStringSlicesAndValuesAtTheArraysEdgeAsNettyDoes() {
        assertSameAsNetty(h -> h.add(new StringBuilder("X-Built"), new StringBuilder("caf\u00e9 \u20ac")));
        assertSameAsNetty(h -> h.add(new AsciiString("xx-sliced-name-xx").subSequence(3, 14, false),
                new AsciiString("[value]").subSequence(1, 6, false)));
        for (int length : new int[] {4095, 4096, 4097}) {
            assertSameAsNetty(h -> h.add("X-Edge", "v\u00ff\u0100".repeat(length / 3) + "e".repeat(length % 3)));
        }
    }

    @Test
    void writesWhatNettyWritesForRandomNamesAndValuesUpToU02FF() {
        Random random = new Random(20261206);
        for (int round = 0; round < 200; round++) {
            int count = 1 + random.nextInt(12);
            String[] names = new String[count];
            String[] values = new String[count];
            for (int i = 0; i < count; i++) {
                names[i] = "X-" + text(random, 1 + random.nextInt(8), 0x7F);
                values[i] = text(random, random.nextInt(700), 0x2FF);
            }
            assertSameAsNetty(h -> {
                for (int i = 0; i < names.length; i++) {
                    h.add(names[i], values[i]);
                }
            });
        }
    }

    private static String text(Random random, int length, int maxChar) {
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            out.append((char) ('!' + random.nextInt(maxChar - '!' + 1)));
        }
        return out.toString();
    }

    private static void assertSameAsNetty(Consumer<HttpHeaders> headers) {
        assertThat(encode(headers, true)).isEqualTo(encode(headers, false));
    }

    /** The request head as encoded with HeaderLines ({@code ours}) or with Netty's own header writer. */
    private static String encode(Consumer<HttpHeaders> fill, boolean ours) {
        HttpRequestEncoder encoder = ours
                ? new HttpRequestEncoder() {
                    @Override
                    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
                        HeaderLines.write(headers, buf);
                    }
                }
                : new HttpRequestEncoder();
        // without validation, so that values a decoder would never produce can be written too
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/",
                io.netty.buffer.Unpooled.EMPTY_BUFFER, DefaultHttpHeadersFactory.headersFactory().withValidation(false),
                DefaultHttpHeadersFactory.trailersFactory().withValidation(false));
        fill.accept(request.headers());
        EmbeddedChannel channel = new EmbeddedChannel(encoder);
        channel.writeOutbound(request);
        StringBuilder out = new StringBuilder();
        for (ByteBuf buf; (buf = channel.readOutbound()) != null; ) {
            out.append(new String(ByteBufUtil.getBytes(buf), StandardCharsets.ISO_8859_1));
            buf.release();
        }
        channel.finishAndReleaseAll();
        return out.toString();
    }
}
