package dev.portcullis.server.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.runtime.SnapshotHolder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
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
    /** Long, so that no test depends on how fast it runs: the deadlines are passed in, never waited for. */
    private static final long IDLE = TimeUnit.HOURS.toNanos(1);
    private static final long HEAD = TimeUnit.MINUTES.toNanos(10);

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ConnectionState state = new ConnectionState(channel,
            new ServerContext(new SnapshotHolder(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of()),
            HEAD, IDLE);

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

        state.expire(System.nanoTime() + IDLE);
        assertThat(channel.isOpen()).as("took some of the response: not idle").isTrue();

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

    @Test
    void takingPartOfOneLargeMessageIsProgressToo() {
        queue(256 * 1024);
        state.awaitNextHead();
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        buffer.addFlush();
        buffer.removeBytes(16 * 1024); // the socket took 16 KiB of the one message: a partial write

        state.expire(System.nanoTime() + IDLE);
        assertThat(channel.isOpen()).as("took part of the message: not idle").isTrue();
        state.expire(System.nanoTime() + 2 * IDLE + 1);
        assertThat(channel.isOpen()).as("then nothing for a whole period").isFalse();
    }

    @Test
    void aWholeRequestWaitingBehindTheLastResponseGetsNo408ButTheIdleRules() {
        queue(64 * 1024);
        state.awaitNextHead();
        state.bytesReceived(); // the next request's head arrives...
        state.pause(ConnectionState.Pause.PIPELINED); // ...whole, and waits until the client took the last response

        state.expire(System.nanoTime() + HEAD);
        assertThat(channel.isOpen()).as("no 408 for a head that arrived whole").isTrue();
        assertThat((Object) channel.readOutbound()).as("nothing answered").isNull();
        state.expire(System.nanoTime() + HEAD + IDLE + 1);
        assertThat(channel.isOpen()).as("the client took nothing for a whole idle period").isFalse();
    }

    @Test
    void drainingClosesAnIdleConnectionOnceItsLastResponseIsWritten() {
        queue(64 * 1024);
        state.awaitNextHead();

        state.closeIfIdle();
        assertThat(state.isEnding()).as("a request waiting behind the response is dropped, not forwarded").isTrue();
        assertThat(channel.config().isAutoRead()).as("nothing more is read").isFalse();
        channel.runPendingTasks();
        assertThat(channel.isOpen()).as("closed only after the queued response is written").isFalse();
        assertThat(outboundBytes()).as("the queued response was written, not dropped").isEqualTo(64 * 1024);
    }

    private long outboundBytes() {
        long bytes = 0;
        for (Object out; (out = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) out;
            bytes += buf.readableBytes();
            buf.release();
        }
        return bytes;
    }

    /** Writes {@code bytes} to the channel without flushing: queued, not taken by the socket. */
    private void queue(int bytes) {
        channel.write(Unpooled.wrappedBuffer(new byte[bytes]));
    }
}
