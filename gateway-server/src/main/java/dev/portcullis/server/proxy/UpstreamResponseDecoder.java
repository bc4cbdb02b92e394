package dev.portcullis.server.proxy;

import dev.portcullis.core.http.MessageSyntax;
import dev.portcullis.core.http.ResponseFraming;
import dev.portcullis.server.http.HeaderTokens;
import dev.portcullis.server.http.KnownHeaderNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes the responses of a pooled upstream connection: knows whether the response answers a HEAD (no
 * body, whatever its headers say), can tell whether bytes were left over after a response, which
 * makes the connection unfit for reuse (SPEC 3.7), and passes a final response whose whole body is
 * already received on as one {@link FullHttpResponse}.
 *
 * <p>Implementation notes: Netty emits a bodiless response (HEAD, 204, 304, Content-Length: 0) as a head
 * and the shared EMPTY_LAST_CONTENT in one decode call; a Content-Length body comes from the next call,
 * as one last content when it is all there and fits a chunk. Either way the pair becomes one full
 * response; the second call is made here only after a final, delimited, successfully decoded head with
 * bytes after it, and its output is merged only when it is exactly one successful last content without
 * trailers (anything else, e.g. a partial body, is passed on as it is). Interim responses (1xx,
 * including 101), chunked and close-delimited bodies are never merged. Bytes after the response stay
 * in the buffer or in the decoder's state, where {@link #hasLeftover()} sees them either way.
 */
final class UpstreamResponseDecoder extends HttpResponseDecoder {
    private static final AsciiString HTTP_1_1 = AsciiString.cached("HTTP/1.1");
    private static final AsciiString OK = AsciiString.cached("OK");
    private boolean head;
    /** True from the first byte of a response until its last content is decoded. */
    private boolean midMessage;

    UpstreamResponseDecoder(HttpDecoderConfig config) {
        super(config);
    }

    /** The next response answers a request with {@code method}. */
    void expectResponseTo(HttpMethod method) {
        head = HttpMethod.HEAD.equals(method);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        if (head && msg instanceof HttpResponse response
                && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            return true;
        }
        return super.isContentAlwaysEmpty(msg);
    }

    /**
     * A status code is three digits, the first 1-9 (RFC 9112 4: {@code status-code = 3DIGIT}; RFC 9110 15 defines
     * 100-599, and 600-999 are relayed as the grammar allows): anything else ({@code 20}, {@code 2000}, {@code 000},
     * {@code 099}, {@code +200}) makes the head invalid, answered 502 like any other malformed response instead of
     * being relayed as a status no client can interpret.
     */
    @Override
    protected HttpMessage createMessage(String[] initialLine) {
        String code = initialLine[1];
        if (code.length() != 3 || code.charAt(0) < '1' || code.charAt(0) > '9' || !isDigit(code.charAt(1))
                || !isDigit(code.charAt(2))) {
            throw new IllegalArgumentException("invalid status code: " + code);
        }
        return super.createMessage(initialLine);
    }

    /**
     * A field name must be a token right before its colon ({@link MessageSyntax#isFieldNameBeforeColon}): Netty ends a
     * response's name at whitespace and skips on to the colon, which would turn {@code Set-Cookie admin=1; x: y} into
     * {@code Set-Cookie: y}; such a line makes the head (or the trailers) invalid, answered 502 like any other
     * malformed response. A common name is then the shared constant ({@link KnownHeaderNames}), not a copy of its
     * bytes.
     */
    @Override
    protected AsciiString splitHeaderName(byte[] line, int start, int length) {
        if (!MessageSyntax.isFieldNameBeforeColon(line, start, length)) {
            throw new IllegalArgumentException("invalid header name: not a token right before its colon");
        }
        AsciiString known = KnownHeaderNames.lookup(line, start, length);
        return known != null ? known : super.splitHeaderName(line, start, length);
    }

    /**
     * The version must be exactly {@code HTTP/<digit>.<digit>} ({@link MessageSyntax#isHttpVersion}): Netty upper-cases
     * it first and would read {@code http/1.1} as HTTP/1.1. {@code HTTP/1.1}, as nearly every response begins, is
     * returned without a new string.
     */
    @Override
    protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
        if (spelled(HTTP_1_1, line, start, length)) {
            return HTTP_1_1.toString();
        }
        if (!MessageSyntax.isHttpVersion(line, start, length)) {
            throw new IllegalArgumentException("invalid version: not HTTP/<digit>.<digit>");
        }
        return super.splitFirstWordInitialLine(line, start, length);
    }

    /** {@code OK}, the reason phrase of nearly every response, without a new string. */
    @Override
    protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
        return spelled(OK, line, start, length) ? OK.toString() : super.splitThirdWordInitialLine(line, start, length);
    }

    private static boolean spelled(AsciiString word, byte[] line, int start, int length) {
        return length == word.length() && Arrays.equals(word.array(), 0, length, line, start, start + length);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        int before = out.size();
        int start = buffer.readerIndex();
        decodeMerging(ctx, buffer, out, before);
        for (int i = before; i < out.size(); i++) {
            if (out.get(i) instanceof HttpResponse response) {
                refuseUnrelayableCoding(response);
            }
        }
        if (out.size() > before) {
            midMessage = !(out.get(out.size() - 1) instanceof LastHttpContent);
        } else if (buffer.readerIndex() != start) {
            // whole lines taken into the decoder's state (a status line, headers) without a message yet
            midMessage = true;
        }
    }

    private void decodeMerging(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out, int before)
            throws Exception {
        super.decode(ctx, buffer, out);
        int decoded = out.size() - before;
        if (decoded == 2) {
            if (out.get(before) instanceof HttpResponse response && mergeable(response)
                    && out.get(before + 1) == LastHttpContent.EMPTY_LAST_CONTENT) {
                out.set(before, full(response, Unpooled.EMPTY_BUFFER, EmptyHttpHeaders.INSTANCE));
                out.remove(before + 1);
            }
        } else if (decoded == 1 && buffer.isReadable() && out.get(before) instanceof HttpResponse response
                && mergeable(response) && HttpUtil.isContentLengthSet(response)
                && !HttpUtil.isTransferEncodingChunked(response)) {
            super.decode(ctx, buffer, out);
            if (out.size() == before + 2 && out.get(before + 1) instanceof LastHttpContent last
                    && !(last instanceof HttpMessage) && last.decoderResult().isSuccess()
                    && last.trailingHeaders().isEmpty()) {
                // the full response takes over the body's buffer; the last content is dropped unreleased
                out.set(before, full(response, last.content(), last.trailingHeaders()));
                out.remove(before + 1);
            }
        }
    }

    /**
     * Marks a final response with a body as malformed (answered 502) when its {@code Transfer-Encoding} is not exactly
     * {@code chunked} ({@link ResponseFraming#isChunkedOnly}): re-framed for the client, its body would reach it under
     * the wrong coding.
     */
    private void refuseUnrelayableCoding(HttpResponse response) {
        HttpHeaders headers = response.headers();
        String first = headers.get(HttpHeaderNames.TRANSFER_ENCODING);
        if (first == null || !response.decoderResult().isSuccess() || first.equalsIgnoreCase("chunked")
                && HeaderTokens.lines(headers, HttpHeaderNames.TRANSFER_ENCODING, 2) == 1) {
            return; // no coding, already refused, or the usual one line of exactly chunked
        }
        if (response.status().codeClass() != HttpStatusClass.INFORMATIONAL && !isContentAlwaysEmpty(response)
                && !ResponseFraming.isChunkedOnly(headers.getAll(HttpHeaderNames.TRANSFER_ENCODING))) {
            response.setDecoderResult(DecoderResult.failure(
                    new IllegalArgumentException("Transfer-Encoding other than chunked")));
        }
    }

    /** A final head decoded successfully that is not already full. */
    private static boolean mergeable(HttpResponse response) {
        return response.status().codeClass() != HttpStatusClass.INFORMATIONAL
                && response.decoderResult().isSuccess() && !(response instanceof FullHttpResponse);
    }

    private static FullHttpResponse full(HttpResponse response, ByteBuf content, HttpHeaders trailers) {
        FullHttpResponse full = new DefaultFullHttpResponse(
                response.protocolVersion(), response.status(), content, response.headers(), trailers);
        full.setDecoderResult(response.decoderResult());
        return full;
    }

    /**
     * True when received bytes wait in the decoder beyond the messages decoded so far, or were already taken
     * into its state as the beginning of another message (complete lines, which leave no readable bytes).
     */
    boolean hasLeftover() {
        return midMessage || actualReadableBytes() > 0;
    }
}
