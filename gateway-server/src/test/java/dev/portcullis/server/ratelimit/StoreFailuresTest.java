package dev.portcullis.server.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import dev.portcullis.server.metrics.RateLimitStoreMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The store's failures: every one counted, logged at most once per second with how many were not. */
class StoreFailuresTest {
    /** A host no other test uses, so that only this test's lines are collected. */
    private static final String URL = "redis://store-failures-test:6379/0";
    private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);

    private final Logger logger = (Logger) LoggerFactory.getLogger(RedisBucketStore.class);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    /** The clock the failures read; starts far from 0, as System.nanoTime may. */
    private final AtomicLong now = new AtomicLong(-5_000 * MILLI);
    private final RateLimitStoreMetrics metrics = new RateLimitStoreMetrics();
    /** The flushes the failures scheduled: when each is due (on {@link #now}'s clock), and what it runs. */
    private final List<Map.Entry<Long, Runnable>> scheduled = new ArrayList<>();
    private final StoreFailures failures = new StoreFailures(
            SharedStoreSettings.parse(URL, null, Duration.ofMillis(100), OnError.ALLOW), metrics, now::get,
            (task, delayNanos) -> scheduled.add(Map.entry(now.get() + delayNanos, task)));

    @BeforeEach
    void collectLines() {
        lines.setContext(logger.getLoggerContext());
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void stopCollecting() {
        logger.detachAppender(lines);
        lines.stop();
    }

    private List<String> warnings() {
        return lines.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("store-failures-test")).toList();
    }

    private void fail(String why) {
        failures.answerFailed(failures.failure(why));
    }

    @Test
    void manyFailuresWithinOneSecondAreLoggedOnceThenAgainASecondLater() {
        fail("connection lost");
        for (int i = 0; i < 99; i++) {
            now.addAndGet(5 * MILLI);
            fail("not connected");
        }
        assertThat(warnings()).containsExactly("rate_limit_store redis://store-failures-test:6379/0: connection lost"
                + " (0 more failures in the last second); on_error allow decides");
        assertThat(metrics.errors()).as("every failure counted, logged or not").isEqualTo(100);

        // 995 ms after the first line: still within its second
        now.addAndGet(500 * MILLI);
        fail("not connected");
        assertThat(warnings()).hasSize(1);

        // a second after the first line: logged again, with the 100 that were not
        now.addAndGet(5 * MILLI);
        fail("no answer within 100ms");
        assertThat(warnings()).hasSize(2).last().isEqualTo("rate_limit_store redis://store-failures-test:6379/0: "
                + "no answer within 100ms (100 more failures in the last second); on_error allow decides");

        now.addAndGet(999 * MILLI);
        fail("not connected");
        assertThat(warnings()).as("the next second starts at the last line").hasSize(2);
        now.addAndGet(MILLI);
        fail("not connected");
        assertThat(warnings()).hasSize(3).last().asString().contains("(1 more failures in the last second)");
        assertThat(metrics.errors()).isEqualTo(104);
    }

    /** Runs the scheduled flushes that are due by now. */
    private void runDue() {
        List<Map.Entry<Long, Runnable>> due = scheduled.stream().filter(e -> e.getKey() <= now.get()).toList();
        scheduled.removeAll(due);
        due.forEach(e -> e.getValue().run());
    }

    /** The failures the WARN lines account for: each line's own and its "N more". */
    private long loggedFailures() {
        long sum = 0;
        for (String line : warnings()) {
            int at = line.indexOf(" more failures in the last second");
            if (at > 0) {
                sum += 1 + Long.parseLong(line.substring(line.lastIndexOf('(', at) + 1, at));
            }
        }
        return sum;
    }

    @Test
    void failuresNotLoggedYetAreLoggedWhenTheirSecondEndsEvenIfNoOtherFailureFollows() {
        for (int i = 0; i < 25; i++) {
            fail("error answer: ERR boom");
            now.addAndGet(20 * MILLI);
        }
        assertThat(warnings()).hasSize(1);
        assertThat(scheduled).as("one flush for the 24 not logged").hasSize(1);
        assertThat(scheduled.get(0).getKey()).as("when the line's second ends").isEqualTo(-4_000 * MILLI);

        now.set(-4_000 * MILLI);
        runDue();
        assertThat(warnings()).containsExactly(
                "rate_limit_store redis://store-failures-test:6379/0: error answer: ERR boom"
                        + " (0 more failures in the last second); on_error allow decides",
                "rate_limit_store redis://store-failures-test:6379/0: error answer: ERR boom"
                        + " (23 more failures in the last second); on_error allow decides");
        assertThat(loggedFailures()).as("the lines add up to the counter").isEqualTo(metrics.errors()).isEqualTo(25);
        assertThat(scheduled).isEmpty();

        // quiet for 4 s: the next failure is logged at once, alone
        now.addAndGet(4_000 * MILLI);
        fail("not connected");
        assertThat(warnings()).hasSize(3).last().asString().contains("not connected (0 more failures");
        assertThat(scheduled).isEmpty();
        assertThat(loggedFailures()).isEqualTo(metrics.errors()).isEqualTo(26);
    }

    @Test
    void connectionProblemsAreLoggedOnceASecondOnTheirOwnAndAreNotCountedAsAnswers() {
        failures.log("cannot connect: Connection refused");
        fail("not connected");
        failures.log("cannot connect: Connection refused");
        assertThat(warnings()).containsExactly(
                "rate_limit_store redis://store-failures-test:6379/0: cannot connect: Connection refused;"
                        + " on_error allow decides meanwhile",
                "rate_limit_store redis://store-failures-test:6379/0: not connected"
                        + " (0 more failures in the last second); on_error allow decides");
        assertThat(metrics.errors()).as("only answers are store errors").isEqualTo(1);
        assertThat(loggedFailures()).isEqualTo(1);

        now.addAndGet(1_000 * MILLI);
        failures.log("cannot connect: Connection refused");
        assertThat(warnings()).hasSize(3).last().asString().endsWith("Connection refused; on_error allow decides meanwhile");
    }
}
