package dev.portcullis.core.policy;

import java.util.Objects;

/**
 * What an audit-mode rule would have decided for a request, recorded and otherwise ignored.
 *
 * @param rule the rule name
 * @param decision the effect the rule would have had
 * @param reason why, in the words of {@link Decision#reason()}
 */
public record AuditOutcome(String rule, Effect decision, String reason) {

    /** Rejects null components. */
    public AuditOutcome {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(decision, "decision");
        Objects.requireNonNull(reason, "reason");
    }
}
