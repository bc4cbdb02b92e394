package dev.portcullis.bench;

import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.log.AccessLineWriter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The SPEC 4 access line: the previous hand-escaped StringBuilder renderer ({@code handBuilt}, copied here
 * as the baseline) against the Jackson {@link AccessLineWriter} ({@code jackson}), on the same exchanges in
 * the same JVM.
 *
 * <p>Run: {@code java -jar gateway-bench/target/benchmarks.jar AccessLogBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
 * -prof gc}.
 *
 * <p>Results (JDK 17.0.15, {@code -f 1 -wi 8 -i 5 -w 1s -r 1s -prof gc}, on a 2-core machine shared with
 * other builds, so the ns/op errors are wide; the steady iterations are quoted after the mean):
 * <pre>
 * benchmark   shape     ns/op (mean ± error)        steady iterations   B/op
 * handBuilt   allowed   4028 ± 12285                2555..2651          2008
 * handBuilt   denied    2860 ±   928                2597..3134          2064
 * jackson     allowed   1896 ±  2227                1245..1783           448
 * jackson     denied    1716 ±  3900                1016..1553           504
 * </pre>
 * A first Jackson version that still used {@code Instant.toString()} and plain String field names allocated
 * 1019..1048 B/op; most of the gain is the timestamp written into a reused char array ({@code IsoInstant}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccessLogBenchmark {

    /** {@code allowed}: a proxied request; {@code denied}: a rule's deny with an audit outcome and escapes. */
    @Param({"allowed", "denied"})
    public String shape;

    private final AccessLineWriter writer = new AccessLineWriter();
    private EmbeddedChannel channel;
    private Exchange exchange;
    private Instant ts;

    @Setup
    public void setUp() {
        channel = new EmbeddedChannel();
        ServerContext context = new ServerContext(
                new SnapshotHolder(), new DefaultChannelGroup("bench", GlobalEventExecutor.INSTANCE), List.of());
        ConnectionState state = new ConnectionState(channel, context, 0, 0);
        ts = Instant.parse("2025-06-01T12:34:56.789123Z");
        if (shape.equals("allowed")) {
            exchange = state.begin("6f1c0d2e-9a3b-4c5d-8e7f-0123456789ab", "GET", "/api/orders/42?page=2");
            exchange.path("/api/orders/42");
            exchange.host("orders.example.com");
            exchange.clientIp("203.0.113.7");
            exchange.subject("alice@example.com");
            exchange.decision(new Decision(Effect.ALLOW, "api", "allowed by api", 200, List.of()));
            exchange.status(200);
            exchange.upstreamStatus(200);
            exchange.bytesOut(1834);
        } else {
            exchange = state.begin("req-\"quoted\"\\1", "DELETE", "/admin/users/7");
            exchange.path("/admin/users/7");
            exchange.host("admin.example.com");
            exchange.clientIp("2001:db8::1");
            exchange.decision(new Decision(Effect.DENY, "admin-from-office", "role admin missing", 403,
                    List.of(new AuditOutcome("geo-trial", Effect.DENY, "country \"RU\"\tblocked", 403))));
            exchange.status(403);
            exchange.bytesOut(86);
        }
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public String handBuilt() {
        return HandBuiltLine.render(exchange, ts);
    }

    @Benchmark
    public String jackson() {
        return writer.render(exchange, ts);
    }

    /** The access line renderer as it was before Jackson (StringBuilder and hand-written escaping). */
    static final class HandBuiltLine {
        private static final char[] HEX = "0123456789abcdef".toCharArray();

        private HandBuiltLine() {}

        static String render(Exchange e, Instant ts) {
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
                field(sb, "decision", a.decision() == Effect.ALLOW ? "allow" : "deny").append(',');
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
            escape(sb, value);
            return sb.append('"');
        }

        private static void escape(StringBuilder sb, String value) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20 || c == 0x7f) {
                            sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
        }
    }
}
