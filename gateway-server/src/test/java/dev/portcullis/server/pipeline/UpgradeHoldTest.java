package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ServerContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The codec and the exchange serializer together: what follows a request asking to switch protocols waits, unread,
 * for that request's answer, whatever was pipelined before or after it.
 */
class UpgradeHoldTest {
    private final ServerContext server = new ServerContext(new SnapshotHolder(),
            new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of());
    private final List<String> passed = new ArrayList<>();
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final StrictHttpServerCodec codec = new StrictHttpServerCodec(new HttpDecoderConfig());

    UpgradeHoldTest() {
        ConnectionState state = new ConnectionState(channel, server, TimeUnit.MINUTES.toNanos(1),
                TimeUnit.MINUTES.toNanos(1));
        channel.pipeline().addLast(codec, new ExchangeSerializer(state, codec), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest request) {
                    passed.add(request.uri());
                }
                ReferenceCountUtil.release(msg);
            }
        });
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aSecondRequestAskingToSwitchKeepsReadingPausedAfterTheFirstIsAnsweredWithoutASwitch() {
        read(upgrade("/a") + upgrade("/b") + "more bytes");
        assertThat(passed).containsExactly("/a");
        assertThat(channel.config().isAutoRead()).as("held for /a").isFalse();

        answer(HttpResponseStatus.FORBIDDEN);
        assertThat(passed).containsExactly("/a", "/b");
        assertThat(codec.heldForUpgrade()).isTrue();
        assertThat(channel.config().isAutoRead()).as("held for /b: nothing more is read until its answer").isFalse();
    }

    @Test
    void aRequestQueuedBeforeTheOneAskingToSwitchDoesNotEndTheHold() {
        read(get("/z") + get("/a") + upgrade("/b") + "early frame bytes");
        assertThat(passed).containsExactly("/z");

        answer(HttpResponseStatus.OK); // /z: /a goes on, /b waits behind it
        assertThat(passed).containsExactly("/z", "/a");
        answer(HttpResponseStatus.OK); // /a: the hold is /b's, not /a's
        assertThat(passed).containsExactly("/z", "/a", "/b");
        assertThat(codec.heldForUpgrade()).as("what follows /b still waits for /b's answer").isTrue();
        assertThat(channel.config().isAutoRead()).isFalse();

        answer(HttpResponseStatus.OK); // /b answered without a switch: what followed it is read as requests
        assertThat(codec.heldForUpgrade()).isFalse();
    }

    private void read(String wire) {
        channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
    }

    private void answer(HttpResponseStatus status) {
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        channel.writeAndFlush(response);
        channel.runPendingTasks();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(out);
        }
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n";
    }

    private static String upgrade(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }
}
