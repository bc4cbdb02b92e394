package dev.portcullis.core.policy;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One compiled policy rule (SPEC 3.1).
 *
 * @param name the unique rule name, for logs and metrics (never shown to clients)
 * @param match which requests the rule decides; {@link RequestMatcher#always()} for all
 * @param require what an allowed request must also satisfy; {@link RequestMatcher#always()} for deny rules
 * @param action allow (subject to {@code require}) or deny
 * @param denyStatus 403, or 404 to hide that the resource exists
 * @param mode enforce, or audit to record the decision and move on to the next rule
 * @param rateLimit the name of the limiter applied when this rule allows a request; null for none
 */
public record Rule(
        String name,
        RequestMatcher match,
        RequestMatcher require,
        Effect action,
        int denyStatus,
        Mode mode,
        @Nullable String rateLimit) {

    /** A rule without a rate limit. */
    public Rule(String name, RequestMatcher match, RequestMatcher require, Effect action, int denyStatus, Mode mode) {
        this(name, match, require, action, denyStatus, mode, null);
    }

    /** Checks the name, the deny status and that only allow rules have a {@code require}. */
    public Rule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(require, "require");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(mode, "mode");
        if (name.isBlank()) {
            throw new IllegalArgumentException(
                    "\"" + name + "\" is not a valid rule name (expected: a non-blank name)");
        }
        if (denyStatus != 403 && denyStatus != 404) {
            throw new IllegalArgumentException(
                    "\"" + denyStatus + "\" is not a valid deny_status (expected: 403 or 404)");
        }
        if (action == Effect.DENY && rateLimit != null) {
            throw new IllegalArgumentException("rule \"" + name + "\" has action deny and a rate_limit (expected: "
                    + "rate_limit only with action allow)");
        }
        if (action == Effect.DENY && require != RequestMatcher.always()) {
            throw new IllegalArgumentException("rule \"" + name + "\" has action deny and a require (expected: "
                    + "require only with action allow)");
        }
    }
}
