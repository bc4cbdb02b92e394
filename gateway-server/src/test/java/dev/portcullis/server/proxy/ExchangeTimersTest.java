package dev.portcullis.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ServerContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client-stall deadline: bytes queued for the client (written, not yet flushed to the socket) stand for what it
 * has not taken; the exchange ends when none of them went for the whole period, and not while some did or the request
 * body is still arriving. And the body deadline: while the gateway holds the body back it is the upstream's (it must take
 * some of what was queued for it within each period), and once the gateway reads again the client has a whole period.
 * And the wait for more of a started response: the upstream must send some within each period while the gateway
 * reads it, not while the gateway holds it back for a client that cannot take more.
 */
class ExchangeTimersTest {
    private static final long PERIOD = TimeUnit.MILLISECONDS.toNanos(100);

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ConnectionState state = new ConnectionState(channel,
            new ServerContext(new SnapshotHolder(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of()),
            0, 0);
    private final AtomicInteger stalls = new AtomicInteger();
    private final AtomicInteger bodyStalls = new AtomicInteger();
    private final AtomicInteger upstreamStalls = new AtomicInteger();
    private final AtomicInteger responseStalls = new AtomicInteger();
    private final AtomicLong queuedForUpstream = new AtomicLong();
    private final ExchangeTimers timers = new ExchangeTimers(state, bodyStalls::incrementAndGet, () -> { },
            stalls::incrementAndGet, upstreamStalls::incrementAndGet, responseStalls::incrementAndGet,
            queuedForUpstream::get);
    /** The production hold and release of the body (it never refuses a part here: none is forwarded). */
    private final RequestBody body = new RequestBody(state, timers, (status, error) -> {
        throw new AssertionError("refused " + status + " " + error);
    });

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aClientThatTakesNoneOfTheQueuedBytesForThePeriodStalls() {
        long start = System.nanoTime();
        queue(64 * 1024);
        timers.clientBlocked(PERIOD);

        assertThat(timers.expire(start + PERIOD / 2)).isPositive();
        assertThat(stalls).hasValue(0);
        timers.expire(System.nanoTime() + PERIOD);
        assertThat(stalls).hasValue(1);
        assertThat(timers.expire(System.nanoTime() + 10 * PERIOD)).as("no deadline left").isEqualTo(Long.MAX_VALUE);
        assertThat(stalls).hasValue(1);
    }

    @Test
    void anyProgressWithinThePeriodStartsItAgain() {
        queue(64 * 1024);
        timers.clientBlocked(PERIOD);
        channel.flush(); // the socket took the queued bytes
        queue(16 * 1024);

        long next = timers.expire(System.nanoTime() + PERIOD);
        assertThat(stalls).as("took some").hasValue(0);
        assertThat(next).isPositive().isLessThanOrEqualTo(PERIOD + TimeUnit.MILLISECONDS.toNanos(50));

        timers.expire(System.nanoTime() + 2 * PERIOD + 1);
        assertThat(stalls).as("then nothing for a whole period").hasValue(1);
    }

    @Test
    void notWhileTheRequestBodyIsStillArrivingNorOnceTheClientCanTakeMore() {
        timers.awaitBody(100 * PERIOD);
        queue(64 * 1024);
        timers.clientBlocked(PERIOD);
        timers.expire(System.nanoTime() + PERIOD);
        assertThat(stalls).as("the client is still sending its body").hasValue(0);

        timers.cancelBody();
        timers.clientUnblocked();
        timers.expire(System.nanoTime() + 5 * PERIOD);
        assertThat(stalls).as("it could take more again").hasValue(0);
    }

    @Test
    void theEndOfAnExchangeClearsItSoTheNextOneStartsWithout() {
        queue(64 * 1024);
        timers.clientBlocked(PERIOD);
        timers.cancelAll();

        timers.expire(System.nanoTime() + 5 * PERIOD);
        assertThat(stalls).hasValue(0);
        timers.clientBlocked(0);
        timers.expire(System.nanoTime() + 5 * PERIOD);
        assertThat(stalls).as("idle_timeout 0: no deadline").hasValue(0);
    }

    @Test
    void aBodyTheGatewayHoldsBackIsTheUpstreamsToTakeAndItMustTakeSomeEachPeriod() {
        timers.awaitBody(PERIOD);
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
        queuedForUpstream.set(40 * 1024);
        timers.expire(System.nanoTime() + 2 * PERIOD);
        assertThat(bodyStalls).as("the gateway is not reading it").hasValue(0);
        assertThat(upstreamStalls).as("the upstream takes some").hasValue(0);

        timers.expire(System.nanoTime() + 4 * PERIOD);
        assertThat(upstreamStalls).as("then none for a whole period").hasValue(1);
        assertThat(bodyStalls).hasValue(0);
    }

    @Test
    void anUpstreamThatTakesNoneOfWhatWasQueuedWhenTheBodyWasHeldBackStalls() {
        timers.awaitBody(PERIOD);
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
        timers.expire(System.nanoTime() + 2 * PERIOD);
        assertThat(upstreamStalls).as("none of it taken in the first period").hasValue(1);
        assertThat(bodyStalls).hasValue(0);
    }

    @Test
    void anUpstreamThatStopsTakingTheBodyWhileTheClientTakesNoneOfItsEarlyResponseWaitsForTheClient() {
        earlyAnswerBlocksTheClientWhileTheBodyIsHeldBack(); // the client takes none of it

        timers.expire(System.nanoTime() + 2 * PERIOD);

        assertThat(stalls).as("the client is the stall").hasValue(1);
        assertThat(upstreamStalls).hasValue(0);
        assertThat(timers.expire(System.nanoTime() + 10 * PERIOD)).as("no deadline left").isEqualTo(Long.MAX_VALUE);
        assertThat(stalls).hasValue(1);
    }

    @Test
    void anUpstreamThatWaitsForAClientThatTookALittleOfItsEarlyResponseWaitsForTheClient() {
        earlyAnswerBlocksTheClientWhileTheBodyIsHeldBack();
        channel.flush(); // into the socket: looks like progress, but the client still cannot take more

        timers.expire(System.nanoTime() + 2 * PERIOD);

        assertThat(stalls).as("the gateway holds the upstream's answer back for the client").hasValue(1);
        assertThat(upstreamStalls).hasValue(0);
    }

    @Test
    void anUpstreamThatStopsTakingTheBodyWhileTheClientCanTakeItsEarlyResponseStalls() {
        earlyAnswerBlocksTheClientWhileTheBodyIsHeldBack();
        channel.flush();
        timers.clientUnblocked(); // the client took the response and can take more

        timers.expire(System.nanoTime() + 2 * PERIOD);

        assertThat(upstreamStalls).hasValue(1);
        assertThat(stalls).hasValue(0);
    }

    @Test
    void partsWrittenWhileHeldBackAndEarlierPeriodsDoNotHideTheUpstreamsProgress() {
        timers.awaitBody(PERIOD);
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
        queuedForUpstream.set(32 * 1024);
        timers.expire(System.nanoTime() + 2 * PERIOD); // progress: 32 KiB taken
        body.upstreamWritable();
        // reading again: more parts, written until the upstream connection is full again
        timers.bodyRead();
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
        timers.bodyRead(); // the rest of the read burst, written after reading stopped
        queuedForUpstream.set(80 * 1024);
        body.holdBack();
        queuedForUpstream.set(70 * 1024);

        timers.expire(System.nanoTime() + 2 * PERIOD);
        assertThat(upstreamStalls).as("it took 10 KiB of what was queued when the body was held back again")
                .hasValue(0);
        assertThat(bodyStalls).hasValue(0);
    }

    @Test
    void aBodyThatStopsOnceTheGatewayReadsAgainIsTheClientsStall() {
        timers.awaitBody(PERIOD);
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
        queuedForUpstream.set(0); // taken
        timers.expire(System.nanoTime() + 3 * PERIOD);
        body.upstreamWritable();
        timers.expire(System.nanoTime() + 5 * PERIOD);
        assertThat(bodyStalls).as("reading again, and nothing came for a period").hasValue(1);
        assertThat(upstreamStalls).hasValue(0);
    }

    @Test
    void theClientHasAWholePeriodFromWhenTheGatewayReadsAgain() throws InterruptedException {
        timers.awaitBody(PERIOD);
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
        // held back for longer than a period (the upstream took some meanwhile), released before the deadline ran:
        // the deadline runs before the first part the client can now send is read
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(PERIOD) + 20);
        body.upstreamWritable();
        timers.expire(System.nanoTime());
        assertThat(bodyStalls).as("the client could not send for the time the gateway held it back").hasValue(0);

        timers.expire(System.nanoTime() + PERIOD);
        assertThat(bodyStalls).as("a whole period since reading resumed").hasValue(1);
    }

    @Test
    void anUpstreamThatSendsNothingMoreOfItsResponseForThePeriodStalls() {
        long start = System.nanoTime();
        timers.awaitMoreResponse(PERIOD);

        assertThat(timers.expire(start + PERIOD / 2)).isPositive().isLessThanOrEqualTo(PERIOD);
        assertThat(responseStalls).hasValue(0);
        timers.expire(System.nanoTime() + PERIOD);
        assertThat(responseStalls).hasValue(1);
        assertThat(timers.expire(System.nanoTime() + 10 * PERIOD)).as("no deadline left").isEqualTo(Long.MAX_VALUE);
        assertThat(responseStalls).hasValue(1);
    }

    @Test
    void eachUpstreamReadStartsTheWaitForMoreOfTheResponseAgain() throws InterruptedException {
        timers.awaitMoreResponse(PERIOD);
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(PERIOD) / 2);
        timers.upstreamRead();
        long readAt = System.nanoTime();

        timers.expire(readAt + PERIOD - TimeUnit.MILLISECONDS.toNanos(10));
        assertThat(responseStalls).as("less than a period since the last read").hasValue(0);
        timers.expire(readAt + PERIOD);
        assertThat(responseStalls).hasValue(1);
    }

    @Test
    void anUpstreamHeldBackForAClientThatCannotTakeMoreIsNotTheStallUntilReadingResumes() {
        timers.awaitMoreResponse(PERIOD);
        queue(64 * 1024);
        timers.clientBlocked(10 * PERIOD);

        timers.expire(System.nanoTime() + 3 * PERIOD);
        assertThat(responseStalls).as("the gateway is not reading the upstream").hasValue(0);
        assertThat(stalls).hasValue(0);

        channel.flush();
        timers.clientUnblocked();
        long resumedAt = System.nanoTime();
        timers.expire(resumedAt + PERIOD / 2);
        assertThat(responseStalls).as("a whole period from when reading resumed").hasValue(0);
        timers.expire(resumedAt + PERIOD);
        assertThat(responseStalls).hasValue(1);
    }

    @Test
    void anUpstreamHeldBackIsNotTheStallEvenWithoutAClientStallDeadline() {
        timers.awaitMoreResponse(PERIOD);
        timers.clientBlocked(0); // idle_timeout 0

        timers.expire(System.nanoTime() + 5 * PERIOD);
        assertThat(responseStalls).hasValue(0);
        timers.cancelAll();
        timers.clientUnblocked();
        timers.expire(System.nanoTime() + 5 * PERIOD);
        assertThat(responseStalls).as("the exchange ended").hasValue(0);
    }

    /**
     * The upstream answered before it read the body: 64 KiB of its answer are queued for a client that cannot take
     * more, and the gateway holds the body back for the upstream, 64 KiB queued for it.
     */
    private void earlyAnswerBlocksTheClientWhileTheBodyIsHeldBack() {
        timers.awaitBody(PERIOD);
        queue(64 * 1024);
        timers.clientBlocked(PERIOD);
        queuedForUpstream.set(64 * 1024);
        body.holdBack();
    }

    private void queue(int bytes) {
        channel.write(Unpooled.wrappedBuffer(new byte[bytes]));
    }
}
