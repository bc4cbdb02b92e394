package dev.portcullis.server.pipeline;

import dev.portcullis.server.http.HeaderTokens;
import dev.portcullis.server.http.HopByHopHeaders;
import dev.portcullis.server.exchange.Rejection;
import dev.portcullis.core.config.Limits;
import dev.portcullis.core.http.RequestFraming;
import dev.portcullis.core.http.RequestHead;
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
import org.jspecify.annotations.Nullable;

/**
 * The protocol checks a request head must pass before any rule runs (SPEC 3.6): decoder failures,
 * version, method, limits, unambiguous framing, bodies where none belong, a single sane Host.
 * Pure functions of the head and the limits, so they are unit-testable without a channel.
 */
final class RequestScreen {
    private RequestScreen() {}

    /**
     * The first problem with {@code request}, or null when it may go on to the policy.
     * {@code identityHeaders} are the config's identity header names, which {@code Connection} may not name.
     */
    static @Nullable Rejection check(HttpRequest request, Limits limits, List<String> identityHeaders) {
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
        if (!RequestHead.isUpperCaseToken(method.name())) {
            // "delete" or "Get" would be decided as one method and might be served as another (as nginx: 400)
            return Rejection.BAD_METHOD;
        }
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
        if (HopByHopHeaders.namesProtectedHeader(headers, identityHeaders)) {
            return Rejection.BAD_CONNECTION_HEADER;
        }
        long contentLength = HttpUtil.getContentLength(request, 0L);
        if (hasBody(request) && RequestFraming.forbidsBody(method.name(), limits.allowGetBody())) {
            return Rejection.BODY_NOT_ALLOWED;
        }
        if (contentLength > limits.maxBodySize()) {
            return Rejection.BODY_TOO_LARGE;
        }
        if (HeaderTokens.lines(headers, HttpHeaderNames.AUTHORIZATION, 2) > 1) {
            // the gateway would check one credential and an upstream might read another
            return Rejection.AMBIGUOUS_AUTHORIZATION;
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
        // The decoder keeps the headers it parsed: name the framing problem when that is what failed.
        Rejection framing = framing(headers);
        return framing != null ? framing : Rejection.MALFORMED_REQUEST;
    }

    /** The framing problem of {@code headers} ({@link RequestFraming#check}), or null when there is none. */
    static @Nullable Rejection framing(HttpHeaders headers) {
        List<String> transferEncodings = headers.contains(HttpHeaderNames.TRANSFER_ENCODING)
                ? headers.getAll(HttpHeaderNames.TRANSFER_ENCODING) : List.of();
        List<String> contentLengths = headers.contains(HttpHeaderNames.CONTENT_LENGTH)
                ? headers.getAll(HttpHeaderNames.CONTENT_LENGTH) : List.of();
        RequestFraming.Problem problem = RequestFraming.check(transferEncodings, contentLengths);
        if (problem == null) {
            return null;
        }
        return switch (problem) {
            case BAD_TRANSFER_ENCODING -> Rejection.BAD_TRANSFER_ENCODING;
            case AMBIGUOUS_FRAMING -> Rejection.AMBIGUOUS_FRAMING;
            case BAD_CONTENT_LENGTH -> Rejection.BAD_CONTENT_LENGTH;
        };
    }

    static boolean hasBody(HttpRequest request) {
        return request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)
                || HttpUtil.getContentLength(request, 0L) > 0;
    }

    /** The single Host header if it is present exactly once and is one host and an optional port, else null. */
    static @Nullable String host(HttpHeaders headers) {
        String host = headers.get(HttpHeaderNames.HOST);
        if (host == null || HeaderTokens.lines(headers, HttpHeaderNames.HOST, 2) != 1
                || !RequestHead.isValidAuthority(host)) {
            return null;
        }
        return host;
    }

    /** The Host as policies see it: port removed, lower case. */
    static String policyHost(String hostHeader) {
        return RequestHead.policyHost(hostHeader);
    }
}
