package dev.portcullis.server.exchange;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import dev.portcullis.core.config.CustomResponses;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.http.HttpDates;
import dev.portcullis.server.http.RequestIds;
import java.nio.charset.StandardCharsets;

/**
 * The answers the gateway writes itself (SPEC 3.6): a fixed JSON body per status that never says why.
 *
 * <p>The specific reason goes to the decision log; the body only names the status.
 */
public final class GatewayResponses {
    static final String ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

    private GatewayResponses() {}

    /** A gateway-made status's reason phrase (RFC 9110) and fixed message. */
    private record Answer(String phrase, String message) {}

    private static Answer answer(int status) {
        return switch (status) {
            case 400 -> new Answer("Bad Request", "The request could not be understood");
            case 401 -> new Answer("Unauthorized", "Authentication is required");
            case 403 -> new Answer("Forbidden", "You do not have permission to access this resource");
            case 404 -> new Answer("Not Found", "The requested resource was not found");
            case 405 -> new Answer("Method Not Allowed", "The request method is not allowed");
            case 408 -> new Answer("Request Timeout", "The request was not received in time");
            case 413 -> new Answer("Content Too Large", "The request body is too large");
            case 414 -> new Answer("URI Too Long", "The request URI is too long");
            case 429 -> new Answer("Too Many Requests", "Rate limit exceeded");
            case 431 -> new Answer("Request Header Fields Too Large", "The request headers are too large");
            case 502 -> new Answer("Bad Gateway", "The upstream service is unavailable");
            case 503 -> new Answer("Service Unavailable", "The service is temporarily unavailable");
            case 504 -> new Answer("Gateway Timeout", "The upstream service did not respond in time");
            default -> throw new IllegalArgumentException("no gateway answer for status " + status);
        };
    }

    /** The fixed JSON body for a gateway-made status: its reason phrase and message. */
    static String body(int status) {
        Answer answer = answer(status);
        return "{\"error\":\"" + answer.phrase() + "\",\"message\":\"" + answer.message() + "\"}";
    }

    private static final byte[][] BODIES = new byte[600][];
    /** The statuses with RFC 9110's reason phrases, the same as the body's {@code error} (Netty's 413/414 are older). */
    private static final HttpResponseStatus[] STATUSES = new HttpResponseStatus[600];

    static {
        for (int status : new int[] {400, 401, 403, 404, 405, 408, 413, 414, 429, 431, 502, 503, 504}) {
            BODIES[status] = body(status).getBytes(StandardCharsets.UTF_8);
            STATUSES[status] = new HttpResponseStatus(status, answer(status).phrase());
        }
    }

    /** Builds the complete response for {@code status}; {@code close} adds {@code Connection: close}. */
    public static FullHttpResponse build(int status, String requestId, boolean close) {
        return build(status, requestId, close, CustomResponses.NONE);
    }

    /** As {@link #build(int, String, boolean)}, with the body {@code custom} gives for the status, if any. */
    public static FullHttpResponse build(int status, String requestId, boolean close, CustomResponses custom) {
        byte[] body = BODIES[status];
        if (body == null) {
            throw new IllegalArgumentException("no gateway answer for status " + status);
        }
        CharSequence contentType = HttpHeaderValues.APPLICATION_JSON;
        CustomResponses.Body replacement = custom.forStatus(status);
        if (replacement != null) {
            body = replacement.bytes();
            contentType = replacement.contentType();
        }
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, STATUSES[status], Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.DATE, HttpDates.now())
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(RequestIds.HEADER, requestId);
        if (status == 405) {
            response.headers().set(HttpHeaderNames.ALLOW, ALLOWED_METHODS);
        }
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    /** Answers a request the gateway rejected before any rule ran, and closes the connection. */
    public static ChannelFuture reject(Channel channel, Exchange exchange, Rejection rejection) {
        exchange.reason(rejection.code());
        return send(channel, exchange, rejection.status(), true);
    }

    /** Writes the answer for {@code exchange} and logs it; closes the connection afterwards when asked. */
    public static ChannelFuture send(Channel channel, Exchange exchange, int status, boolean close) {
        return write(channel, exchange, build(status, exchange.requestId(), close, custom(channel, exchange)), close);
    }

    /** Writes the 429 for {@code exchange} (SPEC 3.6) with {@code Retry-After} in whole seconds. */
    public static ChannelFuture sendRateLimited(Channel channel, Exchange exchange, int retryAfterSeconds, boolean close) {
        FullHttpResponse response = build(429, exchange.requestId(), close, custom(channel, exchange));
        response.headers().setInt(HttpHeaderNames.RETRY_AFTER, Math.max(1, retryAfterSeconds));
        return write(channel, exchange, response, close);
    }

    /** The custom bodies of the generation deciding the exchange, else of the live one (SPEC 3 {@code responses}). */
    private static CustomResponses custom(Channel channel, Exchange exchange) {
        GatewaySnapshot snapshot = exchange.snapshotIfAny();
        if (snapshot == null) {
            ConnectionState state = ConnectionState.find(channel);
            snapshot = state == null ? null : state.server().snapshots().current();
        }
        return snapshot == null ? CustomResponses.NONE : snapshot.config().responses();
    }

    private static ChannelFuture write(Channel channel, Exchange exchange, FullHttpResponse response, boolean close) {
        exchange.status(response.status().code());
        exchange.bytesOut(response.content().readableBytes());
        if (!close && exchange.http10()) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (close) {
            ConnectionState.of(channel).ending();
        }
        ChannelFuture written = channel.writeAndFlush(response);
        exchange.finish();
        if (close) {
            LingeringClose.afterWrite(written);
        }
        return written;
    }

    /**
     * Writes the 401 for {@code exchange} (SPEC 3.6): {@code WWW-Authenticate: Bearer realm="portcullis"},
     * with {@code error="invalid_token"} when a presented token was rejected. The reason stays in the log.
     */
    public static ChannelFuture sendChallenge(Channel channel, Exchange exchange, boolean invalidToken, boolean close) {
        FullHttpResponse response = build(401, exchange.requestId(), close, custom(channel, exchange));
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, invalidToken ? CHALLENGE_INVALID_TOKEN : CHALLENGE);
        return write(channel, exchange, response, close);
    }

    private static final String CHALLENGE = "Bearer realm=\"portcullis\"";
    private static final String CHALLENGE_INVALID_TOKEN = "Bearer realm=\"portcullis\", error=\"invalid_token\"";

}
