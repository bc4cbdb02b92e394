package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.paths;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyTest {

    private static final RequestMatcher ALWAYS = RequestMatcher.always();

    @Test
    void reusesPrecomputedDecisionsWhenAllowingWithoutAudit() {
        Policy policy = new Policy(List.of(new Rule("all", paths("/**"), ALWAYS, Effect.ALLOW, 403, Mode.ENFORCE)),
                Effect.DENY);

        Decision first = policy.evaluate(get("/a").build());

        assertThat(policy.evaluate(get("/b").build())).isSameAs(first);
        assertThat(first.audit()).isSameAs(List.of());
        Policy empty = new Policy(List.of(), Effect.ALLOW);
        assertThat(empty.evaluate(get("/a").build())).isSameAs(empty.evaluate(get("/b").build()));
    }

    @Test
    void exposesRulesAndDefault() {
        Rule rule = new Rule("r", ALWAYS, ALWAYS, Effect.ALLOW, 404, Mode.AUDIT);
        List<Rule> rules = new ArrayList<>(List.of(rule));
        Policy policy = new Policy(rules, Effect.ALLOW);
        rules.clear();

        assertThat(policy.rules()).containsExactly(rule);
        assertThat(policy.defaultEffect()).isEqualTo(Effect.ALLOW);
        assertThat(policy).hasToString("Policy[1 rules, default allow]");
    }

    @Test
    void rejectsDuplicateRuleNames() {
        Rule rule = new Rule("health", ALWAYS, ALWAYS, Effect.ALLOW, 403, Mode.ENFORCE);

        assertThatThrownBy(() -> new Policy(List.of(rule, rule), Effect.DENY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"health\" is not a valid rule name (expected: unique, already used by rules[0])");
    }

    @Test
    void validatesRules() {
        assertThatThrownBy(() -> new Rule("r", ALWAYS, ALWAYS, Effect.DENY, 401, Mode.ENFORCE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"401\" is not a valid deny_status (expected: 403 or 404)");
        assertThatThrownBy(() -> new Rule(" ", ALWAYS, ALWAYS, Effect.DENY, 403, Mode.ENFORCE))
                .hasMessage("\" \" is not a valid rule name (expected: a non-blank name)");
        assertThatThrownBy(() -> new Rule("r", ALWAYS, paths("/a"), Effect.DENY, 403, Mode.ENFORCE))
                .hasMessage("rule \"r\" has action deny and a require (expected: require only with action allow)");
    }

    @Test
    void validatesDecisions() {
        assertThatThrownBy(() -> new Decision(Effect.ALLOW, null, "x", 403, List.of()))
                .hasMessage("\"403\" is not a valid status for allow (expected: 200)");
        assertThatThrownBy(() -> new Decision(Effect.DENY, null, "x", 200, List.of()))
                .hasMessage("\"200\" is not a valid status for deny (expected: 401, 403, 404 or 429)");
        assertThatThrownBy(() -> new AuditOutcome("r", Effect.DENY, "x", 200))
                .hasMessage("\"200\" is not a valid status for deny (expected: 401, 403, 404 or 429)");
        List<AuditOutcome> audit = new ArrayList<>();
        Decision decision = new Decision(Effect.DENY, null, "x", 404, audit);
        audit.add(new AuditOutcome("r", Effect.DENY, "y", 403));
        assertThat(decision.audit()).isEmpty();
    }

    @Test
    void onlyA401IsAChallenge() {
        assertThat(new Decision(Effect.DENY, "r", "x", 401, List.of()).challenge()).isTrue();
        assertThat(new Decision(Effect.DENY, "r", "x", 403, List.of()).challenge()).isFalse();
        assertThat(new Decision(Effect.DENY, "r", "x", 404, List.of()).challenge()).isFalse();
        assertThat(new Decision(Effect.ALLOW, "r", "x", 200, List.of()).challenge()).isFalse();
    }

    @Test
    void labelsEffectsAndModesInLowerCase() {
        assertThat(Effect.ALLOW.label()).isEqualTo("allow");
        assertThat(Effect.DENY).hasToString("deny");
        assertThat(Mode.AUDIT.label()).isEqualTo("audit");
        assertThat(Mode.ENFORCE).hasToString("enforce");
    }
}
