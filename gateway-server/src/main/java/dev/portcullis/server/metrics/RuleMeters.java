package dev.portcullis.server.metrics;

import dev.portcullis.core.policy.Effect;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * The request and audit counters of one {@code rule} label value, indexed by decision and status class.
 *
 * <p>A counter is registered the first time its combination is recorded and then held in its slot, so
 * recording in steady state is an array read and an increment: no lookup by tags, no allocation. Two
 * threads racing to fill a slot get the same counter from the registry.
 */
final class RuleMeters {
    static final String[] DECISIONS = {"allow", "deny", "none"};
    static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
    static final int ALLOW = 0;
    static final int DENY = 1;
    static final int NO_DECISION = 2;

    private final String rule;
    private final MeterRegistry registry;
    private final AtomicReferenceArray<@Nullable Counter> requests =
            new AtomicReferenceArray<>(DECISIONS.length * STATUS_CLASSES.length);
    private final AtomicReferenceArray<@Nullable Counter> audit = new AtomicReferenceArray<>(2);

    RuleMeters(String rule, MeterRegistry registry) {
        this.rule = rule;
        this.registry = registry;
    }

    /** The index of {@code status}'s class in {@link #STATUS_CLASSES}: 1xx..5xx, else other. */
    static int statusClass(int status) {
        int hundreds = status / 100;
        return hundreds >= 1 && hundreds <= 5 ? hundreds - 1 : STATUS_CLASSES.length - 1;
    }

    /** Counts one finished request decided ({@link #ALLOW}, {@link #DENY}, {@link #NO_DECISION}) with {@code status}. */
    void request(int decision, int status) {
        int slot = decision * STATUS_CLASSES.length + statusClass(status);
        Counter counter = requests.get(slot);
        if (counter == null) {
            counter = Counter.builder(GatewayMetrics.REQUESTS)
                    .description("Finished requests by deciding rule, decision and response status class")
                    .tag("rule", rule)
                    .tag("decision", DECISIONS[decision])
                    .tag("status", STATUS_CLASSES[statusClass(status)])
                    .register(registry);
            requests.set(slot, counter);
        }
        counter.increment();
    }

    /** Counts one audit-mode outcome of this rule. */
    void audit(Effect effect) {
        int slot = effect == Effect.ALLOW ? ALLOW : DENY;
        Counter counter = audit.get(slot);
        if (counter == null) {
            counter = Counter.builder(GatewayMetrics.AUDIT_DECISIONS)
                    .description("What audit-mode rules would have decided, by rule and decision")
                    .tag("rule", rule)
                    .tag("decision", DECISIONS[slot])
                    .register(registry);
            audit.set(slot, counter);
        }
        counter.increment();
    }
}
