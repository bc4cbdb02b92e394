package dev.portcullis.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ServerContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How finished exchanges map to meters and labels, and that recording in steady state creates and allocates nothing. */
class GatewayMetricsTest {
    private static final String YAML = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:1"
            default: deny
            rules:
              - name: public
                match: { paths: ["/public/**"] }
              - name: trial
                mode: audit
                match: { paths: ["/public/**"] }
                action: deny
            """;

    private static final String WITH_STORE = YAML.replace("default: deny", """
            rate_limit_store:
              redis:
                url: "redis://127.0.0.1:1/0"
            default: deny""");

    private final SnapshotHolder snapshots = new SnapshotHolder();
    private GatewayMetrics metrics;
    private EmbeddedChannel channel;
    private ConnectionState connection;

    @BeforeEach
    void setUp() throws Exception {
        CompiledConfig config = ConfigLoader.load("metrics.yaml", YAML.getBytes(StandardCharsets.UTF_8), Path.of("."));
        snapshots.swap(new GatewaySnapshot(config, 1, Instant.EPOCH));
        metrics = new GatewayMetrics(snapshots);
        channel = new EmbeddedChannel();
        ServerContext server = new ServerContext(
                snapshots, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of(metrics));
        connection = new ConnectionState(channel, server, 0, 0);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
        metrics.close();
    }

    @Test
    void countsRequestsByRuleDecisionAndStatusClass() {
        finish(allowedByPublic(), 200);
        finish(allowedByPublic(), 502);
        Exchange byDefault = begin();
        byDefault.decision(new Decision(Effect.DENY, null, "no rule matched", 403, List.of()));
        finish(byDefault, 403);
        Exchange rejected = begin();
        rejected.reason("ambiguous_framing");
        finish(rejected, 400);
        finish(begin(), 499);

        assertThat(requests("public", "allow", "2xx")).isEqualTo(1);
        assertThat(requests("public", "allow", "5xx")).isEqualTo(1);
        assertThat(requests(GatewayMetrics.DEFAULT_RULE, "deny", "4xx")).isEqualTo(1);
        assertThat(requests(GatewayMetrics.NO_RULE, "deny", "4xx")).isEqualTo(1);
        assertThat(requests(GatewayMetrics.NO_RULE, "none", "4xx")).isEqualTo(1);
        assertThat(metrics.registry().get("portcullis.requests").counters()).hasSize(5);
        assertThat(metrics.registry().get("portcullis.audit.decisions").tag("rule", "trial").tag("decision", "deny")
                .counter().count()).isEqualTo(2);
        assertThat(metrics.registry().get("portcullis.request.duration").timer().count()).isEqualTo(5);
    }

    @Test
    void recordsUpstreamTimeOnlyForProxiedRequests() {
        Exchange proxied = allowedByPublic();
        proxied.upstreamStarted();
        finish(proxied, 200);
        finish(allowedByPublic(), 200);

        Timer upstream = metrics.registry().get("portcullis.upstream.duration").timer();
        assertThat(upstream.count()).isEqualTo(1);
    }

    @Test
    void recordingTheSameRequestAgainCreatesNoMeterAndAllocatesNothing() {
        Exchange exchange = allowedByPublic();
        exchange.status(200);
        metrics.exchangeFinished(exchange);
        int meters = metrics.registry().getMeters().size();

        metrics.exchangeFinished(exchange);

        assertThat(metrics.registry().getMeters()).hasSize(meters);
        assertThat(requests("public", "allow", "2xx")).isEqualTo(2);

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        int calls = 20_000;
        for (int i = 0; i < calls; i++) {
            // warm up first: the interpreter and the JIT's first tiers allocate while they profile
            metrics.exchangeFinished(exchange);
        }
        // C2 compiles in the background: on a loaded machine measure again until it has caught up (a real allocation
        // shows in every round, so the fewest bytes of up to 20 rounds still reveals it)
        long fewest = Long.MAX_VALUE;
        int rounds = 0;
        while (rounds < 20 && fewest >= calls / 10) {
            long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < calls; i++) {
                metrics.exchangeFinished(exchange);
            }
            fewest = Math.min(fewest, threads.getThreadAllocatedBytes(thread) - before);
            rounds++;
        }
        assertThat(fewest).as("fewest bytes allocated by %d recordings", calls).isLessThan(calls / 10);
        assertThat(requests("public", "allow", "2xx")).isEqualTo(2 + (1 + rounds) * (long) calls);
    }

    @Test
    void configInfoNamesOnlyTheLiveVersion() throws Exception {
        String first = snapshots.current().config().version();
        assertThat(metrics.registry().get("portcullis.config.info").gauge().getId().getTag("version")).isEqualTo(first);

        CompiledConfig changed = ConfigLoader.load("metrics.yaml",
                (YAML + "  - name: added\n    match: { paths: [\"/added\"] }\n").getBytes(StandardCharsets.UTF_8),
                Path.of("."));
        metrics.configLoaded(new GatewaySnapshot(changed, 2, Instant.EPOCH));

        List<Gauge> info = List.copyOf(metrics.registry().get("portcullis.config.info").gauges());
        assertThat(info).hasSize(1);
        assertThat(info.get(0).getId().getTag("version")).isEqualTo(changed.version()).isNotEqualTo(first);
        assertThat(info.get(0).value()).isEqualTo(1);
    }

    @Test
    void countsReloadsAndExportsTheDroppedLogLines() {
        metrics.reloadSucceeded();
        metrics.reloadSucceeded();
        metrics.reloadFailed();
        AtomicLong dropped = new AtomicLong(7);
        metrics.accessLogDropped(dropped::get);
        dropped.addAndGet(2);

        assertThat(reloads("success").count()).isEqualTo(2);
        assertThat(reloads("failure").count()).isEqualTo(1);
        assertThat(metrics.registry().get("portcullis.access.log.dropped").functionCounter().count()).isEqualTo(9);
    }

    @Test
    void exposesReloadJwtJvmAndNettySeriesBeforeAnyRequest() {
        assertThat(metrics.registry().find("portcullis.requests").counters()).isEmpty();
        String scrape = metrics.registry().scrape();
        assertThat(scrape).contains("portcullis_config_reloads_total{result=\"failure\"} 0")
                .contains("portcullis_jwt_verifications_total{result=\"valid\"} 0")
                .contains("jvm_memory_used_bytes")
                .contains("jvm_gc_collection_seconds_count{gc=")
                .contains("jvm_gc_max_data_size_bytes")
                .doesNotContain("jvm_gc_pause") // no JMX notification per collection (JvmGcScrapeMetrics)
                .contains("netty_direct_memory_used_bytes")
                .contains("netty_allocator_memory_used_bytes{allocator=");
    }

    @Test
    void rateLimitStoreMetersExistOnlyWhileAStoreIsConfigured() throws Exception {
        RateLimitStoreMetrics store = new RateLimitStoreMetrics();
        metrics.rateLimitStore(store);
        assertThat(metrics.registry().scrape()).as("no rate_limit_store").doesNotContain("portcullis_rate_limit_store");

        metrics.configLoaded(snapshot(WITH_STORE, 2));
        store.error();
        store.answered(3_000_000);
        assertThat(metrics.registry().scrape())
                .contains("portcullis_rate_limit_store_up 0.0")
                .contains("portcullis_rate_limit_store_errors_total 1.0")
                .contains("portcullis_rate_limit_store_duration_seconds_count 1");

        metrics.configLoaded(snapshot(YAML, 3));
        assertThat(metrics.registry().scrape()).as("store removed by a reload")
                .doesNotContain("portcullis_rate_limit_store");
        assertThat(metrics.registry().find("portcullis.rate.limit.store.up").gauges()).isEmpty();

        store.error();
        metrics.configLoaded(snapshot(WITH_STORE, 4));
        assertThat(metrics.registry().scrape()).as("store added again: the error count goes on")
                .contains("portcullis_rate_limit_store_up 0.0")
                .contains("portcullis_rate_limit_store_errors_total 2.0");
    }

    @Test
    void rateLimitStoreMetersOfAGatewayStartedWithAStore() throws Exception {
        snapshots.swap(snapshot(WITH_STORE, 2));
        RateLimitStoreMetrics store = new RateLimitStoreMetrics();
        metrics.rateLimitStore(store);
        store.up(true);

        assertThat(metrics.registry().scrape()).contains("portcullis_rate_limit_store_up 1.0")
                .contains("portcullis_rate_limit_store_errors_total 0.0");
    }

    private static GatewaySnapshot snapshot(String yaml, long generation) throws Exception {
        CompiledConfig config = ConfigLoader.load("metrics.yaml", yaml.getBytes(StandardCharsets.UTF_8), Path.of("."));
        return new GatewaySnapshot(config, generation, Instant.EPOCH);
    }

    private Exchange allowedByPublic() {
        Exchange exchange = begin();
        exchange.decision(new Decision(Effect.ALLOW, "public", "matched", 200,
                List.of(new AuditOutcome("trial", Effect.DENY, "would deny", 403))));
        return exchange;
    }

    private Exchange begin() {
        return connection.begin("req-1", "GET", "/public/x");
    }

    private static void finish(Exchange exchange, int status) {
        exchange.status(status);
        exchange.finish();
    }

    private double requests(String rule, String decision, String status) {
        Counter counter = metrics.registry().find("portcullis.requests")
                .tag("rule", rule).tag("decision", decision).tag("status", status).counter();
        return counter == null ? 0 : counter.count();
    }

    private Counter reloads(String result) {
        return metrics.registry().get("portcullis.config.reloads").tag("result", result).counter();
    }
}
