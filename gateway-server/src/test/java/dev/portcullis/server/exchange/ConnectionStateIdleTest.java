package dev.portcullis.server.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.runtime.SnapshotHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The idle timeout between requests: bytes of the last response the gateway has not written yet (written to the
 * channel, not flushed) stand for what the client has not taken. A connection is idle only when the client takes none
 * of them, or there are none, for the whole period: closing drops them.
 */
class ConnectionStateIdleTest {
    private static final long IDLE = TimeUnit.MILLISECONDS.toNanos(100);

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ConnectionState state = new ConnectionState(channel,
            new ServerContext(new SnapshotHolder(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of()),
            0, IDLE);

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aConnectionWithNothingLeftToWriteIsClosedOnceTheIdleTimeoutPassed() {
        state.awaitNextHead();

        state.expire(System.nanoTime() + IDLE / 2);
        assertThat(channel.isOpen()).as("before idle_timeout").isTrue();
        state.expire(System.nanoTime() + IDLE);
        assertThat(channel.isOpen()).as("after idle_timeout").isFalse();
    }

    @Test
    void whileTheClientStillTakesTheLastResponseTheIdlePeriodStartsAgain() {
        queue(64 * 1024);
        state.awaitNextHead();
        channel.flush(); // the socket took the queued bytes
        queue(16 * 1024);

        long next = state.expire(System.nanoTime() + IDLE);
        assertThat(channel.isOpen()).as("took some of the response: not idle").isTrue();
        assertThat(next).isPositive().isLessThanOrEqualTo(IDLE + TimeUnit.MILLISECONDS.toNanos(50));

        state.expire(System.nanoTime() + 2 * IDLE + 1);
        assertThat(channel.isOpen()).as("then took nothing for a whole period").isFalse();
    }

    @Test
    void aClientThatTakesNoneOfTheLastResponseForThePeriodIsDisconnected() {
        queue(64 * 1024);
        state.awaitNextHead();

        state.expire(System.nanoTime() + IDLE);
        assertThat(channel.isOpen()).isFalse();
    }

    /** Writes {@code bytes} to the channel without flushing: queued, not taken by the socket. */
    private void queue(int bytes) {
        channel.write(Unpooled.wrappedBuffer(new byte[bytes]));
    }
}
