package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.HeadBudget;
import dev.portcullis.server.exchange.ServerContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Unfinished request heads over all connections have a budget (a small heap held thousands of 15 KB heads until
 * header_timeout and ran out of memory): past it, a connection that sends more of its head is closed, and what a
 * connection held is given back when it closes or its head completes.
 */
class HeadBudgetTest {
    private final HeadBudget budget = new HeadBudget(1_000);
    private final ServerContext server = new ServerContext(new SnapshotHolder(),
            new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of(), budget);

    @Test
    void aConnectionThatTakesTheHeadsPastTheBudgetIsClosedAndOthersGoOn() {
        EmbeddedChannel first = connection();
        EmbeddedChannel second = connection();

        first.writeInbound(head(600));
        assertThat(first.isOpen()).isTrue();
        assertThat(budget.pending()).isEqualTo(600);

        second.writeInbound(head(600));
        assertThat(second.isOpen()).as("past the budget").isFalse();
        assertThat(budget.pending()).as("the closed connection's share given back").isEqualTo(600);

        first.writeInbound(head(300));
        assertThat(first.isOpen()).as("within the budget").isTrue();
        first.close();
        assertThat(budget.pending()).as("all given back").isZero();
    }

    @Test
    void aHeadThatCompletesGivesItsShareBack() {
        EmbeddedChannel channel = connection();
        ConnectionState state = ConnectionState.of(channel);
        channel.writeInbound(head(900));
        assertThat(budget.pending()).isEqualTo(900);

        state.begin("id", "GET", "/");
        assertThat(budget.pending()).isZero();
        channel.writeInbound(head(900));
        assertThat(budget.pending()).as("a body's bytes, during the exchange, are not a head's").isZero();
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }

    private EmbeddedChannel connection() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ConnectionState state = new ConnectionState(channel, server, TimeUnit.MINUTES.toNanos(1),
                TimeUnit.MINUTES.toNanos(1));
        channel.pipeline().addLast(new RequestHeadTimeoutHandler(state));
        return channel;
    }

    private static ByteBuf head(int n) {
        return Unpooled.copiedBuffer("x".repeat(n), StandardCharsets.US_ASCII);
    }
}
