package dev.portcullis.server.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Renders the SPEC 4 access line of an exchange with Jackson's streaming generator into a buffer it reuses
 * for every line; one instance per thread, never shared.
 */
public final class AccessLineWriter {

    /*
     * One generator lives as long as this writer and writes every line as a new root-level value: with no
     * root value separator, each line starts on an empty buffer (reset before the line) and Jackson's own
     * char buffer, taken once from its recycler, is reused too. What a line allocates is the returned
     * String: the timestamp is written by IsoInstant into a reused char array and the field names are
     * pre-quoted SerializedStrings. The generator never closes its target (it is only ever this buffer).
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

    private static final SerializedString TS = new SerializedString("ts");
    private static final SerializedString REQUEST_ID = new SerializedString("request_id");
    private static final SerializedString CLIENT_IP = new SerializedString("client_ip");
    private static final SerializedString COUNTRY = new SerializedString("country");
    private static final SerializedString METHOD = new SerializedString("method");
    private static final SerializedString HOST = new SerializedString("host");
    private static final SerializedString PATH = new SerializedString("path");
    private static final SerializedString SUBJECT = new SerializedString("subject");
    private static final SerializedString RULE = new SerializedString("rule");
    private static final SerializedString DECISION = new SerializedString("decision");
    private static final SerializedString REASON = new SerializedString("reason");
    private static final SerializedString AUDIT = new SerializedString("audit");
    private static final SerializedString STATUS = new SerializedString("status");
    private static final SerializedString UPSTREAM_STATUS = new SerializedString("upstream_status");
    private static final SerializedString DURATION_MS = new SerializedString("duration_ms");
    private static final SerializedString BYTES_OUT = new SerializedString("bytes_out");
    private static final SerializedString ERROR = new SerializedString("error");
    private static final SerializedString REMOVED_HEADERS = new SerializedString("removed_headers");

    private final Buffer buffer = new Buffer(512);
    private final char[] ts = new char[IsoInstant.MAX_LENGTH];
    private final char[] duration = new char[24];
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
            g.writeFieldName(TS);
            g.writeString(this.ts, 0, IsoInstant.format(ts, this.ts));
            field(g, REQUEST_ID, e.requestId());
            field(g, CLIENT_IP, e.clientIp());
            field(g, COUNTRY, e.country());
            field(g, METHOD, e.method());
            field(g, HOST, e.host());
            field(g, PATH, e.path());
            field(g, SUBJECT, e.subject());
            field(g, RULE, e.rule());
            field(g, DECISION, e.decisionLabel());
            field(g, REASON, e.reason());
            g.writeFieldName(AUDIT);
            g.writeStartArray();
            List<AuditOutcome> audit = e.audit();
            for (int i = 0; i < audit.size(); i++) {
                AuditOutcome a = audit.get(i);
                g.writeStartObject();
                field(g, RULE, a.rule());
                field(g, DECISION, a.decision() == Effect.ALLOW ? "allow" : "deny");
                field(g, REASON, a.reason());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeFieldName(STATUS);
            g.writeNumber(e.status());
            g.writeFieldName(UPSTREAM_STATUS);
            if (e.upstreamStatus() > 0) {
                g.writeNumber(e.upstreamStatus());
            } else {
                g.writeNull();
            }
            g.writeFieldName(DURATION_MS);
            g.writeNumber(this.duration, 0, millis(e.durationNanos(), this.duration));
            g.writeFieldName(BYTES_OUT);
            g.writeNumber(e.bytesOut());
            List<String> removed = e.removedHeaders();
            if (!removed.isEmpty()) {
                g.writeFieldName(REMOVED_HEADERS);
                g.writeStartArray();
                for (int i = 0; i < removed.size(); i++) {
                    g.writeString(removed.get(i));
                }
                g.writeEndArray();
            }
            ExchangeError error = e.error();
            if (error != null) {
                field(g, ERROR, error.code());
            }
            g.writeEndObject();
            g.flush();
        } catch (IOException impossible) {
            // the target is an in-memory buffer; Jackson declares IOException for every target
            throw new UncheckedIOException(impossible);
        }
        return buffer.toString();
    }

    /**
     * Writes {@code nanos} as milliseconds with three decimals (microseconds), e.g. {@code 12.345} or {@code 0.007},
     * into {@code out} and returns the length: a plain decimal, never an exponent, without formatting a double.
     */
    static int millis(long nanos, char[] out) {
        long micros = Math.max(0, nanos) / 1000;
        long whole = micros / 1000;
        int n = 1;
        for (long rest = whole; rest >= 10; rest /= 10) {
            n++;
        }
        IsoInstant.digits(out, 0, whole, n);
        out[n] = '.';
        IsoInstant.digits(out, n + 1, micros % 1000, 3);
        return n + 4;
    }

    private static void field(JsonGenerator g, SerializedString name, @Nullable String value) throws IOException {
        g.writeFieldName(name);
        g.writeString(value);
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
