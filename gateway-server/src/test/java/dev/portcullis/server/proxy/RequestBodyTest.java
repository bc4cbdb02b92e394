package dev.portcullis.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.Limits;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ExchangeError;
import dev.portcullis.server.exchange.ServerContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The request body on its way to the upstream: parts counted against the size limit, broken or oversized parts
 * refused (and released), trailer fields dropped, parts queued until the upstream is there and written after the
 * head; and holding the client back, where the body deadline must hear of a release before reading starts again,
 * since starting to read can run the connection's timer at once (simulated here: the client channel's read runs it).
 */
class RequestBodyTest {
    private static final long PERIOD = TimeUnit.MILLISECONDS.toNanos(100);

    private final AtomicInteger bodyStalls = new AtomicInteger();
    private final AtomicInteger upstreamStalls = new AtomicInteger();
    private final List<String> refusals = new ArrayList<>();
    private final AtomicInteger readsWhileTimerRan = new AtomicInteger();
    private ExchangeTimers timers;
    private final EmbeddedChannel client = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
        @Override
        public void read(ChannelHandlerContext ctx) {
            // the connection's timer runs in the same event-loop turn as the resumed read
            if (timers != null) {
                readsWhileTimerRan.incrementAndGet();
                timers.expire(System.nanoTime());
            }
            ctx.read();
        }
    });
    private final EmbeddedChannel upstream = new EmbeddedChannel();
    private final ConnectionState state = new ConnectionState(client,
            new ServerContext(new SnapshotHolder(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of()),
            0, 0);
    private final RequestBody body;

    RequestBodyTest() {
        timers = new ExchangeTimers(state, bodyStalls::incrementAndGet, () -> { }, () -> { },
                upstreamStalls::incrementAndGet, () -> { }, () -> 64 * 1024);
        body = new RequestBody(state, timers, (status, error) -> refusals.add(status + " " + error));
        body.begin(new Limits(8192, 8192, 10, Duration.ofSeconds(5), Duration.ofNanos(PERIOD), 100, false), false);
    }

    @AfterEach
    void close() {
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
    }

    @Test
    void theClientHasAWholePeriodFromWhenTheConnectionIsThereEvenIfTheTimerRunsAtOnce() throws InterruptedException {
        timers.awaitBody(PERIOD);
        body.awaitUpstream();
        assertThat(client.config().isAutoRead()).isFalse();
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(PERIOD) + 20);

        body.upstreamAcquired();

        assertThat(client.config().isAutoRead()).isTrue();
        assertThat(readsWhileTimerRan).as("the timer ran as reading resumed").hasValue(1);
        assertThat(bodyStalls).as("the client could not send while the gateway waited for the upstream").hasValue(0);
        timers.expire(System.nanoTime() + PERIOD);
        assertThat(bodyStalls).as("a whole period since reading resumed").hasValue(1);
    }

    @Test
    void theClientHasAWholePeriodFromWhenTheUpstreamTakesMoreEvenIfTheTimerRunsAtOnce() throws InterruptedException {
        timers.awaitBody(PERIOD);
        body.holdBack();
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(PERIOD) + 20);

        body.upstreamWritable();

        assertThat(readsWhileTimerRan).hasValue(1);
        assertThat(bodyStalls).hasValue(0);
        assertThat(upstreamStalls).hasValue(0);
        assertThat(client.config().isAutoRead()).isTrue();
    }

    @Test
    void anUpstreamThatTakesNothingWhileTheBodyIsHeldBackStalls() {
        timers.awaitBody(PERIOD);
        body.holdBack();

        timers.expire(System.nanoTime() + PERIOD);

        assertThat(upstreamStalls).as("64 KiB queued at the hold, 64 KiB still queued").hasValue(1);
        assertThat(bodyStalls).hasValue(0);
    }

    @Test
    void releasingWhatDidNotHoldTheBodyBackLeavesTheDeadlineAlone() {
        timers.awaitBody(PERIOD);

        body.upstreamAcquired(); // acquired at once: never waited
        body.upstreamWritable();

        assertThat(readsWhileTimerRan).hasValue(0);
        timers.expire(System.nanoTime() + PERIOD);
        assertThat(bodyStalls).hasValue(1);
    }

    @Test
    void partsWaitForTheUpstreamAndFollowTheHeadInOrderWithoutTrailerFields() {
        assertThat(body.forward(part("ab"), null)).isFalse();
        LastHttpContent last = new DefaultLastHttpContent(bytes("cd"));
        last.trailingHeaders().add("X-Role", "admin");
        assertThat(body.forward(last, null)).as("the last part").isTrue();

        upstream.writeOutbound("head");
        body.writeQueued(upstream);
        upstream.flush();

        assertThat((Object) upstream.readOutbound()).isEqualTo("head");
        HttpContent first = upstream.readOutbound();
        LastHttpContent second = upstream.readOutbound();
        assertThat(first.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ab");
        assertThat(second.content().toString(StandardCharsets.US_ASCII)).isEqualTo("cd");
        assertThat(second.trailingHeaders().isEmpty()).as("trailer fields are not forwarded").isTrue();
        first.release();
        second.release();
        assertThat(refusals).isEmpty();
    }

    @Test
    void aPartPastTheSizeLimitIsRefusedWith413AndReleased() {
        HttpContent fits = part("12345");
        HttpContent over = part("123456");

        assertThat(body.forward(fits, upstream)).isFalse();
        assertThat(body.forward(over, upstream)).isFalse();

        assertThat(refusals).containsExactly("413 " + ExchangeError.BODY_TOO_LARGE);
        assertThat(over.refCnt()).isZero();
        upstream.flush();
        HttpContent written = upstream.readOutbound();
        assertThat(written).isSameAs(fits);
        written.release();
    }

    @Test
    void aBrokenChunkIsRefusedWith400AndReleased() {
        HttpContent broken = part("x");
        broken.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad chunk size")));

        assertThat(body.forward(broken, upstream)).isFalse();

        assertThat(refusals).containsExactly("400 " + ExchangeError.MALFORMED_BODY);
        assertThat(broken.refCnt()).isZero();
        upstream.flush();
        assertThat((Object) upstream.readOutbound()).isNull();
    }

    @Test
    void resetDropsTheQueuedPartsAndReadsTheClientAgain() {
        HttpContent queued = part("ab");
        body.awaitUpstream();
        body.forward(queued, null);

        body.reset();

        assertThat(queued.refCnt()).isZero();
        assertThat(client.config().isAutoRead()).isTrue();
        body.writeQueued(upstream);
        upstream.flush();
        assertThat((Object) upstream.readOutbound()).isNull();
    }

    private static HttpContent part(String text) {
        return new DefaultHttpContent(bytes(text));
    }

    private static ByteBuf bytes(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
    }
}
