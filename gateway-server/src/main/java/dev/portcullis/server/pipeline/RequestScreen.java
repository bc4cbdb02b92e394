package dev.portcullis.server.pipeline;

import dev.portcullis.core.config.Limits;
import dev.portcullis.server.proxy.HopByHopHeaders;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The protocol checks a request head must pass before any rule runs (SPEC 3.6): decoder failures,
 * version, method, limits, unambiguous framing, bodies where none belong, a single sane Host.
 * Pure functions of the head and the limits, so they are unit-testable without a channel.
 */
final class RequestScreen {
    private RequestScreen() {}

    /** The first problem with {@code request}, or null when it may go on to the policy. */
    static @Nullable Rejection check(HttpRequest request, Limits limits) {
        HttpHeaders headers = request.headers();
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            return decoderFailure(decoded.cause(), headers);
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1 || version.minorVersion() > 1) {
            return Rejection.UNSUPPORTED_HTTP_VERSION;
        }
        HttpMethod method = request.method();
        if (method.equals(HttpMethod.TRACE) || method.equals(HttpMethod.CONNECT)) {
            return Rejection.METHOD_NOT_ALLOWED;
        }
        if (request.uri().length() > limits.maxUriLength()) {
            return Rejection.URI_TOO_LONG;
        }
        Rejection framing = framing(headers);
        if (framing != null) {
            return framing;
        }
        if (HopByHopHeaders.namesProtectedHeader(headers)) {
            return Rejection.BAD_CONNECTION_HEADER;
        }
        long contentLength = HttpUtil.getContentLength(request, 0L);
        if (hasBody(request) && forbidsBody(method, limits.allowGetBody())) {
            return Rejection.BODY_NOT_ALLOWED;
        }
        if (contentLength > limits.maxBodySize()) {
            return Rejection.BODY_TOO_LARGE;
        }
        boolean http10 = version.minorVersion() == 0;
        if (host(headers) == null && (!http10 || headers.contains(HttpHeaderNames.HOST))) {
            return Rejection.BAD_HOST_HEADER;
        }
        return null;
    }

    private static Rejection decoderFailure(Throwable cause, HttpHeaders headers) {
        if (cause instanceof TooLongHttpLineException) {
            return Rejection.URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return Rejection.HEADERS_TOO_LARGE;
        }
        if (cause instanceof TooLongFrameException) {
            return Rejection.MESSAGE_TOO_LARGE;
        }
        if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING) && headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            return Rejection.AMBIGUOUS_FRAMING;
        }
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("content-length")) {
            return Rejection.BAD_CONTENT_LENGTH;
        }
        if (message.contains("transfer-encoding")) {
            return Rejection.BAD_TRANSFER_ENCODING;
        }
        return Rejection.MALFORMED_REQUEST;
    }

    /** Framing must be exactly one of: nothing, one {@code Content-Length}, or {@code Transfer-Encoding: chunked}. */
    static @Nullable Rejection framing(HttpHeaders headers) {
        if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
            if (codings.size() != 1 || !codings.get(0).trim().equalsIgnoreCase("chunked")) {
                return Rejection.BAD_TRANSFER_ENCODING;
            }
            if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                return Rejection.AMBIGUOUS_FRAMING;
            }
        } else if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            List<String> lengths = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
            if (lengths.size() != 1 || !isDigits(lengths.get(0))) {
                return Rejection.BAD_CONTENT_LENGTH;
            }
        }
        return null;
    }

    static boolean hasBody(HttpRequest request) {
        return request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)
                || HttpUtil.getContentLength(request, 0L) > 0;
    }

    private static boolean isDigits(String value) {
        if (value.isEmpty() || value.length() > 18) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean forbidsBody(HttpMethod method, boolean allowGetBody) {
        if (method.equals(HttpMethod.GET)) {
            return !allowGetBody;
        }
        return method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.TRACE);
    }

    /** The single Host header if it is present exactly once and looks like an authority, else null. */
    static @Nullable String host(HttpHeaders headers) {
        String host = headers.get(HttpHeaderNames.HOST);
        if (host == null || host.isEmpty() || headers.getAll(HttpHeaderNames.HOST).size() != 1) {
            return null;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#') {
                return null;
            }
        }
        return host;
    }

    /** The Host as policies see it: port removed, lower case. */
    static String policyHost(String hostHeader) {
        String host = hostHeader;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && host.indexOf(':') == colon) {
                host = host.substring(0, colon);
            }
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return host.toLowerCase(Locale.ROOT);
            }
        }
        return host;
    }
}
