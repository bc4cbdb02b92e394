package dev.portcullis.server.log;

import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeListener;
import io.netty.util.concurrent.FastThreadLocal;
import java.time.Instant;
import java.util.Iterator;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON line per request (SPEC 4) to the {@code portcullis.access} logger.
 *
 * <p>The line is built here, with Jackson, rather than by a logback encoder so that its shape is stable
 * whatever the operator's {@code logback.xml} does with layout; {@code logback.xml} routes this logger to
 * stdout with the bare message and a newline, in UTF-8 ({@link MessageLineEncoder}).
 */
public final class AccessLog implements ExchangeListener {

    /*
     * How a line leaves the event loop. exchangeFinished runs on the client channel's event loop when the
     * exchange finishes: right after the last write of its response was handed to Netty (writeAndFlush, not
     * necessarily on the wire yet), or, for a WebSocket tunnel, when the tunnel closes. The line is rendered right
     * there, into the calling thread's reused AccessLineWriter, and the resulting String is handed to the
     * logger. The alternative, capturing the exchange's fields and rendering on the writer thread, was
     * rejected: the Exchange is mutable and confined to its event loop, so a capture would be an object of
     * some sixteen fields allocated per line anyway, and rendering it costs about as much as copying it
     * (see AccessLogBenchmark). The String is the only hand-over object.
     *
     * What must never happen on the event loop is waiting for stdout. config/logback.xml routes this logger
     * through DroppingAsyncAppender: a bounded queue drained by one writer thread; when the queue is full,
     * the line is dropped and counted (droppedLines()) and a WARN says so at most once per 10 s.
     *
     * The per-thread writers are held by a FastThreadLocal owned by this instance (event loops are
     * FastThreadLocalThreads), so nothing is static and mutable. A writer whose generator failed mid-line
     * is discarded, so that the next line starts from a clean generator.
     */

    private static final Logger LOG = LoggerFactory.getLogger("portcullis.access");

    private final FastThreadLocal<AccessLineWriter> writers = new FastThreadLocal<>() {
        @Override
        protected AccessLineWriter initialValue() {
            return new AccessLineWriter();
        }
    };

    /** Logs the exchange, if the access logger is enabled at INFO. */
    @Override
    public void exchangeFinished(Exchange exchange) {
        if (LOG.isInfoEnabled()) {
            String line;
            try {
                line = writers.get().render(exchange, Instant.now());
            } catch (RuntimeException e) {
                writers.remove();
                throw e;
            }
            LOG.info(line);
        }
    }

    /**
     * How many access lines were dropped because the log could not keep up: the sum over the
     * {@link DroppingAsyncAppender}s attached to the {@code portcullis.access} logger, read at each call
     * (0 when the logger is not logback's or routes through no such appender).
     */
    public static LongSupplier droppedLines() {
        return AccessLog::countDropped;
    }

    private static long countDropped() {
        if (!(LOG instanceof ch.qos.logback.classic.Logger logback)) {
            return 0;
        }
        long total = 0;
        for (Iterator<ch.qos.logback.core.Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it =
                        logback.iteratorForAppenders();
                it.hasNext(); ) {
            if (it.next() instanceof DroppingAsyncAppender dropping) {
                total += dropping.dropped();
            }
        }
        return total;
    }
}
