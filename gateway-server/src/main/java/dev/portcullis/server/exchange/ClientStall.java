package dev.portcullis.server.exchange;

import dev.portcullis.server.transport.Outbound;
import dev.portcullis.server.transport.OutboundFootprint;
import io.netty.channel.Channel;

/**
 * Whether a client connection holds bytes its client does not take, as its share of the server's {@link StalledBudget}:
 * from when its channel becomes unwritable, or an exchange ends with part of its response still queued, until the
 * channel is writable again, the next exchange begins with nothing queued, or the connection closes.
 *
 * <p>Confined to the channel's event loop, except {@link #execute}. A connection whose client takes what it is sent at
 * once does no more than read its queue's size when an exchange ends and begins.
 */
final class ClientStall implements StalledBudget.Owner {
    private final Channel channel;
    private final OutboundFootprint footprint;
    private final StalledBudget.Account account;

    ClientStall(Channel channel, StalledBudget budget) {
        this.channel = channel;
        this.footprint = new OutboundFootprint(channel);
        this.account = budget.open(this);
    }

    /** The channel became writable (the client took enough) or unwritable (it takes too little). */
    void writabilityChanged() {
        if (channel.isWritable()) {
            account.unstalled();
        } else {
            stalled(Outbound.queuedBytes(channel));
        }
    }

    private void stalled(long queued) {
        if (queued > 0) {
            account.stalled(queued, footprint.bytes());
        }
    }

    /** An exchange ended: the rest of its response, if any, waits for the client. */
    void exchangeEnded() {
        if (channel.isActive()) {
            stalled(Outbound.queuedBytes(channel));
        }
    }

    /** An exchange begins: what the client took of the previous responses meanwhile is no longer its share. */
    void exchangeBegins() {
        if (account.isStalled() && channel.isWritable()) {
            long queued = Outbound.queuedBytes(channel);
            if (queued == 0) {
                account.unstalled();
            } else {
                stalled(queued);
            }
        }
    }

    /** The connection closed: its share is given back. */
    void released() {
        account.close();
    }

    @Override
    public boolean inEventLoop() {
        return channel.eventLoop().inEventLoop();
    }

    @Override
    public void execute(Runnable task) {
        channel.eventLoop().execute(task);
    }

    @Override
    public long queuedBytes() {
        return Outbound.queuedBytes(channel);
    }

    @Override
    public long footprint() {
        return footprint.bytes();
    }

    /** Ends an exchange in flight as {@code client_stalled} ({@link ClientStalledEvent}), then the connection. */
    @Override
    public void closeStalled() {
        if (channel.isActive()) {
            channel.pipeline().fireUserEventTriggered(ClientStalledEvent.INSTANCE);
            channel.close();
        }
    }
}
