package dev.portcullis.core.policy;

import java.util.Objects;

/**
 * What an audit-mode rule would have decided for a request, recorded and otherwise ignored.
 *
 * @param rule the rule name
 * @param decision the effect the rule would have had
 * @param reason why, in the words of {@link Decision#reason()}
 * @param status the status the rule would have answered with: 200 (allowed), 401, 403 or 404
 */
public record AuditOutcome(String rule, Effect decision, String reason, int status) {

    /** Rejects null components and a status that does not fit the decision. */
    public AuditOutcome {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(decision, "decision");
        Objects.requireNonNull(reason, "reason");
        Decision.checkStatus(decision, status);
    }
}
