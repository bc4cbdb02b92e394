package dev.portcullis.server.it.support;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real WebSocket upstream on 127.0.0.1:0 built from Netty's {@link WebSocketServerProtocolHandler}:
 * every handshake is recorded, it greets each new session with a text message {@code welcome}, and
 * echoes text and binary messages (up to 4 MiB). The text {@code close-me} makes it send a Close
 * frame (1001) and close the connection.
 */
public final class WebSocketEchoServer implements AutoCloseable {
    public static final String PATH = "/ws";
    private static final int MAX_MESSAGE = 4 * 1024 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Map<String, String>> handshakes = new CopyOnWriteArrayList<>();
    private final List<Channel> sessions = new CopyOnWriteArrayList<>();

    private WebSocketEchoServer() throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new HandshakeRecorder())
                                .addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath(PATH)
                                        .maxFramePayloadLength(MAX_MESSAGE)
                                        .build()))
                                .addLast(new WebSocketFrameAggregator(MAX_MESSAGE))
                                .addLast(new Echo());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    public static WebSocketEchoServer start() throws InterruptedException {
        return new WebSocketEchoServer();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The request headers (lower-case names, last value wins) of every HTTP request received, in order. */
    public List<Map<String, String>> handshakes() {
        return List.copyOf(handshakes);
    }

    /** The connections that completed a handshake, in order. */
    public List<Channel> sessions() {
        return List.copyOf(sessions);
    }

    /** Waits until the {@code index}-th session's connection is closed. */
    public boolean awaitSessionClosed(int index, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (sessions.size() <= index) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        CountDownLatch closed = new CountDownLatch(1);
        sessions.get(index).closeFuture().addListener(f -> closed.countDown());
        return closed.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class HandshakeRecorder extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest request) {
                Map<String, String> headers = new java.util.TreeMap<>();
                request.headers().forEach(e -> headers.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue()));
                headers.put(":path", request.uri());
                handshakes.add(headers);
            }
            ctx.fireChannelRead(msg);
        }
    }

    private final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                sessions.add(ctx.channel());
                ctx.writeAndFlush(new TextWebSocketFrame("welcome"));
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof TextWebSocketFrame text && text.text().equals("close-me")) {
                text.release();
                ctx.writeAndFlush(new CloseWebSocketFrame(1001, "going away")).addListener(ChannelFutureListener.CLOSE);
            } else if (msg instanceof TextWebSocketFrame text) {
                ctx.writeAndFlush(new TextWebSocketFrame(text.content()));
            } else if (msg instanceof BinaryWebSocketFrame binary) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(binary.content()));
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
