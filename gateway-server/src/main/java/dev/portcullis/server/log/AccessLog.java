package dev.portcullis.server.log;

import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ExchangeListener;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON line per request (SPEC 4) to the {@code portcullis.access} logger.
 *
 * <p>The line is built here rather than by a logback encoder so that its shape is stable whatever the
 * operator's {@code logback.xml} does with layout; {@code logback.xml} routes this logger to stdout
 * with the bare message.
 */
public final class AccessLog implements ExchangeListener {
    private static final Logger LOG = LoggerFactory.getLogger("portcullis.access");

    /** Logs the exchange, if the access logger is enabled at INFO. */
    @Override
    public void exchangeFinished(Exchange exchange) {
        if (LOG.isInfoEnabled()) {
            LOG.info(render(exchange, Instant.now()));
        }
    }

    /** The JSON line for {@code exchange} at time {@code ts}. */
    public static String render(Exchange e, Instant ts) {
        StringBuilder sb = new StringBuilder(320);
        sb.append('{');
        field(sb, "ts", ts.toString()).append(',');
        field(sb, "request_id", e.requestId()).append(',');
        field(sb, "client_ip", e.clientIp()).append(',');
        field(sb, "country", null).append(',');
        field(sb, "method", e.method()).append(',');
        field(sb, "host", e.host()).append(',');
        field(sb, "path", e.path()).append(',');
        field(sb, "subject", e.subject()).append(',');
        field(sb, "rule", e.rule()).append(',');
        field(sb, "decision", e.decisionLabel()).append(',');
        field(sb, "reason", e.reason()).append(',');
        sb.append("\"audit\":[");
        List<AuditOutcome> audit = e.audit();
        for (int i = 0; i < audit.size(); i++) {
            AuditOutcome a = audit.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append('{');
            field(sb, "rule", a.rule()).append(',');
            field(sb, "decision", a.decision() == dev.portcullis.core.policy.Effect.ALLOW ? "allow" : "deny")
                    .append(',');
            field(sb, "reason", a.reason());
            sb.append('}');
        }
        sb.append("],");
        sb.append("\"status\":").append(e.status()).append(',');
        sb.append("\"upstream_status\":");
        if (e.upstreamStatus() > 0) {
            sb.append(e.upstreamStatus());
        } else {
            sb.append("null");
        }
        sb.append(',');
        sb.append("\"duration_ms\":").append(e.durationNanos() / 1_000_000.0).append(',');
        sb.append("\"bytes_out\":").append(e.bytesOut());
        if (!e.removedHeaders().isEmpty()) {
            sb.append(",\"removed_headers\":[");
            for (int i = 0; i < e.removedHeaders().size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append('"');
                Json.escape(sb, e.removedHeaders().get(i));
                sb.append('"');
            }
            sb.append(']');
        }
        if (e.error() != null) {
            sb.append(',');
            field(sb, "error", e.error().code());
        }
        sb.append('}');
        return sb.toString();
    }

    private static StringBuilder field(StringBuilder sb, String name, @Nullable String value) {
        sb.append('"').append(name).append("\":");
        if (value == null) {
            return sb.append("null");
        }
        sb.append('"');
        Json.escape(sb, value);
        return sb.append('"');
    }
}
