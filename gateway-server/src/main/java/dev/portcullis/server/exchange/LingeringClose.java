package dev.portcullis.server.exchange;

import dev.portcullis.server.http.HandlerNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection after a gateway-made answer without destroying that answer.
 *
 * <p>A client that is still sending a body when the gateway answers (a denied upload, a 413) would
 * get a TCP reset if the socket were closed with unread input, and a reset can discard the answer
 * before the client reads it. So, as nginx's lingering close does: stop sending (FIN), read and drop
 * whatever still arrives, and close when the client closes or after {@link #LINGER_SECONDS}.
 */
final class LingeringClose {
    static final long LINGER_SECONDS = 2;
    private static final String NAME = HandlerNames.LINGERING_CLOSE;

    private LingeringClose() {}

    /** Lingers, then closes, once {@code written} completes. */
    static void afterWrite(ChannelFuture written) {
        written.addListener(done -> linger(written.channel()));
    }

    private static void linger(Channel channel) {
        if (!channel.isActive() || channel.pipeline().get(NAME) != null) {
            return;
        }
        channel.pipeline().addFirst(NAME, Discard.INSTANCE);
        channel.config().setAutoRead(true);
        channel.eventLoop().schedule(() -> {
            channel.close();
        }, LINGER_SECONDS, TimeUnit.SECONDS);
        if (channel instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
        } else {
            channel.close();
        }
    }

    /** Drops every inbound message: nothing after the answer is a request any more. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        static final Discard INSTANCE = new Discard();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // swallowed: nothing downstream is waiting for input any more
        }
    }
}
