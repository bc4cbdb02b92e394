package dev.portcullis.server.exchange;

import dev.portcullis.core.net.IpAddress;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/** A client connection's TCP peer address, and its text, each made once per connection when first asked for. */
final class PeerAddress {
    private final Channel channel;
    private @Nullable IpAddress address;
    private @Nullable String text;

    PeerAddress(Channel channel) {
        this.channel = channel;
    }

    /** The peer's address, 0.0.0.0 when the channel has none. */
    IpAddress address() {
        IpAddress known = address;
        if (known == null) {
            SocketAddress remote = channel.remoteAddress();
            known = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                    ? IpAddress.fromBytes(inet.getAddress().getAddress())
                    : IpAddress.parse("0.0.0.0");
            address = known;
        }
        return known;
    }

    String text() {
        String known = text;
        if (known == null) {
            known = address().toString();
            text = known;
        }
        return known;
    }
}
