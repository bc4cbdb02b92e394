package dev.portcullis.core.policy;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of evaluating a policy for one request: the effect, the deciding rule, a specific reason for the log,
 * the status to answer, and any audit-mode outcomes met on the way.
 *
 * @param effect allow or deny
 * @param rule the deciding rule's name; null when the policy default applied
 * @param reason why, for the decision log only (never shown to clients)
 * @param status 200 to proxy the request, else the status to answer with: 401 ({@link #challenge()}), 403, 404, or
 *     429 when the deciding rule's rate limit refused it
 * @param audit the outcomes of the audit-mode rules that matched before the decision, in rule order
 */
public record Decision(Effect effect, @Nullable String rule, String reason, int status, List<AuditOutcome> audit) {

    /** Checks that the status fits the effect and copies the audit list. */
    public Decision {
        Objects.requireNonNull(effect, "effect");
        Objects.requireNonNull(reason, "reason");
        checkStatus(effect, status);
        audit = List.copyOf(audit);
    }

    /** Whether the request is to be proxied. */
    public boolean allowed() {
        return effect == Effect.ALLOW;
    }

    /**
     * Whether the answer is a 401 challenge (SPEC 3.6): the request is anonymous and was denied by a predicate that
     * needs an identity. The answer then carries {@code WWW-Authenticate: Bearer realm="portcullis"}, with
     * {@code error="invalid_token"} added when the request's {@link AccessRequest#tokenRejection()} is not null.
     */
    public boolean challenge() {
        return status == 401;
    }

    static void checkStatus(Effect effect, int status) {
        if (effect == Effect.ALLOW ? status != 200 : status != 401 && status != 403 && status != 404 && status != 429) {
            throw new IllegalArgumentException("\"" + status + "\" is not a valid status for " + effect
                    + " (expected: " + (effect == Effect.ALLOW ? "200)" : "401, 403, 404 or 429)"));
        }
    }
}
