package dev.portcullis.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.UpstreamSettings;
import dev.portcullis.server.transport.Transport;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A pooled upstream connection is closed after idling in the pool, and never while it is lent. */
class UpstreamIdleTest {
    private static final long IDLE = TimeUnit.SECONDS.toNanos(60);

    private final MockTicker ticker = Ticker.newMockTicker();
    private UpstreamHandler handler;
    private EmbeddedChannel channel;

    @BeforeEach
    void connect() {
        UpstreamSettings settings = new UpstreamSettings("http", "127.0.0.1", 8080, "127.0.0.1:8080",
                Duration.ofSeconds(2), Duration.ofSeconds(30), 16, false);
        UpstreamPool pool = new UpstreamPool(settings, Transport.nio(), List.of(),
                DefaultAddressResolverGroup.INSTANCE);
        handler = new UpstreamHandler(pool, new UpstreamResponseDecoder(new HttpDecoderConfig()), IDLE);
        channel = EmbeddedChannel.builder().ticker(ticker).handlers(handler).build();
    }

    private void advanceSeconds(long seconds) {
        ticker.advance(seconds, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
    }

    @Test
    void aNewConnectionNeverLentIsClosedAfterTheIdleTime() {
        advanceSeconds(59);
        assertThat(channel.isActive()).isTrue();

        advanceSeconds(1);
        assertThat(channel.isActive()).isFalse();
    }

    @Test
    void theIdleTimeCountsFromTheConnectionsReturnNotFromItsOpening() {
        handler.lend(new NoOpListener(), HttpMethod.GET);
        advanceSeconds(90);
        assertThat(channel.isActive()).as("lent for 90 s: never idle").isTrue();

        handler.release(true);
        advanceSeconds(59);
        assertThat(channel.isActive()).isTrue();
        handler.lend(new NoOpListener(), HttpMethod.GET);
        handler.release(true);
        advanceSeconds(59);
        assertThat(channel.isActive()).as("returned again 59 s ago").isTrue();

        advanceSeconds(1);
        assertThat(channel.isActive()).isFalse();
    }

    @Test
    void aClosedConnectionLeavesNoTimerBehind() {
        channel.close();
        assertThat(channel.runScheduledPendingTasks()).isEqualTo(-1);
    }

    @Test
    void aConnectionTakenOverByATunnelLeavesNoTimerBehind() {
        handler.lend(new NoOpListener(), HttpMethod.GET);
        channel.pipeline().remove(handler);

        assertThat(channel.runScheduledPendingTasks()).isEqualTo(-1);
        advanceSeconds(600);
        assertThat(channel.isActive()).isTrue();
    }

    @Test
    void aConnectionReleasedDuringAReadIsIdleFromThatRelease() {
        handler.lend(new NoOpListener(), HttpMethod.GET);
        advanceSeconds(50);
        channel.pipeline().fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        handler.release(true);
        channel.pipeline().fireChannelReadComplete();
        advanceSeconds(59);
        assertThat(channel.isActive()).isTrue();

        advanceSeconds(1);
        assertThat(channel.isActive()).isFalse();
    }

    /** An exchange that ignores what the connection reports. */
    private static final class NoOpListener implements UpstreamListener {
        @Override
        public void onUpstreamMessage(HttpObject message) {
            ReferenceCountUtil.release(message);
        }

        @Override
        public void onUpstreamReadComplete() {}

        @Override
        public void onUpstreamWritabilityChanged(boolean writable) {}

        @Override
        public void onUpstreamClosed(@Nullable Throwable cause) {}
    }
}
