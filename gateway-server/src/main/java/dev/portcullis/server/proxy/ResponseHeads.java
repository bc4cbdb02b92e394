package dev.portcullis.server.proxy;

import dev.portcullis.server.http.HopByHopHeaders;
import dev.portcullis.server.http.HttpDates;
import dev.portcullis.server.http.RequestIds;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/** Rewrites an upstream response head, in place, into the head the client receives. */
final class ResponseHeads {
    private ResponseHeads() {
    }

    /**
     * Prepares an interim (1xx) head for the client, with its request id (SPEC 3.6: every response carries one);
     * false when the client must not receive it because it speaks HTTP/1.0, which has no 1xx responses.
     */
    static boolean interimForClient(HttpResponse response, String requestId, boolean http10) {
        if (http10) {
            return false;
        }
        HopByHopHeaders.strip(response.headers());
        response.headers().set(RequestIds.HEADER, requestId);
        return true;
    }

    /**
     * Prepares a final head for the client: its connection-specific headers removed, its request id
     * set, a {@code Date} added when it has none, its body framed so that the client can find its end,
     * and HTTP/1.1 as its version.
     *
     * @param requestId the exchange's id, sent as {@link RequestIds#HEADER}
     * @param http10 whether the client speaks HTTP/1.0 (no chunked framing; keep-alive only when asked)
     * @param method the request method (a response to HEAD has no body)
     * @param mustClose whether the client connection ends after this response anyway
     * @return whether the client connection ends after this response ({@code Connection: close} sent)
     */
    static boolean finalForClient(HttpResponse response, String requestId, boolean http10, String method,
            boolean mustClose) {
        HttpHeaders headers = response.headers();
        HopByHopHeaders.strip(headers);
        headers.set(RequestIds.HEADER, requestId);
        if (!headers.contains(HttpHeaderNames.DATE)) {
            headers.set(HttpHeaderNames.DATE, HttpDates.now()); // RFC 9110 6.6.1: a proxy with a clock adds one
        }
        boolean close = mustClose;
        boolean chunked = HttpUtil.isTransferEncodingChunked(response);
        boolean delimited = chunked || HttpUtil.isContentLengthSet(response)
                || bodyless(method, response.status().code());
        if (http10) {
            if (chunked) {
                headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
            }
            if (!delimited || chunked) {
                close = true;
            }
            if (!close) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
        } else if (!delimited) {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        if (close) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        return close;
    }

    private static boolean bodyless(String method, int code) {
        return code == 204 || code == 304 || "HEAD".equals(method);
    }
}
