package dev.portcullis.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The direct memory that what a channel still has to write holds: a relayed response is queued as slices of the
 * buffers its upstream reads went into, and a slice keeps its whole buffer, so a connection holds more than its
 * {@linkplain Outbound#queuedBytes queued bytes} (about twice as much for a 48 KiB response, measured). One per channel,
 * reused, confined to its event loop.
 */
public final class OutboundFootprint implements ChannelOutboundBuffer.MessageProcessor {
    private final Channel channel;
    private @Nullable ByteBuf lastBuffer;
    private long buffers;
    private long readable;

    public OutboundFootprint(Channel channel) {
        this.channel = channel;
    }

    /**
     * The queued bytes, plus the unused rest of the buffers that the flushed ones are slices of (a buffer counted
     * once per run of slices of it). Walks the flushed writes: meant for when a client stalls, not per write.
     */
    public long bytes() {
        long queued = Outbound.queuedBytes(channel);
        ChannelOutboundBuffer queue = channel.unsafe().outboundBuffer();
        if (queued == 0 || queue == null) {
            return queued;
        }
        buffers = 0;
        readable = 0;
        try {
            queue.forEachFlushedMessage(this);
        } catch (Exception e) {
            throw new IllegalStateException("cannot happen: processMessage throws nothing", e);
        } finally {
            lastBuffer = null;
        }
        return queued + Math.max(0, buffers - readable);
    }

    @Override
    public boolean processMessage(Object msg) {
        if (msg instanceof ByteBuf buf) {
            ByteBuf whole = buf;
            for (ByteBuf parent = whole.unwrap(); parent != null; parent = parent.unwrap()) {
                whole = parent;
            }
            readable += buf.readableBytes();
            if (whole != lastBuffer) {
                lastBuffer = whole;
                buffers += whole.capacity();
            }
        }
        return true;
    }
}
