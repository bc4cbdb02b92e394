package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.explain.CaseNode.Entry;
import dev.portcullis.core.explain.CaseNode.ListNode;
import dev.portcullis.core.explain.CaseNode.MapNode;
import dev.portcullis.core.explain.CaseNode.Scalar;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads a case's {@code jwt_claims:} into the claims a verified token would carry. A claim whose type the gateway
 * refuses in a real token ({@code sub} other than a string, {@code aud} other than a string or a list of strings:
 * {@code malformed_token}, 401) is a problem of the cases file, since no token with it is ever decided by the policy.
 */
final class CaseClaims {

    private CaseClaims() {}

    /** The claims of {@code request}'s {@code jwt_claims}, or null when it has none or they have problems. */
    static @Nullable Map<String, Object> read(MapNode request, String path, CaseProblems problems) {
        Entry entry = request.entries().get("jwt_claims");
        if (entry == null) {
            return null;
        }
        String at = path + ".jwt_claims";
        if (!(entry.value() instanceof MapNode map)) {
            problems.invalid(entry.value(), at, "is not a mapping of claims",
                    "a mapping, e.g. {org: {tenant: acme}, groups: [eng]}");
            return null;
        }
        int before = problems.count();
        Entry sub = map.entries().get("sub");
        if (sub != null && !isNull(sub.value()) && !isString(sub.value())) {
            refused(sub.value(), at + ".sub", "is not a string", "a string, e.g. alice or \"42\"", problems);
        }
        Entry aud = map.entries().get("aud");
        if (aud != null && !isNull(aud.value()) && !isString(aud.value())
                && !(aud.value() instanceof ListNode list && list.items().stream().allMatch(CaseClaims::isString))) {
            refused(aud.value(), at + ".aud", "is not a string or a list of strings",
                    "e.g. orders-api or [orders-api, billing]", problems);
        }
        if (problems.count() != before) {
            return null;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> claims = (Map<String, Object>) plain(map);
        return claims;
    }

    /** Reports a claim value shown as written (a number unquoted, so that it does not read as a string). */
    private static void refused(CaseNode node, String path, String what, String expected, CaseProblems problems) {
        String shown = node instanceof Scalar s ? s.text() : node instanceof ListNode ? "a list" : "a mapping";
        problems.problem(node.line(), node.column(), path, shown + " " + what + " (a token with it is refused as "
                + "malformed_token, 401) (expected: " + expected + ")");
    }

    private static boolean isNull(CaseNode node) {
        return node instanceof Scalar s && s.token() == JsonToken.VALUE_NULL;
    }

    private static boolean isString(CaseNode node) {
        return node instanceof Scalar s && s.token() == JsonToken.VALUE_STRING;
    }

    /** A claim value as the JWT resolver builds it: immutable maps and lists, Long or Double numbers. */
    private static @Nullable Object plain(CaseNode node) {
        if (node instanceof MapNode map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.entries().forEach((key, entry) -> {
                Object value = plain(entry.value());
                if (value != null) {
                    out.put(key, value);
                }
            });
            return Collections.unmodifiableMap(out);
        }
        if (node instanceof ListNode list) {
            List<Object> out = new ArrayList<>();
            for (CaseNode item : list.items()) {
                Object value = plain(item);
                if (value != null) {
                    out.add(value);
                }
            }
            return Collections.unmodifiableList(out);
        }
        Scalar s = (Scalar) node;
        return switch (s.token()) {
            case VALUE_NULL -> null;
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NUMBER_INT -> parseLong(s.text());
            case VALUE_NUMBER_FLOAT -> Double.valueOf(s.text());
            default -> s.text();
        };
    }

    private static Object parseLong(String text) {
        try {
            return Long.valueOf(text);
        } catch (NumberFormatException e) {
            return text;
        }
    }
}
