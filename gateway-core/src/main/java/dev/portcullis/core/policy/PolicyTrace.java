package dev.portcullis.core.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What evaluating a policy for one request went through, for {@code explain}: each rule evaluated, in order, with
 * the outcome of each of its conditions, and the decision {@link Policy#evaluate} gives.
 *
 * @param rules the rules evaluated, in order: every rule up to and including the deciding one, or all of them when
 *     the default applied
 * @param decision the decision, equal to {@link Policy#evaluate}'s for the same request
 */
public record PolicyTrace(List<RuleTrace> rules, Decision decision) {

    /*
     * Implementation notes: this is the slow path. It walks the rules the way Policy.evaluate does and asks each
     * rule's match and require for their explanations, key by key; the per-rule decision comes from the policy's
     * own decide, and the final decision from evaluate itself, so that the trace cannot disagree with the gateway.
     */

    /** Copies the list. */
    public PolicyTrace {
        rules = List.copyOf(rules);
        Objects.requireNonNull(decision, "decision");
    }

    /**
     * One rule as evaluated.
     *
     * @param name the rule's name
     * @param mode enforce or audit
     * @param action allow or deny
     * @param matched whether its {@code match} held
     * @param match each ANDed key of {@code match}, in order; empty when the rule has none (it matches every request)
     * @param require each ANDed key of {@code require}, in order, when the rule matched and is an allow rule; else empty
     * @param decision what the rule decided (for an audit rule: would have decided) when it matched; else null
     * @param rateLimit the limiter the rule applies when it allows a request ({@code rate_limit}); null for none
     */
    public record RuleTrace(String name, Mode mode, Effect action, boolean matched, List<ConditionOutcome> match,
            List<ConditionOutcome> require, @Nullable Decision decision, @Nullable String rateLimit) {
        /** Copies the lists. */
        public RuleTrace {
            match = List.copyOf(match);
            require = List.copyOf(require);
        }

        /** Whether every key of {@code require} held (true when there is none). */
        public boolean requireHeld() {
            for (ConditionOutcome outcome : require) {
                if (!outcome.holds()) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The outcome of one condition.
     *
     * @param condition the condition as configured, e.g. {@code paths [/admin/**]}
     * @param holds whether it held
     * @param explanation why it held or failed, e.g. {@code method POST not in [GET]}
     */
    public record ConditionOutcome(String condition, boolean holds, String explanation) {}

    /** Evaluates {@code request} with {@code policy}, recording every rule it goes through. */
    public static PolicyTrace of(Policy policy, AccessRequest request) {
        AccessRequest folded = policy.caseInsensitivePaths() ? request.withFoldedPath() : request;
        List<RuleTrace> traces = new ArrayList<>();
        List<Rule> rules = policy.rules();
        for (int i = 0; i < rules.size(); i++) {
            Rule rule = rules.get(i);
            List<ConditionOutcome> match = outcomes(rule.match(), folded);
            boolean matched = rule.match().matches(folded);
            if (!matched) {
                traces.add(new RuleTrace(rule.name(), rule.mode(), rule.action(), false, match, List.of(), null,
                        rule.rateLimit()));
                continue;
            }
            List<ConditionOutcome> require = rule.action() == Effect.ALLOW ? outcomes(rule.require(), folded) : List.of();
            Decision ruleDecision = policy.decide(i, folded, null);
            traces.add(new RuleTrace(rule.name(), rule.mode(), rule.action(), true, match, require, ruleDecision,
                    rule.rateLimit()));
            if (rule.mode() == Mode.ENFORCE) {
                break;
            }
        }
        return new PolicyTrace(traces, policy.evaluate(request));
    }

    private static List<ConditionOutcome> outcomes(RequestMatcher matcher, AccessRequest request) {
        if (matcher == RequestMatcher.always()) {
            return List.of();
        }
        List<RequestMatcher> parts = matcher instanceof AllOf all ? all.matchers() : List.of(matcher);
        List<ConditionOutcome> outcomes = new ArrayList<>(parts.size());
        for (RequestMatcher part : parts) {
            boolean holds = part.matches(request);
            outcomes.add(new ConditionOutcome(part.toString(), holds,
                    holds ? part.explainMatch(request) : part.explainFailure(request)));
        }
        return outcomes;
    }
}
