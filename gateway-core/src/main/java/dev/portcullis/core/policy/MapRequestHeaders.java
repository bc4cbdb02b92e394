package dev.portcullis.core.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An immutable {@link RequestHeaders} over a map copy, for tests and offline tools: names match in any case, and in
 * the {@code AnySpelling} lookups with {@code _} for {@code -}, as the gateway's own headers do.
 */
final class MapRequestHeaders implements RequestHeaders {

    private final Map<String, List<String>> headers;
    /** The same lines under their names with {@code _} read as {@code -}. */
    private final Map<String, List<String>> anySpelling;

    MapRequestHeaders(Map<String, List<String>> source) {
        this.headers = merged(source, false);
        this.anySpelling = merged(source, true);
    }

    private static Map<String, List<String>> merged(Map<String, List<String>> source, boolean dashes) {
        TreeMap<String, List<String>> merged = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        source.forEach((name, values) -> merged.computeIfAbsent(dashes ? dashed(name) : name, n -> new ArrayList<>())
                .addAll(values));
        TreeMap<String, List<String>> immutable = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        merged.forEach((name, values) -> immutable.put(name, List.copyOf(values)));
        return Collections.unmodifiableMap(immutable);
    }

    /** {@code name} with {@code _} read as {@code -}; the maps ignore case, so a name without {@code _} is kept as is. */
    private static String dashed(String name) {
        return name.replace('_', '-');
    }

    @Override
    public @Nullable String first(String name) {
        return firstOf(headers.get(name));
    }

    @Override
    public @Nullable String firstAnySpelling(String name) {
        return firstOf(anySpelling.get(dashed(name)));
    }

    @Override
    public boolean containsAnySpelling(String name) {
        List<String> values = anySpelling.get(dashed(name));
        return values != null && !values.isEmpty();
    }

    @Override
    public boolean containsValueAnySpelling(String name, String exactValue) {
        List<String> values = anySpelling.get(dashed(name));
        return values != null && values.contains(exactValue);
    }

    private static @Nullable String firstOf(@Nullable List<String> values) {
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    @Override
    public String toString() {
        return headers.toString();
    }
}
