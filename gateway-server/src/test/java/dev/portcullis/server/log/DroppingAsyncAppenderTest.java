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
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.read.ListAppender;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
        DroppingAsyncAppender appender = start(context, stdout, 1);
        long before = AccessLog.droppedLines().getAsLong();
        access.addAppender(appender);
        try {
            appender.doAppend(line(access, "first"));
            assertThat(stdout.entered.await(10, TimeUnit.SECONDS)).isTrue();
            appender.doAppend(line(access, "queued"));
            appender.doAppend(line(access, "dropped-1"));
            appender.doAppend(line(access, "dropped-2"));

            assertThat(AccessLog.droppedLines().getAsLong() - before).isEqualTo(2);
        } finally {
            access.detachAppender(appender);
            stdout.gate.countDown();
            appender.stop();
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
            assertThat(appender.getAppender("ACCESS")).isNotNull();
            assertThat(access.isAdditive()).isFalse();
        } finally {
            context.stop();
        }
    }
}
