package dev.portcullis.core.identity;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Conversions of parsed JSON claim values: deep immutable copies, scalar text and role lists. */
final class ClaimValues {

    private ClaimValues() {}

    /** A deeply immutable copy of a parsed claims object; JSON nulls are dropped, dates become epoch seconds. */
    static Map<String, Object> immutableCopy(Map<String, ?> claims) {
        Map<String, Object> copy = new HashMap<>(claims.size() * 2);
        for (Map.Entry<String, ?> entry : claims.entrySet()) {
            Object value = immutableValue(entry.getValue());
            if (value != null) {
                copy.put(entry.getKey(), value);
            }
        }
        return Map.copyOf(copy);
    }

    private static @Nullable Object immutableValue(@Nullable Object value) {
        if (value instanceof Map<?, ?> object) {
            Map<String, Object> copy = new HashMap<>(object.size() * 2);
            for (Map.Entry<?, ?> entry : object.entrySet()) {
                Object element = immutableValue(entry.getValue());
                if (entry.getKey() instanceof String key && element != null) {
                    copy.put(key, element);
                }
            }
            return Map.copyOf(copy);
        }
        if (value instanceof Collection<?> array) {
            List<Object> copy = new ArrayList<>(array.size());
            for (Object element : array) {
                Object immutable = immutableValue(element);
                if (immutable != null) {
                    copy.add(immutable);
                }
            }
            return List.copyOf(copy);
        }
        if (value instanceof Date date) {
            return date.getTime() / 1000;
        }
        return value;
    }

    /** The text a scalar claim value compares as, or null for objects, arrays and null. */
    static @Nullable String scalarText(@Nullable Object value) {
        if (value instanceof String text) {
            return text;
        }
        if (value instanceof Boolean || value instanceof Long || value instanceof Integer
                || value instanceof BigInteger || value instanceof Short || value instanceof Byte) {
            return value.toString();
        }
        if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
            double d = ((Number) value).doubleValue();
            if (!Double.isInfinite(d) && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
                return Long.toString((long) d);
            }
            return value.toString();
        }
        return null;
    }

    /**
     * The roles in a {@code roles_claim} value: the strings of an array, or the words of a string
     * separated by spaces and/or commas (an OAuth {@code scope}), in the token's order; anything else gives none.
     */
    static Set<String> roles(@Nullable Object value) {
        if (value instanceof String text) {
            return words(text);
        }
        if (value instanceof Collection<?> array) {
            Set<String> roles = new LinkedHashSet<>();
            for (Object element : array) {
                if (element instanceof String role) {
                    String trimmed = role.strip();
                    if (!trimmed.isEmpty()) {
                        roles.add(trimmed);
                    }
                }
            }
            return Roles.copyOf(roles);
        }
        return Set.of();
    }

    private static Set<String> words(String text) {
        Set<String> words = new LinkedHashSet<>();
        int start = -1;
        for (int i = 0; i <= text.length(); i++) {
            boolean separator = i == text.length() || isSeparator(text.charAt(i));
            if (separator && start >= 0) {
                words.add(text.substring(start, i));
                start = -1;
            } else if (!separator && start < 0) {
                start = i;
            }
        }
        return Roles.copyOf(words);
    }

    private static boolean isSeparator(char c) {
        return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r';
    }
}
