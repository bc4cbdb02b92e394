package dev.portcullis.bench.embedded;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketChannelConfig;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * An {@link EmbeddedChannel} that is a {@link SocketChannel}, so that the gateway's real
 * {@code ChannelInitializer<SocketChannel>} and its upstream {@code Bootstrap} run on it unchanged: everything happens
 * on the calling thread, with no socket.
 *
 * <p>It has an IPv4 peer address (the gateway reads the client IP from it) and a socket config whose TCP options are
 * accepted and ignored. The shutdown methods close the channel: the gateway's paths under measurement do not half-close.
 */
public class EmbeddedSocketChannel extends EmbeddedChannel implements SocketChannel {

    private final InetSocketAddress local;
    private final InetSocketAddress remote;
    private final Config config;

    /** A channel not yet registered (what a {@code Bootstrap} creates and then registers itself). */
    public EmbeddedSocketChannel() {
        this(new InetSocketAddress("127.0.0.1", 8080), new InetSocketAddress("127.0.0.1", 40_000), false);
    }

    /** A channel with {@code handlers}, registered on its own embedded event loop when {@code register}. */
    public EmbeddedSocketChannel(InetSocketAddress local, InetSocketAddress remote, boolean register,
            ChannelHandler... handlers) {
        super(DefaultChannelId.newInstance(), false, false, handlers);
        this.local = local;
        this.remote = remote;
        this.config = new Config(this);
        if (register) {
            try {
                register();
            } catch (Exception e) {
                throw new IllegalStateException("registering the embedded channel failed", e);
            }
        }
    }

    @Override
    public @Nullable ServerSocketChannel parent() {
        return null;
    }

    @Override
    public SocketChannelConfig config() {
        return config;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    protected InetSocketAddress localAddress0() {
        return local;
    }

    @Override
    protected InetSocketAddress remoteAddress0() {
        return remote;
    }

    @Override
    public boolean isInputShutdown() {
        return !isOpen();
    }

    @Override
    public ChannelFuture shutdownInput() {
        return close();
    }

    @Override
    public ChannelFuture shutdownInput(ChannelPromise promise) {
        return close(promise);
    }

    @Override
    public boolean isOutputShutdown() {
        return !isOpen();
    }

    @Override
    public ChannelFuture shutdownOutput() {
        return close();
    }

    @Override
    public ChannelFuture shutdownOutput(ChannelPromise promise) {
        return close(promise);
    }

    @Override
    public boolean isShutdown() {
        return !isOpen();
    }

    @Override
    public ChannelFuture shutdown() {
        return close();
    }

    @Override
    public ChannelFuture shutdown(ChannelPromise promise) {
        return close(promise);
    }

    /** The channel options of {@link DefaultChannelConfig}; the socket options are remembered and have no effect. */
    private static final class Config extends DefaultChannelConfig implements SocketChannelConfig {
        private boolean tcpNoDelay;
        private boolean keepAlive;
        private boolean reuseAddress;
        private boolean allowHalfClosure;
        private int soLinger = -1;
        private int sendBufferSize = 64 * 1024;
        private int receiveBufferSize = 64 * 1024;
        private int trafficClass;

        Config(EmbeddedSocketChannel channel) {
            super(channel);
        }

        @Override
        public <T> boolean setOption(ChannelOption<T> option, T value) {
            if (option == ChannelOption.TCP_NODELAY) {
                setTcpNoDelay((Boolean) value);
            } else if (option == ChannelOption.SO_KEEPALIVE) {
                setKeepAlive((Boolean) value);
            } else {
                return super.setOption(option, value);
            }
            return true;
        }

        @Override
        public boolean isTcpNoDelay() {
            return tcpNoDelay;
        }

        @Override
        public SocketChannelConfig setTcpNoDelay(boolean tcpNoDelay) {
            this.tcpNoDelay = tcpNoDelay;
            return this;
        }

        @Override
        public int getSoLinger() {
            return soLinger;
        }

        @Override
        public SocketChannelConfig setSoLinger(int soLinger) {
            this.soLinger = soLinger;
            return this;
        }

        @Override
        public int getSendBufferSize() {
            return sendBufferSize;
        }

        @Override
        public SocketChannelConfig setSendBufferSize(int sendBufferSize) {
            this.sendBufferSize = sendBufferSize;
            return this;
        }

        @Override
        public int getReceiveBufferSize() {
            return receiveBufferSize;
        }

        @Override
        public SocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
            this.receiveBufferSize = receiveBufferSize;
            return this;
        }

        @Override
        public boolean isKeepAlive() {
            return keepAlive;
        }

        @Override
        public SocketChannelConfig setKeepAlive(boolean keepAlive) {
            this.keepAlive = keepAlive;
            return this;
        }

        @Override
        public int getTrafficClass() {
            return trafficClass;
        }

        @Override
        public SocketChannelConfig setTrafficClass(int trafficClass) {
            this.trafficClass = trafficClass;
            return this;
        }

        @Override
        public boolean isReuseAddress() {
            return reuseAddress;
        }

        @Override
        public SocketChannelConfig setReuseAddress(boolean reuseAddress) {
            this.reuseAddress = reuseAddress;
            return this;
        }

        @Override
        public SocketChannelConfig setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
            return this;
        }

        @Override
        public boolean isAllowHalfClosure() {
            return allowHalfClosure;
        }

        @Override
        public SocketChannelConfig setAllowHalfClosure(boolean allowHalfClosure) {
            this.allowHalfClosure = allowHalfClosure;
            return this;
        }

        @Override
        public SocketChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
            super.setConnectTimeoutMillis(connectTimeoutMillis);
            return this;
        }

        @Override
        @Deprecated
        public SocketChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
            super.setMaxMessagesPerRead(maxMessagesPerRead);
            return this;
        }

        @Override
        public SocketChannelConfig setWriteSpinCount(int writeSpinCount) {
            super.setWriteSpinCount(writeSpinCount);
            return this;
        }

        @Override
        public SocketChannelConfig setAllocator(ByteBufAllocator allocator) {
            super.setAllocator(allocator);
            return this;
        }

        @Override
        public SocketChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
            super.setRecvByteBufAllocator(allocator);
            return this;
        }

        @Override
        public SocketChannelConfig setAutoRead(boolean autoRead) {
            super.setAutoRead(autoRead);
            return this;
        }

        @Override
        public SocketChannelConfig setAutoClose(boolean autoClose) {
            super.setAutoClose(autoClose);
            return this;
        }

        @Override
        public SocketChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
            super.setMessageSizeEstimator(estimator);
            return this;
        }

        @Override
        public SocketChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
            super.setWriteBufferWaterMark(writeBufferWaterMark);
            return this;
        }
    }
}
