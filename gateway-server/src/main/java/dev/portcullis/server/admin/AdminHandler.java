package dev.portcullis.server.admin;

import dev.portcullis.server.http.HttpDates;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * Answers the admin endpoints (SPEC 6): {@code /healthz}, {@code /readyz}, {@code /config}, {@code /metrics}
 * and {@code POST /reload}.
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final BooleanSupplier ready;
    private final ConfigEndpoint config;
    private final MetricsEndpoint metrics;

    AdminHandler(BooleanSupplier ready, ConfigEndpoint config, MetricsEndpoint metrics) {
        this.ready = ready;
        this.config = config;
        this.metrics = metrics;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        String uri = request.uri();
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        FullHttpResponse response;
        if (!request.decoderResult().isSuccess()) {
            response = json(HttpResponseStatus.BAD_REQUEST, "{\"error\":\"Bad Request\"}");
        } else if ("/reload".equals(path)) {
            reload(ctx, request);
            return;
        } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            response = json(HttpResponseStatus.METHOD_NOT_ALLOWED, "{\"error\":\"Method Not Allowed\"}");
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        } else {
            response = switch (path) {
                case "/healthz" -> json(HttpResponseStatus.OK, "{\"status\":\"ok\"}");
                case "/readyz" -> ready.getAsBoolean()
                        ? json(HttpResponseStatus.OK, "{\"status\":\"ready\"}")
                        : json(HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"status\":\"not ready\"}");
                case "/config" -> json(config.status());
                case "/metrics" -> metrics.response();
                default -> json(HttpResponseStatus.NOT_FOUND, "{\"error\":\"Not Found\"}");
            };
        }
        respond(ctx, request, response);
    }

    private void reload(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.method().equals(HttpMethod.POST)) {
            FullHttpResponse response =
                    json(HttpResponseStatus.METHOD_NOT_ALLOWED, "{\"error\":\"Method Not Allowed\"}");
            response.headers().set(HttpHeaderNames.ALLOW, "POST");
            respond(ctx, request, response);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        // answered later, on the reload thread: a request pipelined behind this one waits, so answers stay in order
        ctx.channel().config().setAutoRead(false);
        config.reload().whenComplete((answer, error) -> {
            FullHttpResponse response = answer != null ? json(answer)
                    : json(HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"error\":\"reload unavailable\"}");
            if (!keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            var written = ctx.writeAndFlush(response);
            if (keepAlive) {
                written.addListener(done -> ctx.channel().config().setAutoRead(true));
            } else {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
        boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        if (request.method().equals(HttpMethod.HEAD)) {
            response.content().clear();
        }
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private static FullHttpResponse json(ConfigEndpoint.Answer answer) {
        return json(HttpResponseStatus.valueOf(answer.status()), answer.body());
    }

    private static FullHttpResponse json(HttpResponseStatus status, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response =
                new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers()
                .set(HttpHeaderNames.DATE, HttpDates.now())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }
}
