package dev.portcullis.server.pipeline;

import dev.portcullis.core.http.MessageSyntax;
import dev.portcullis.core.http.RequestFraming;
import dev.portcullis.server.http.HeaderLines;
import dev.portcullis.server.http.KnownHeaderNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Netty's HTTP/1.1 server codec, made strict where its leniency would let a request mean one thing
 * to the gateway and another to the upstream (the http-desync-guardian "ambiguous" and "severe" cases):
 *
 * <ul>
 *   <li>the request line must be separated by single spaces: Netty also splits on tabs and other
 *       whitespace, which turns {@code GET /a\tHTTP/1.1} into a different request than a strict
 *       server sees;
 *   <li>the version must be exactly {@code HTTP/<digit>.<digit>} in upper case (Netty upper-cases it first), and a
 *       header name a token right before its colon ({@link MessageSyntax}, shared with the upstream response decoder);
 *   <li>a header name that reads as {@code Content-Length} or {@code Transfer-Encoding} once case,
 *       {@code -} and {@code _} are ignored ({@code Transfer_Encoding}, {@code Content---Length}) but is
 *       not exactly that name is rejected: an upstream that folds {@code _} to {@code -} would frame the
 *       body differently.
 * </ul>
 *
 * Each raises a decoder failure, which the access-control step answers with 400 and a close. A request
 * without a body is passed on as one {@link FullHttpRequest} (empty content) rather than a head and an
 * empty last content, so that it crosses the pipeline and is written to the upstream as one message. Like
 * {@code HttpServerCodec}, the encoder knows which responses answer HEAD requests, so that their
 * framing headers are kept without a body being written.
 */
final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<StrictHttpServerCodec.Decoder, StrictHttpServerCodec.Encoder> {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
    private final Decoder decoder;

    StrictHttpServerCodec(HttpDecoderConfig config) {
        decoder = new Decoder(config, methods);
        init(decoder, new Encoder(methods));
    }

    /** True when the decoder holds the beginning of a request head it has not completed ({@link Decoder#headStarted}). */
    boolean headStarted() {
        return decoder.headStarted();
    }

    /** Whether {@code request}, decoded successfully, asks to switch protocols: what follows it waits for its answer. */
    static boolean asksToSwitch(HttpRequest request) {
        return request.decoderResult().isSuccess() && request.headers().contains(HttpHeaderNames.UPGRADE);
    }

    /** True while bytes after a request asking to switch protocols wait for its answer ({@link Decoder#held}). */
    boolean heldForUpgrade() {
        return decoder.held;
    }

    /**
     * The request that asked to switch protocols was answered without a switch: decodes what arrived after it, as
     * the next requests. {@code ctx} is this codec's context. (With a switch, the tunnel removes this codec instead,
     * and the bytes held go on to the tunnel as they are.)
     */
    void resumeAfterUpgrade(ChannelHandlerContext ctx) throws Exception {
        if (decoder.held && !ctx.isRemoved()) {
            decoder.held = false;
            channelRead(ctx, Unpooled.EMPTY_BUFFER);
            channelReadComplete(ctx);
        }
    }

    /** The request decoder with the strict checks above. */
    static final class Decoder extends HttpRequestDecoder {
        private final ArrayDeque<HttpMethod> methods;
        private int firstWordEnd;
        private int secondWordEnd;
        /** Between a request head with a body and that body's last content. */
        private boolean inBody;
        /** Bytes of a request head other than blank lines were taken in, and the head is not complete yet. */
        private boolean headStarted;
        /** A request with an {@code Upgrade} header is being decoded (its body, if any, has not ended). */
        private boolean upgradeAsked;
        /**
         * A request with an {@code Upgrade} header was decoded and is not answered yet: nothing after it is decoded,
         * since whether it is HTTP or tunnelled bytes (a WebSocket frame a client sent without waiting for the
         * {@code 101}) depends on the answer; the bytes stay in the cumulation, and the connection stops reading.
         */
        private boolean held;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        /*
         * Netty ends a bodiless request in the same decode call that produced its head, with the shared
         * EMPTY_LAST_CONTENT right after it (a constant whose decoder result is always a success): only
         * that exact pair, after a successfully decoded head, becomes one full request. The head of a
         * request with a body (Content-Length > 0 or chunked) comes alone and is never merged, so its
         * framing is left wholly to Netty and the strict checks here. The full request is still an
         * HttpRequest, so every request is counted once in methods.
         */
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (held) {
                return;
            }
            int before = out.size();
            int start = buffer.readerIndex();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                Object message = out.get(i);
                if (message instanceof HttpRequest request) {
                    methods.add(request.method());
                    headStarted = false;
                    if (i + 1 < out.size() && out.get(i + 1) == LastHttpContent.EMPTY_LAST_CONTENT
                            && !(request instanceof FullHttpRequest) && request.decoderResult().isSuccess()) {
                        out.set(i, bodiless(request));
                        out.remove(i + 1);
                    }
                    upgradeAsked = asksToSwitch(request);
                    inBody = !(out.get(i) instanceof LastHttpContent);
                }
                if (out.get(i) instanceof LastHttpContent) {
                    inBody = false;
                    held = upgradeAsked;
                    upgradeAsked = false;
                }
            }
            if (out.size() == before && !inBody && !headStarted && beginsHead(buffer, start, buffer.writerIndex())) {
                // lines taken into the decoder's state, or a line still waiting for its end, and no request yet
                headStarted = true;
            }
        }

        /**
         * True when the decoder holds the beginning of a request head (a request line still without its end, or
         * header lines) that it has not completed: the head timeout applies to it, also when it arrived while the
         * previous exchange was in progress. Blank lines between requests, which the decoder skips, begin nothing.
         * Looked for only in a decode call that produced nothing outside a body, and no more once found.
         */
        boolean headStarted() {
            return headStarted;
        }

        private static boolean beginsHead(ByteBuf buffer, int from, int to) {
            for (int i = from; i < to; i++) {
                byte b = buffer.getByte(i);
                if (b != '\r' && b != '\n' && b != ' ' && b != '\t') {
                    return true;
                }
            }
            return false;
        }

        /** {@code request} as a full request with no content, sharing its headers. */
        private static FullHttpRequest bodiless(HttpRequest request) {
            FullHttpRequest full = new DefaultFullHttpRequest(request.protocolVersion(), request.method(),
                    request.uri(), Unpooled.EMPTY_BUFFER, request.headers(), EmptyHttpHeaders.INSTANCE);
            full.setDecoderResult(request.decoderResult());
            return full;
        }

        /**
         * The stand-in for a request whose request line could not be read (too long, malformed): Netty's
         * says {@code GET /bad-request}, which the access log would show as if the client had sent it.
         */
        @Override
        protected HttpMessage createInvalidMessage() {
            return new UnreadRequest();
        }

        /**
         * The method must begin the line (RFC 9112 3; nginx answers 400): with strict line parsing (which the server
         * sets; without it Netty skips leading whitespace with the blank lines), Netty skips only blank lines before a
         * request line, then whitespace before its first word, which it hands over from index 0 of its own scratch
         * buffer (were that ever not so, every request would fail here, and every test with it).
         */
        @Override
        protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
            if (start != 0) {
                throw new IllegalArgumentException("whitespace before the method");
            }
            firstWordEnd = start + length;
            return super.splitFirstWordInitialLine(line, start, length);
        }

        @Override
        protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
            requireSingleSpace(line, firstWordEnd, start);
            secondWordEnd = start + length;
            return super.splitSecondWordInitialLine(line, start, length);
        }

        /** The version must be exactly {@code HTTP/<digit>.<digit>}: Netty upper-cases it first ({@code http/1.1}). */
        @Override
        protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
            requireSingleSpace(line, secondWordEnd, start);
            if (!MessageSyntax.isHttpVersion(line, start, length)) {
                throw new IllegalArgumentException("invalid version: not HTTP/<digit>.<digit>");
            }
            return super.splitThirdWordInitialLine(line, start, length);
        }

        private static void requireSingleSpace(byte[] line, int from, int to) {
            if (to - from != 1 || line[from] != ' ') {
                throw new IllegalArgumentException("request line words must be separated by one space");
            }
        }

        /**
         * A name that is not a token right before its colon ({@link MessageSyntax#isFieldNameBeforeColon}:
         * {@code X Bad}, {@code Name : v}) is refused, by the same check as the upstream response decoder's (Netty's
         * header validation would refuse these too, later). A common header name is the shared constant
         * ({@link KnownHeaderNames}, spelled exactly as received, so never a framing look-alike), not a copy of its
         * bytes; any other name is refused when it looks like a framing header.
         */
        @Override
        protected AsciiString splitHeaderName(byte[] line, int start, int length) {
            if (!MessageSyntax.isFieldNameBeforeColon(line, start, length)) {
                throw new IllegalArgumentException("invalid header name: not a token right before its colon");
            }
            AsciiString known = KnownHeaderNames.lookup(line, start, length);
            if (known != null) {
                return known;
            }
            AsciiString name = super.splitHeaderName(line, start, length);
            if (RequestFraming.isLookalikeName(line, start, length)) {
                throw new IllegalArgumentException("header name looks like a framing header: " + name);
            }
            return name;
        }
    }

    /**
     * A request the decoder failed on before its request line was read: its method, target and headers are
     * unknown (Netty's own stand-in values, kept so that the answer is framed as before, are not the client's).
     */
    static final class UnreadRequest extends DefaultFullHttpRequest {
        UnreadRequest() {
            super(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request", Unpooled.EMPTY_BUFFER);
        }
    }

    /** The response encoder; knows which responses answer HEAD requests. */
    static final class Encoder extends HttpResponseEncoder {
        private final ArrayDeque<HttpMethod> methods;

        Encoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            HeaderLines.write(headers, buf);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse response) {
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(response);
            }
            return HttpMethod.HEAD.equals(methods.poll()) || super.isContentAlwaysEmpty(response);
        }
    }
}
