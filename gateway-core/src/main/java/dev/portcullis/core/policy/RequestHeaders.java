package dev.portcullis.core.policy;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Read-only access to a request's header lines by case-insensitive name, which the server implements over its own
 * header container without copying.
 */
public interface RequestHeaders {

    /** The value of the first header line named {@code name}, or null. */
    @Nullable String first(String name);

    /** Whether there is a header line named {@code name}. */
    boolean contains(String name);

    /** Whether any header line named {@code name} has exactly the value {@code exactValue} (case-sensitive). */
    boolean containsValue(String name, String exactValue);

    /** Headers backed by a copy of {@code headers}; names that differ only in case are merged in map order. */
    static RequestHeaders of(Map<String, List<String>> headers) {
        return new MapRequestHeaders(headers);
    }
}
