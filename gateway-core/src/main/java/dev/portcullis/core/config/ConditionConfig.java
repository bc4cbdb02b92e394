package dev.portcullis.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A {@code match} or {@code require} condition as written: each key present must hold (SPEC 3.2).
 *
 * <p>Each written key maps to its bound value, whose type its {@link ConditionKey} knows; a key that was
 * not written, or was invalid (and reported), is absent. A condition with no keys holds for every request.
 *
 * @param values bound value by key name, in the order of {@link ConditionKeys#ALL}
 */
public record ConditionConfig(Map<String, Object> values) {

    /** The condition with no keys, which holds for every request. */
    public static final ConditionConfig ALWAYS = new ConditionConfig(Map.of());

    public ConditionConfig {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Whether no key was written. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** The bound value of {@code key}, or null when it was not written (or was invalid). */
    public <T> @Nullable T value(ConditionKey<T> key) {
        Object value = values.get(key.name());
        return value == null ? null : key.type().cast(value);
    }
}
