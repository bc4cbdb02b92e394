package dev.portcullis.server;

import dev.portcullis.server.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's two bound server channels: the admin listener ({@code admin.listen}) and the public one
 * ({@code listen}). They close separately because a drain stops only the public one: the admin port keeps
 * answering {@code /readyz} (503 by then) and {@code /healthz} until the gateway closes.
 */
final class ListenerChannels {
    private final Transport transport;
    // written by the starting thread, read by the draining and closing ones
    private volatile @Nullable Channel admin;
    private volatile @Nullable Channel proxy;
    private volatile int port;
    private volatile int adminPort;

    ListenerChannels(Transport transport) {
        this.transport = transport;
    }

    /** Binds {@code admin.listen}, served by {@code loop}. */
    Channel bindAdmin(EventLoopGroup loop, InetSocketAddress address, ChannelHandler initializer) throws IOException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loop)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(initializer);
        Channel bound = bindOrThrow(bootstrap, address, "admin.listen");
        admin = bound;
        adminPort = ((InetSocketAddress) bound.localAddress()).getPort();
        return bound;
    }

    /** Binds {@code listen}: {@code acceptors} accept, {@code workers} run the client connections. */
    Channel bindPublic(EventLoopGroup acceptors, EventLoopGroup workers, InetSocketAddress address,
            ChannelHandler initializer) throws IOException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(initializer);
        transport.configureAccepted(bootstrap);
        Channel bound = bindOrThrow(bootstrap, address, "listen");
        proxy = bound;
        port = ((InetSocketAddress) bound.localAddress()).getPort();
        return bound;
    }

    private static Channel bindOrThrow(ServerBootstrap bootstrap, InetSocketAddress address, String key)
            throws IOException {
        var bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot bind " + key + " " + address + ": " + bound.cause().getMessage(),
                    bound.cause());
        }
        return bound.channel();
    }

    /** The bound public port; 0 before it is bound. */
    int port() {
        return port;
    }

    /** The bound admin port; 0 before it is bound. */
    int adminPort() {
        return adminPort;
    }

    /** Closes the public listener, if bound: new connections are refused, accepted ones go on. */
    void stopAccepting() {
        close(proxy);
    }

    /** Closes whichever listeners were bound, admin first. */
    void close() {
        close(admin);
        close(proxy);
    }

    private static void close(@Nullable Channel listener) {
        if (listener != null) {
            listener.close().awaitUninterruptibly();
        }
    }
}
