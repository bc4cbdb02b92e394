package dev.portcullis.server.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.read.ListAppender;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The access log's async appender: a full queue drops and counts lines instead of blocking the caller. */
class DroppingAsyncAppenderTest {

    /** A downstream appender that takes events only while its gate is open: a stalled stdout. */
    private static final class StalledAppender extends AppenderBase<ILoggingEvent> {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);
        final List<String> written = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            entered.countDown();
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            written.add(event.getFormattedMessage());
        }
    }

    private static DroppingAsyncAppender start(LoggerContext context, StalledAppender downstream, int queueSize) {
        downstream.setContext(context);
        downstream.setName("STALLED");
        downstream.start();
        DroppingAsyncAppender appender = new DroppingAsyncAppender();
        appender.setContext(context);
        appender.setName("ASYNC_TEST");
        appender.setQueueSize(queueSize);
        appender.addAppender(downstream);
        appender.start();
        return appender;
    }

    private static LoggerContext newContext() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        return context;
    }

    private static ILoggingEvent line(Logger logger, String text) {
        return new LoggingEvent(DroppingAsyncAppenderTest.class.getName(), logger, Level.INFO, text, null, null);
    }

    @Test
    void dropsAndCountsLinesWhenTheQueueIsFullWithoutBlockingTheCaller() throws Exception {
        LoggerContext context = newContext();
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        warnings.setContext(context);
        warnings.start();
        Logger warnLogger = context.getLogger(DroppingAsyncAppender.class);
        warnLogger.addAppender(warnings);
        warnLogger.setAdditive(false);
        Logger access = context.getLogger("portcullis.access");
        StalledAppender stdout = new StalledAppender();
        DroppingAsyncAppender appender = start(context, stdout, 4);
        try {
            appender.doAppend(line(access, "line-0"));
            assertThat(stdout.entered.await(10, TimeUnit.SECONDS)).isTrue();
            // the writer is stuck on line-0: four lines fill the queue, the next 1000 cannot wait
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> IntStream.rangeClosed(1, 1004)
                    .forEach(i -> appender.doAppend(line(access, "line-" + i))));

            assertThat(appender.dropped()).isEqualTo(1000);
            assertThat(warnings.list).hasSize(1);
            ILoggingEvent warning = warnings.list.get(0);
            assertThat(warning.getLevel()).isEqualTo(Level.WARN);
            assertThat(warning.getFormattedMessage())
                    .startsWith("log lines dropped: appender=ASYNC_TEST dropped=1 dropped_total=1");
        } finally {
            stdout.gate.countDown();
            appender.stop();
        }
        // what fitted is written in order once stdout moves again, and stop() waited for it
        assertThat(stdout.written).containsExactly("line-0", "line-1", "line-2", "line-3", "line-4");
        assertThat(appender.dropped()).isEqualTo(1000);
    }

    @Test
    void droppedLinesSumsTheAccessLoggersDroppingAppenders() throws Exception {
        Logger access = (Logger) LoggerFactory.getLogger("portcullis.access");
        LoggerContext context = access.getLoggerContext();
        StalledAppender stdout = new StalledAppender();
        DroppingAsyncAppender appender = start(context, stdout, 2);
        long before = AccessLog.droppedLines().getAsLong();
        access.addAppender(appender);
        try {
            appender.doAppend(line(access, "first"));
            assertThat(stdout.entered.await(10, TimeUnit.SECONDS)).isTrue();
            appender.doAppend(line(access, "queued-1"));
            appender.doAppend(line(access, "queued-2"));
            appender.doAppend(line(access, "dropped-1"));
            appender.doAppend(line(access, "dropped-2"));

            assertThat(AccessLog.droppedLines().getAsLong() - before).isEqualTo(2);
        } finally {
            access.detachAppender(appender);
            stdout.gate.countDown();
            appender.stop();
        }
    }

    /** A stdout stand-in that records each write and flush it receives. */
    private static final class RecordingStream extends OutputStream {
        final List<String> writes = new CopyOnWriteArrayList<>();
        final StringBuffer flushed = new StringBuffer();
        private final StringBuffer pending = new StringBuffer();
        final AtomicInteger flushes = new AtomicInteger();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            String text = new String(b, off, len, StandardCharsets.UTF_8);
            writes.add(text);
            pending.append(text);
        }

        @Override
        public void flush() {
            synchronized (pending) {
                flushed.append(pending);
                pending.setLength(0);
            }
            flushes.incrementAndGet();
        }
    }

    private static OutputStreamAppender<ILoggingEvent> unflushedStreamAppender(LoggerContext context, OutputStream out) {
        OutputStreamAppender<ILoggingEvent> stream = new OutputStreamAppender<>();
        stream.setContext(context);
        stream.setName("STREAM");
        MessageLineEncoder encoder = new MessageLineEncoder();
        encoder.setContext(context);
        encoder.start();
        stream.setEncoder(encoder);
        stream.setImmediateFlush(false);
        stream.setOutputStream(new BufferedOutputStream(out, 64 * 1024));
        stream.start();
        return stream;
    }

    private static DroppingAsyncAppender startWith(LoggerContext context, Appender<ILoggingEvent> downstream, int queueSize) {
        DroppingAsyncAppender appender = new DroppingAsyncAppender();
        appender.setContext(context);
        appender.setName("ASYNC_TEST");
        appender.setQueueSize(queueSize);
        appender.addAppender(downstream);
        appender.start();
        return appender;
    }

    private static long millisUntil(BooleanSupplier condition, Duration limit) throws InterruptedException {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > limit.toNanos()) {
                throw new AssertionError("not within " + limit);
            }
            Thread.sleep(0, 100_000);
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Test
    void flushesALineSoonAfterTrafficStopsBothWhileNappingAndAfterFallingAsleep() throws Exception {
        LoggerContext context = newContext();
        Logger access = context.getLogger("portcullis.access");
        RecordingStream stdout = new RecordingStream();
        DroppingAsyncAppender appender = startWith(context, unflushedStreamAppender(context, stdout), 1024);
        try {
            // a busy or napping writer: nobody signals it, it finds the line within about a nap
            appender.doAppend(line(access, "first"));
            long napping = millisUntil(() -> stdout.flushed.toString().equals("first\n"), Duration.ofSeconds(5));
            // an idle writer sleeps after ~IDLE_NAPS naps; the next line wakes it
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(DroppingAsyncAppender.PARK_NANOS) * DroppingAsyncAppender.IDLE_NAPS * 3);
            appender.doAppend(line(access, "after-idle"));
            long sleeping = millisUntil(
                    () -> stdout.flushed.toString().equals("first\nafter-idle\n"), Duration.ofSeconds(5));
            // a few ms on an idle machine; the bound leaves room for a shared, loaded CI machine
            assertThat(napping).isLessThan(250);
            assertThat(sleeping).isLessThan(250);
        } finally {
            appender.stop();
        }
    }

    @Test
    void writesADrainedBatchAsOneWriteAndKeepsEachThreadsOrder() throws Exception {
        LoggerContext context = newContext();
        Logger access = context.getLogger("portcullis.access");
        RecordingStream stdout = new RecordingStream();
        StalledAppender gate = new StalledAppender();
        gate.setContext(context);
        gate.start();
        DroppingAsyncAppender appender = startWith(context, gate, 8192);
        appender.addAppender(unflushedStreamAppender(context, stdout));
        int threads = 4;
        int perThread = 500;
        try {
            appender.doAppend(line(access, "t9-0"));
            assertThat(gate.entered.await(10, TimeUnit.SECONDS)).isTrue();
            // the writer is held on the first line while four threads queue theirs
            List<Thread> producers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread producer = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        appender.doAppend(line(access, "t" + id + "-" + i));
                    }
                });
                producer.start();
                producers.add(producer);
            }
            for (Thread producer : producers) {
                producer.join(10_000);
            }
            gate.gate.countDown();
            millisUntil(() -> gate.written.size() == threads * perThread + 1, Duration.ofSeconds(10));
            millisUntil(() -> stdout.flushed.toString().split("\n").length == threads * perThread + 1,
                    Duration.ofSeconds(10));
        } finally {
            gate.gate.countDown();
            appender.stop();
        }
        assertThat(appender.dropped()).isZero();
        String[] lines = stdout.flushed.toString().split("\n");
        assertThat(lines[0]).isEqualTo("t9-0");
        int[] next = new int[threads];
        for (int i = 1; i < lines.length; i++) {
            String[] parts = lines[i].substring(1).split("-");
            int id = Integer.parseInt(parts[0]);
            assertThat(Integer.parseInt(parts[1])).as(lines[i]).isEqualTo(next[id]++);
        }
        assertThat(next).containsOnly(perThread);
        // 2001 lines of ~7 bytes, queued while the writer was held: one batch (MAX_BATCH 4096), one 64 KiB
        // buffer, so a couple of writes at most instead of one per line
        assertThat(stdout.writes).hasSizeLessThanOrEqualTo(3);
    }

    @Test
    void bufferedConsoleAppenderWritesToSystemOutOnlyWhenFlushed() throws Exception {
        PrintStream original = System.out;
        RecordingStream stdout = new RecordingStream();
        LoggerContext context = newContext();
        Logger access = context.getLogger("portcullis.access");
        BufferedConsoleAppender<ILoggingEvent> console = new BufferedConsoleAppender<>();
        console.setContext(context);
        console.setName("ACCESS");
        MessageLineEncoder encoder = new MessageLineEncoder();
        encoder.setContext(context);
        encoder.start();
        console.setEncoder(encoder);
        console.setImmediateFlush(false);
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        try {
            console.start();
            for (int i = 0; i < 100; i++) {
                console.doAppend(line(access, "line-" + i));
            }
            assertThat(stdout.writes).isEmpty();
            console.flush();
            assertThat(stdout.writes).hasSize(1);
            assertThat(stdout.flushed.toString()).startsWith("line-0\nline-1\n").endsWith("line-99\n");
            console.doAppend(line(access, "last"));
            console.stop();
            assertThat(stdout.flushed.toString()).endsWith("line-99\nlast\n");
        } finally {
            System.setOut(original);
        }
    }

    @Test
    void operatorConfigRoutesTheAccessLoggerThroughTheDroppingAppender() throws Exception {
        URL config = DroppingAsyncAppenderTest.class.getResource("/logback.xml");
        assertThat(config).as("config/logback.xml on the classpath").isNotNull();
        LoggerContext context = newContext();
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(config);
            Logger access = context.getLogger("portcullis.access");
            DroppingAsyncAppender appender = (DroppingAsyncAppender) access.getAppender("ASYNC_ACCESS");

            assertThat(appender).isNotNull();
            assertThat(appender.isStarted()).isTrue();
            assertThat(appender.getQueueSize()).isEqualTo(65536);
            BufferedConsoleAppender<?> console = (BufferedConsoleAppender<?>) appender.getAppender("ACCESS");
            assertThat(console).isNotNull();
            assertThat(console.isStarted()).isTrue();
            assertThat(console.isImmediateFlush()).isFalse();
            assertThat(console.getEncoder()).isInstanceOf(MessageLineEncoder.class);
            assertThat(console.getEncoder().isStarted()).isTrue();
            assertThat(access.isAdditive()).isFalse();
        } finally {
            context.stop();
        }
    }
}
