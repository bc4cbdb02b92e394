package dev.portcullis.server.it.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Everything one logback logger (and its children) receives between {@link #attach} and {@link #detach}, e.g.
 * the access lines of {@code portcullis.access} (SPEC 4), which are JSON.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements BeforeEachCallback, AfterEachCallback {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Logger logger;
    private final List<ILoggingEvent> events = new ArrayList<>();

    private LogCapture(Logger logger) {
        this.logger = logger;
    }

    /** Starts capturing what {@code loggerName} receives ({@link org.slf4j.Logger#ROOT_LOGGER_NAME} for all). */
    public static LogCapture attach(String loggerName) {
        Logger logger = (Logger) LoggerFactory.getLogger(loggerName);
        LogCapture capture = new LogCapture(logger);
        capture.setContext(logger.getLoggerContext());
        capture.start();
        logger.addAppender(capture);
        return capture;
    }

    /**
     * A capture of {@code loggerName} for each test of a class, as {@code @RegisterExtension final LogCapture access
     * = LogCapture.eachTest("portcullis.access")}: attached before each test (with nothing captured yet) and detached
     * after it.
     */
    public static LogCapture eachTest(String loggerName) {
        Logger logger = (Logger) LoggerFactory.getLogger(loggerName);
        LogCapture capture = new LogCapture(logger);
        capture.setContext(logger.getLoggerContext());
        return capture;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        synchronized (this) {
            events.clear();
        }
        start();
        logger.addAppender(this);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        detach();
    }

    /** Stops capturing. */
    public void detach() {
        logger.detachAppender(this);
        stop();
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
        events.add(event);
    }

    /** The events captured so far. */
    public synchronized List<ILoggingEvent> snapshot() {
        return List.copyOf(events);
    }

    /** Everything captured, as text: logger name and formatted message, then the throwable chain, per event. */
    public String text() {
        StringBuilder all = new StringBuilder();
        for (ILoggingEvent e : snapshot()) {
            all.append(e.getLoggerName()).append(' ').append(e.getFormattedMessage()).append('\n');
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                all.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
            }
        }
        return all.toString();
    }

    /**
     * The JSON line whose {@code request_id} is {@code requestId}, waited for up to 10 s (an access line is
     * logged after the response is written).
     */
    public JsonNode jsonLineFor(String requestId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            for (ILoggingEvent e : snapshot()) {
                JsonNode line = JSON.readTree(e.getFormattedMessage());
                if (requestId.equals(line.path("request_id").asText(null))) {
                    return line;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no line with request_id " + requestId + " in " + text());
    }
}
