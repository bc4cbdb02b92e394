package dev.portcullis.server.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import org.jspecify.annotations.Nullable;

/** What a channel still has to write: the progress of a slow reader is seen as this number going down. */
public final class Outbound {
    private Outbound() {}

    /**
     * The bytes written to {@code channel} that its socket has not taken yet; 0 without a channel or a buffer. The
     * buffer's pending count drops only when a whole message is written, so the part of the first message already
     * written (its progress) is taken off: a reader slowly taking one large message is seen making progress. (Read it
     * outside write listeners: Netty completes a write's promise before it takes the message off the pending count.
     * The gateway writes byte buffers only; a FileRegion's progress would not match its pending size.)
     */
    public static long queuedBytes(@Nullable Channel channel) {
        ChannelOutboundBuffer queue = channel == null ? null : channel.unsafe().outboundBuffer();
        return queue == null ? 0 : queue.totalPendingWriteBytes() - queue.currentProgress();
    }
}
