package dev.portcullis.core.identity;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A compiled dotted path into a token's claims, such as {@code realm_access.roles}, for
 * {@code subject_claim}, {@code roles_claim} and {@code claims:} conditions.
 *
 * <p>A path is always walked segment by segment (SPEC 3.5): a top-level claim whose name contains dots,
 * such as {@code "realm_access.roles"} or {@code https://example.com/roles}, never stands in for the nested
 * value, so a token cannot shadow {@code realm_access.roles} by adding a claim with that literal name.
 */
public final class ClaimPath {

    private final String path;
    private final String[] segments;

    private ClaimPath(String path, String[] segments) {
        this.path = path;
        this.segments = segments;
    }

    /**
     * Compiles {@code dotted}.
     *
     * @throws IllegalArgumentException when it is empty or has an empty segment ({@code "a..b"}, {@code ".a"})
     */
    public static ClaimPath compile(String dotted) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= dotted.length(); i++) {
            if (i == dotted.length() || dotted.charAt(i) == '.') {
                if (i == start) {
                    throw new IllegalArgumentException("\"" + dotted + "\" is not a valid claim path"
                            + " (expected: claim names separated by dots, e.g. realm_access.roles)");
                }
                parts.add(dotted.substring(start, i));
                start = i + 1;
            }
        }
        return new ClaimPath(dotted, parts.toArray(new String[0]));
    }

    /** The path as written. */
    public String path() {
        return path;
    }

    /** The value at this path in {@code claims}, or null when a step is missing or not a JSON object. */
    public @Nullable Object resolve(Map<String, ?> claims) {
        Object current = claims;
        for (String segment : segments) {
            if (!(current instanceof Map<?, ?> object)) {
                return null;
            }
            current = object.get(segment);
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /**
     * True when the claim at this path equals one of {@code values}, or is an array containing one.
     *
     * <p>Strings compare exactly; booleans as {@code true}/{@code false}; integral numbers in decimal
     * ({@code 42}, also for a JSON {@code 42.0}); objects never match.
     */
    public boolean matchesAny(Map<String, ?> claims, Set<String> values) {
        Object value = resolve(claims);
        if (value instanceof Collection<?> array) {
            for (Object element : array) {
                String text = ClaimValues.scalarText(element);
                if (text != null && values.contains(text)) {
                    return true;
                }
            }
            return false;
        }
        String text = ClaimValues.scalarText(value);
        return text != null && values.contains(text);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ClaimPath that && path.equals(that.path);
    }

    @Override
    public int hashCode() {
        return path.hashCode();
    }

    @Override
    public String toString() {
        return path;
    }
}
