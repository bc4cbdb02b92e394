package dev.portcullis.server.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.List;

/**
 * Renders the SPEC 4 access line of an exchange with Jackson's streaming generator into a buffer it reuses
 * for every line; one instance per thread, never shared.
 */
public final class AccessLineWriter {

    /*
     * One generator lives as long as this writer and writes every line as a new root-level value: with no
     * root value separator, each line starts on an empty buffer (reset before the line) and Jackson's own
     * char buffer, taken once from its recycler, is reused too. What a line allocates is the timestamp text
     * and the returned String. The generator never closes its target (it is only ever this buffer).
     *
     * Field order and null handling are those of the previous hand-built line: absent strings are JSON
     * null, "audit" is always a list, "upstream_status" is null when the request never reached the
     * upstream, "error" appears only when set.
     */

    private static final JsonFactory JSON = new JsonFactoryBuilder()
            .rootValueSeparator((String) null)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
            .build();

    private final Buffer buffer = new Buffer(512);
    private final JsonGenerator json;

    public AccessLineWriter() {
        try {
            json = JSON.createGenerator(buffer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JSON line (without line terminator) for {@code e} at time {@code ts}. */
    public String render(Exchange e, Instant ts) {
        buffer.reset();
        try {
            JsonGenerator g = json;
            g.writeStartObject();
            g.writeStringField("ts", ts.toString());
            g.writeStringField("request_id", e.requestId());
            g.writeStringField("client_ip", e.clientIp());
            g.writeNullField("country");
            g.writeStringField("method", e.method());
            g.writeStringField("host", e.host());
            g.writeStringField("path", e.path());
            g.writeStringField("subject", e.subject());
            g.writeStringField("rule", e.rule());
            g.writeStringField("decision", e.decisionLabel());
            g.writeStringField("reason", e.reason());
            g.writeArrayFieldStart("audit");
            List<AuditOutcome> audit = e.audit();
            for (int i = 0; i < audit.size(); i++) {
                AuditOutcome a = audit.get(i);
                g.writeStartObject();
                g.writeStringField("rule", a.rule());
                g.writeStringField("decision", a.decision() == Effect.ALLOW ? "allow" : "deny");
                g.writeStringField("reason", a.reason());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeNumberField("status", e.status());
            if (e.upstreamStatus() > 0) {
                g.writeNumberField("upstream_status", e.upstreamStatus());
            } else {
                g.writeNullField("upstream_status");
            }
            g.writeNumberField("duration_ms", e.durationNanos() / 1_000_000.0);
            g.writeNumberField("bytes_out", e.bytesOut());
            ExchangeError error = e.error();
            if (error != null) {
                g.writeStringField("error", error.code());
            }
            g.writeEndObject();
            g.flush();
        } catch (IOException impossible) {
            // the target is an in-memory buffer; Jackson declares IOException for every target
            throw new UncheckedIOException(impossible);
        }
        return buffer.toString();
    }

    /** An unsynchronized in-memory Writer (StringWriter synchronizes on every append). */
    private static final class Buffer extends Writer {
        private final StringBuilder chars;

        Buffer(int capacity) {
            chars = new StringBuilder(capacity);
        }

        void reset() {
            chars.setLength(0);
        }

        @Override
        public void write(char[] cbuf, int off, int len) {
            chars.append(cbuf, off, len);
        }

        @Override
        public void write(String str, int off, int len) {
            chars.append(str, off, off + len);
        }

        @Override
        public void write(int c) {
            chars.append((char) c);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}

        @Override
        public String toString() {
            return chars.toString();
        }
    }
}
