package dev.portcullis.core.policy;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Read-only access to a request's header lines by case-insensitive name, which the server implements over its own
 * header container without copying.
 */
public interface RequestHeaders {

    /** The value of the first header line named {@code name} (in any case), or null. */
    @Nullable String first(String name);

    /**
     * The value of the first header line named {@code name} in any case and with {@code _} for {@code -}, as CGI-style
     * upstreams (WSGI, Rack, PHP) read {@code X_Tenant} as {@code X-Tenant}; null when there is none. For what a
     * policy reads ({@code headers} conditions, {@code header:} rate-limit keys), never for identity headers, which a
     * trusted proxy sets under their exact name.
     */
    @Nullable String firstAnySpelling(String name);

    /** Whether there is a header line named {@code name} in any case and with {@code _} for {@code -}. */
    boolean containsAnySpelling(String name);

    /**
     * Whether a header line named {@code name} in any case and with {@code _} for {@code -} has exactly the value
     * {@code exactValue} (case-sensitive).
     */
    boolean containsValueAnySpelling(String name, String exactValue);

    /** Headers backed by a copy of {@code headers}; names that differ only in case are merged in map order. */
    static RequestHeaders of(Map<String, List<String>> headers) {
        return new MapRequestHeaders(headers);
    }
}
