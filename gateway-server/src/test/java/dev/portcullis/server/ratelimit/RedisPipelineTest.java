package dev.portcullis.server.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The calls waiting on a store connection: bounded in number, never matched to an answer of another connection,
 * and refused answers larger than any the store can get.
 */
class RedisPipelineTest {
    private static final byte[] ADMITTED = "*2\r\n:1\r\n:0\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LIMITED_5S = "*2\r\n:0\r\n:5000000\r\n".getBytes(StandardCharsets.US_ASCII);

    private final RateLimitStoreMetrics metrics = new RateLimitStoreMetrics();
    private final StoreFailures failures = new StoreFailures(
            SharedStoreSettings.parse("redis://pipeline-test:6379/0", null, Duration.ofMillis(50), OnError.ALLOW),
            metrics, System::nanoTime, (task, delayNanos) -> { });
    private final List<String> heard = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final RedisPipeline.Listener listener = new RedisPipeline.Listener() {
        @Override
        public void handshakeAnswered(Channel ch, String command, @Nullable String error) {
            heard.add(command + " " + error);
        }

        @Override
        public void answering(Channel ch) {
            heard.add("answering");
        }

        @Override
        public void demoted(Channel ch, String error) {
            heard.add("demoted " + error);
        }
    };

    private EmbeddedChannel connection(RedisPipeline pipeline) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ReplyBound.addDecoders(ch.pipeline(), pipeline.replies(listener));
        channels.add(ch);
        return ch;
    }

    private RedisPipeline pipeline() {
        EmbeddedChannel loop = new EmbeddedChannel();
        channels.add(loop);
        loop.freezeTime();
        return new RedisPipeline(loop.eventLoop(), failures, Duration.ofMillis(50));
    }

    @AfterEach
    void releaseAll() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    private static RedisCall call(String key) {
        return RedisCall.take(Resp.bulk(key), Resp.bulk("1"));
    }

    private static void answer(EmbeddedChannel ch, byte[] bytes) {
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    private static String failure(CompletableFuture<RateLimitResult> answer) {
        assertThat(answer).as("failed at once").isCompletedExceptionally();
        try {
            answer.get();
            throw new AssertionError("not failed");
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause().getMessage());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aCallBeyondTheBoundOfOutstandingCallsFailsAtOnceRatherThanBeingQueued() {
        RedisPipeline pipeline = pipeline();
        EmbeddedChannel ch = connection(pipeline);
        pipeline.attach(ch);
        // a Redis that stopped answering: 4096 calls wait (each kept until its answer, ~1 KB), no more
        List<RedisCall> waiting = new ArrayList<>();
        for (int i = 0; i < 4_096; i++) {
            RedisCall call = call("k" + i);
            pipeline.send(ch, call);
            waiting.add(call);
        }
        assertThat(pipeline.outstanding()).isEqualTo(4_096);
        RedisCall beyond = call("beyond");
        pipeline.send(ch, beyond);
        assertThat(failure(beyond.answer)).isEqualTo(
                "rate_limit_store redis://pipeline-test:6379/0: 4096 requests wait for an answer already");
        assertThat(pipeline.outstanding()).as("not queued").isEqualTo(4_096);
        assertThat(waiting).noneMatch(c -> c.answer.isDone());

        answer(ch, ADMITTED);
        assertThat(waiting.get(0).answer).isCompletedWithValue(RateLimitResult.Admitted.INSTANCE);
        assertThat(pipeline.outstanding()).isEqualTo(4_095);
    }

    @Test
    void anAnswerReadOnADroppedConnectionIsNeverMatchedToACallOfANewerOne() {
        RedisPipeline pipeline = pipeline();
        EmbeddedChannel first = connection(pipeline);
        pipeline.attach(first);
        RedisCall early = call("early");
        pipeline.send(first, early);
        pipeline.detach("connection dropped: no answer");
        assertThat(failure(early.answer)).endsWith("connection dropped: no answer");

        EmbeddedChannel second = connection(pipeline);
        pipeline.attach(second);
        RedisCall late = call("late");
        pipeline.send(second, late);
        // the dropped connection's answer to "early" arrives after all: read, and matched to nothing
        answer(first, ADMITTED);
        assertThat(late.answer).as("not crossed").isNotDone();
        assertThat(pipeline.outstanding()).isEqualTo(1);

        answer(second, LIMITED_5S);
        assertThat(late.answer).isCompletedWithValue(new RateLimitResult.Limited(TimeUnit.SECONDS.toNanos(5)));
        assertThat(heard).containsExactly("answering");

        RedisCall stray = call("stray");
        pipeline.send(first, stray);
        assertThat(failure(stray.answer)).as("only the attached connection sends").endsWith("not connected");
    }

    @Test
    void aBulkAnswerLongerThanTheBoundIsRefusedAtOnceAndTheConnectionClosed() {
        RedisPipeline pipeline = pipeline();
        EmbeddedChannel ch = connection(pipeline);
        pipeline.attach(ch);
        RedisCall call = call("big");
        pipeline.send(ch, call);
        // its head and its first 64 KB, as one read
        byte[] head = "$300000000\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] read = new byte[head.length + 64 * 1024];
        java.util.Arrays.fill(read, (byte) 'a');
        System.arraycopy(head, 0, read, 0, head.length);
        answer(ch, read);
        assertThat(ch.isActive()).as("closed on the header, not after 300 MB").isFalse();
        // the connection (RedisConnection) detaches the pipeline when its channel closes
        pipeline.detach("connection lost");
        assertThat(failure(call.answer)).endsWith("connection lost");
    }

    @Test
    void anErrorLineOrAnArrayBeyondTheBoundsIsRefusedAndTheConnectionClosed() {
        RedisPipeline pipeline = pipeline();
        EmbeddedChannel errorLine = connection(pipeline);
        pipeline.attach(errorLine);
        pipeline.send(errorLine, call("a"));
        answer(errorLine, ("-ERR " + "x".repeat(5_000)).getBytes(StandardCharsets.US_ASCII));
        assertThat(errorLine.isActive()).as("a 5 KB error line").isFalse();

        EmbeddedChannel nested = connection(pipeline);
        pipeline.attach(nested);
        pipeline.send(nested, call("b"));
        answer(nested, "*2\r\n*1\r\n:1\r\n:0\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(nested.isActive()).as("a nested array").isFalse();

        EmbeddedChannel longArray = connection(pipeline);
        pipeline.attach(longArray);
        pipeline.send(longArray, call("c"));
        answer(longArray, "*100000\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(longArray.isActive()).as("an array of 100 000 elements").isFalse();
    }

    @Test
    void aReadOnlyAnswerFailsTheCallAndTellsTheConnectionItsNodeWasDemoted() {
        RedisPipeline pipeline = pipeline();
        EmbeddedChannel ch = connection(pipeline);
        pipeline.attach(ch);
        RedisCall call = call("k");
        pipeline.send(ch, call);
        answer(ch, "-READONLY You can't write against a read only replica.\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(failure(call.answer)).endsWith("error answer: READONLY You can't write against a read only replica.");
        assertThat(heard).containsExactly("demoted READONLY You can't write against a read only replica.");
    }

    @Test
    void theOldestCallWaitingIsWhatTheStallWatchReadsAndATimedOutCallKeepsNoTimer() {
        RedisPipeline pipeline = pipeline();
        EmbeddedChannel ch = connection(pipeline);
        pipeline.attach(ch);
        assertThat(pipeline.oldestSentNanos()).as("none waiting").isEqualTo(-1);
        RedisCall first = call("first");
        pipeline.send(ch, first);
        long firstSent = pipeline.oldestSentNanos();
        channels.get(0).advanceTimeBy(600, TimeUnit.MILLISECONDS);
        channels.get(0).runScheduledPendingTasks();
        assertThat(failure(first.answer)).endsWith("no answer within 50ms");
        assertThat((Object) first.timer).as("its timer ran and is not kept").isNull();
        RedisCall second = call("second");
        pipeline.send(ch, second);
        assertThat(pipeline.oldestSentNanos()).as("the timed-out call still waits for its answer").isEqualTo(firstSent);
        answer(ch, ADMITTED);
        assertThat(pipeline.oldestSentNanos() - firstSent).isEqualTo(TimeUnit.MILLISECONDS.toNanos(600));
        assertThat(second.answer).isNotDone();
    }
}
