package dev.portcullis.core.config;

import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Mode;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code rules} as written (SPEC 3.1).
 *
 * @param name the unique rule name; {@code null} when missing or invalid (reported)
 * @param match which requests the rule decides; {@code null} for every request
 * @param require what an allowed request must also satisfy; {@code null} for nothing
 * @param action {@code allow} or {@code deny}
 * @param denyStatus 403 or 404
 * @param mode {@code enforce} or {@code audit}
 * @param rateLimit the name of the limiter applied when the rule allows; null for none
 */
public record RuleConfig(
        @Nullable String name,
        @Nullable ConditionConfig match,
        @Nullable ConditionConfig require,
        Effect action,
        int denyStatus,
        Mode mode,
        @Nullable String rateLimit) {

    public static final Effect DEFAULT_ACTION = Effect.ALLOW;
    public static final int DEFAULT_DENY_STATUS = 403;
    public static final Mode DEFAULT_MODE = Mode.ENFORCE;
}
