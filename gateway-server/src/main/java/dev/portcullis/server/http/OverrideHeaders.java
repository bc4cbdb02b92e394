package dev.portcullis.server.http;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Headers by which middleware lets a request claim another method or path than the one the policy decided
 * on ({@code X-HTTP-Method-Override}, {@code X-HTTP-Method}, {@code X-Method-Override}, {@code X-Original-URL},
 * {@code X-Rewrite-URL}): removed from every request before it is proxied (SPEC 3.7), in any case and with
 * {@code _} for {@code -}.
 */
public final class OverrideHeaders {
    private static final List<String> NAMES = List.of(
            "x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url");

    private OverrideHeaders() {}

    /** Removes every override header; the names removed, as sent, or null when there were none (no allocation then). */
    public static @Nullable List<String> strip(HttpHeaders headers) {
        List<String> removed = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (isOverride(name)) {
                if (removed == null) {
                    removed = new ArrayList<>(2);
                }
                String text = name.toString();
                if (!removed.contains(text)) {
                    removed.add(text);
                }
            }
        }
        if (removed != null) {
            for (String name : removed) {
                headers.remove(name);
            }
        }
        return removed;
    }

    /** Whether {@code name} is an override header in some spelling. */
    public static boolean isOverride(CharSequence name) {
        int n = name.length();
        if (n < 13 || n > 22 || (name.charAt(0) | 0x20) != 'x') {
            return false;
        }
        for (String candidate : NAMES) {
            if (candidate.length() == n && sameIgnoringCaseAndUnderscore(name, candidate)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameIgnoringCaseAndUnderscore(CharSequence name, String lowerDashed) {
        for (int i = 0; i < lowerDashed.length(); i++) {
            char c = name.charAt(i);
            if (c == '_') {
                c = '-';
            } else if (c >= 'A' && c <= 'Z') {
                c = (char) (c + ('a' - 'A'));
            }
            if (c != lowerDashed.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
