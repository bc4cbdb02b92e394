package dev.portcullis.server.admin;

import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.log.Json;
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

/** Answers the admin endpoints (SPEC 6): {@code /healthz}, {@code /readyz}, {@code /config} and {@code /metrics}. */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final SnapshotHolder snapshots;
    private final BooleanSupplier ready;
    private final MetricsEndpoint metrics;

    AdminHandler(SnapshotHolder snapshots, BooleanSupplier ready, MetricsEndpoint metrics) {
        this.snapshots = snapshots;
        this.ready = ready;
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
        } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            response = json(HttpResponseStatus.METHOD_NOT_ALLOWED, "{\"error\":\"Method Not Allowed\"}");
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        } else {
            response = switch (path) {
                case "/healthz" -> json(HttpResponseStatus.OK, "{\"status\":\"ok\"}");
                case "/readyz" -> ready.getAsBoolean()
                        ? json(HttpResponseStatus.OK, "{\"status\":\"ready\"}")
                        : json(HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"status\":\"not ready\"}");
                case "/config" -> config();
                case "/metrics" -> metrics.response();
                default -> json(HttpResponseStatus.NOT_FOUND, "{\"error\":\"Not Found\"}");
            };
        }
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

    private FullHttpResponse config() {
        GatewaySnapshot snapshot = snapshots.current();
        if (snapshot == null) {
            return json(HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"error\":\"no config loaded\"}");
        }
        String body = "{\"version\":" + Json.quote(snapshot.config().version())
                + ",\"generation\":" + snapshot.generation()
                + ",\"loaded_at\":" + Json.quote(snapshot.loadedAt().toString())
                + ",\"rules\":" + snapshot.config().policy().rules().size()
                + ",\"source\":" + Json.quote(snapshot.config().source())
                + ",\"last_error\":null}";
        return json(HttpResponseStatus.OK, body);
    }

    private static FullHttpResponse json(HttpResponseStatus status, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response =
                new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }
}
