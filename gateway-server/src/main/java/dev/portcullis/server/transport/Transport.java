package dev.portcullis.server.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/** The I/O transport: Linux epoll when its native library loads, Java NIO otherwise. */
public record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannelClass,
        Class<? extends SocketChannel> socketChannelClass,
        Class<? extends DatagramChannel> datagramChannelClass) {

    /** Picks epoll when available (and not disabled with {@code -Dportcullis.transport=nio}). */
    public static Transport best(boolean preferNative) {
        if (preferNative && Epoll.isAvailable()) {
            return new Transport(
                    "epoll",
                    EpollIoHandler.newFactory(),
                    EpollServerSocketChannel.class,
                    EpollSocketChannel.class,
                    EpollDatagramChannel.class);
        }
        return nio();
    }

    /** The portable NIO transport. */
    public static Transport nio() {
        return new Transport(
                "nio",
                NioIoHandler.newFactory(),
                NioServerSocketChannel.class,
                NioSocketChannel.class,
                NioDatagramChannel.class);
    }

    /**
     * The most bytes the kernel holds for a TCP connection of this transport that it has not sent yet (epoll:
     * {@code TCP_NOTSENT_LOWAT}; NIO has no such option and leaves it to the kernel).
     *
     * <p>Why: otherwise Linux grows a connection's send buffer up to {@code net.ipv4.tcp_wmem}'s maximum (4 MiB by
     * default) and reports the socket writable again only once about half of that has drained. The gateway sees a
     * reader's progress by the bytes it has not handed to the kernel yet going down ({@link Outbound}); behind
     * megabytes of unsent kernel buffer a slow but steady reader shows none for a long time. With 16 KiB, the kernel
     * asks for more as soon as the peer has taken about half of that; in-flight data is still bounded only by the
     * peer's receive window, so throughput is not.
     */
    public static final long UNSENT_LIMIT_BYTES = 16 * 1024;

    /** Applies this transport's options to the connections a listener accepts. */
    public ServerBootstrap configureAccepted(ServerBootstrap bootstrap) {
        if (socketChannelClass == EpollSocketChannel.class) {
            bootstrap.childOption(EpollChannelOption.TCP_NOTSENT_LOWAT, UNSENT_LIMIT_BYTES);
        }
        return bootstrap;
    }

    /** Applies this transport's options to a connection the gateway opens. */
    public Bootstrap configureConnecting(Bootstrap bootstrap) {
        if (socketChannelClass == EpollSocketChannel.class) {
            bootstrap.option(EpollChannelOption.TCP_NOTSENT_LOWAT, UNSENT_LIMIT_BYTES);
        }
        return bootstrap;
    }

    /** A new event loop group of this transport with {@code threads} threads (0 = Netty's default). */
    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory);
    }
}
