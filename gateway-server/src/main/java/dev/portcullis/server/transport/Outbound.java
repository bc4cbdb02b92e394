package dev.portcullis.server.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import org.jspecify.annotations.Nullable;

/** What a channel still has to write: the progress of a slow reader is seen as this number going down. */
public final class Outbound {
    private Outbound() {}

    /** The bytes written to {@code channel} that its socket has not taken yet; 0 without a channel or a buffer. */
    public static long queuedBytes(@Nullable Channel channel) {
        ChannelOutboundBuffer queue = channel == null ? null : channel.unsafe().outboundBuffer();
        return queue == null ? 0 : queue.totalPendingWriteBytes();
    }
}
