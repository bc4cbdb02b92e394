package dev.portcullis.core.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An immutable {@link RequestHeaders} over a map copy, for tests and offline tools. Names match in any case and with
 * {@code _} for {@code -}, as the gateway's own headers do.
 */
final class MapRequestHeaders implements RequestHeaders {

    private final Map<String, List<String>> headers;

    MapRequestHeaders(Map<String, List<String>> source) {
        TreeMap<String, List<String>> merged = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        source.forEach((name, values) -> merged.computeIfAbsent(key(name), n -> new ArrayList<>()).addAll(values));
        TreeMap<String, List<String>> immutable = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        merged.forEach((name, values) -> immutable.put(name, List.copyOf(values)));
        this.headers = Collections.unmodifiableMap(immutable);
    }

    @Override
    public @Nullable String first(String name) {
        List<String> values = headers.get(key(name));
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    @Override
    public boolean contains(String name) {
        List<String> values = headers.get(key(name));
        return values != null && !values.isEmpty();
    }

    @Override
    public boolean containsValue(String name, String exactValue) {
        List<String> values = headers.get(key(name));
        return values != null && values.contains(exactValue);
    }

    private static String key(String name) {
        return name.replace('_', '-');
    }

    @Override
    public String toString() {
        return headers.toString();
    }
}
