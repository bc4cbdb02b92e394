package dev.portcullis.core.config;

import dev.portcullis.core.runtime.HeapShare;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Refuses a policy whose rule index would take too much of the heap. The index keeps, for each distinct value of an
 * indexed condition (a path's first segment, a host, a method, a CIDR's bounds, a role, a country, a referrer host),
 * one bit per rule: its size grows with the number of rules times the number of such values, so with the square of
 * the number of rules when each rule names its own. Building one that does not fit would end the process on a reload
 * (out of memory) instead of rejecting the config; so it is estimated first, from the top-level {@code match} of each
 * rule, which is all the index reads, counting every value as distinct (an upper bound of the finished index), and
 * refused above a share of the heap that leaves room for what a reload holds besides at its peak: the builder's own
 * data, the new config's tree and matchers, and the live generation (perhaps the one before it too). An eighth was
 * measured to hold: in a 64 MiB heap, rules at its edge (3,600 with a path, two CIDRs and a required role each;
 * 2,680 with four CIDRs) were reloaded six times in a row, while a quarter let 4,500 such rules through and the second
 * reload ran out of memory.
 */
final class RuleIndexBudget {
    /** The condition keys the index reads, each with the masks one listed value may make (a CIDR has two bounds). */
    private static final Map<String, Integer> INDEXED = Map.of(
            "methods", 1, "paths", 1, "hosts", 1, "ip", 2, "roles", 1, "countries", 1, "referrers", 1);

    private RuleIndexBudget() {}

    /** The budget of this JVM: an eighth of its maximum heap. */
    static long ofThisJvm() {
        return HeapShare.ofThisJvm();
    }

    /** An upper bound of the index's masks in bytes for {@code rules}. */
    static long estimateBytes(List<RuleConfig> rules) {
        long values = 0;
        for (RuleConfig rule : rules) {
            ConditionConfig match = rule.match();
            if (match == null) {
                continue;
            }
            for (Map.Entry<String, Object> entry : match.values().entrySet()) {
                Integer masks = INDEXED.get(entry.getKey());
                if (masks != null && entry.getValue() instanceof List<?> listed) {
                    values += (long) masks * listed.size();
                }
            }
        }
        long words = (rules.size() + 63L) / 64;
        return values * words * Long.BYTES;
    }

    /** Reports at {@code rules} when the index of {@code rules} would exceed {@code budget} bytes. */
    static void check(List<RuleConfig> rules, long budget, Problems problems) {
        long estimate = estimateBytes(rules);
        if (estimate > budget) {
            problems.add("rules", rules.size() + " rules would need up to " + mebibytes(estimate)
                    + " MiB for their index, more than the " + mebibytes(budget) + " MiB (an eighth of the heap) a"
                    + " policy may take (expected: fewer rules, e.g. one rule listing many paths or CIDRs rather"
                    + " than one rule each, or a larger heap: -Xmx, JAVA_OPTS in Docker)");
        }
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }
}
