package dev.portcullis.core.policy;

import java.util.List;

/**
 * A condition that holds when a header is present with one of a list of exact values, or with any value when the list
 * is empty ({@code headers}).
 */
public final class HeaderMatcher implements RequestMatcher {

    private final String name;
    private final String[] values;

    private HeaderMatcher(String name, List<String> values) {
        this.name = name;
        this.values = values.toArray(String[]::new);
    }

    /**
     * A matcher for header {@code name} (case-insensitive).
     *
     * @param values the accepted exact values (case-sensitive); empty: present with any value
     */
    public static HeaderMatcher of(String name, List<String> values) {
        return new HeaderMatcher(checkName(name), List.copyOf(values));
    }

    /**
     * Returns {@code name} if it is an RFC 9110 token, as a header name must be, else throws
     * {@link IllegalArgumentException} with a message showing the name and what was expected.
     */
    public static String checkName(String name) {
        if (!isValidName(name)) {
            throw new IllegalArgumentException(
                    "\"" + name + "\" is not a valid header name (expected: an HTTP token, e.g. X-Env)");
        }
        return name;
    }

    /** Whether {@code name} is an RFC 9110 token, as a header name must be. */
    public static boolean isValidName(String name) {
        boolean valid = !name.isEmpty();
        for (int i = 0; i < name.length() && valid; i++) {
            char c = name.charAt(i);
            valid = c > ' ' && c < 0x7F && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
        }
        return valid;
    }

    /** The header name as written. */
    public String name() {
        return name;
    }

    /** The accepted values; empty when any value will do. */
    public List<String> values() {
        return List.of(values);
    }

    @Override
    public boolean matches(AccessRequest request) {
        RequestHeaders headers = request.headers();
        if (values.length == 0) {
            return headers.containsAnySpelling(name);
        }
        for (String value : values) {
            if (headers.containsValueAnySpelling(name, value)) {
                return true;
            }
        }
        return false;
    }

    /** Names the configured values only: request header values may be secrets and never reach the log. */
    @Override
    public String explainMatch(AccessRequest request) {
        return values.length == 0 ? "header " + name + " present"
                : "header " + name + " has a value in " + Explain.list(values());
    }

    @Override
    public String explainFailure(AccessRequest request) {
        if (values.length == 0 || !request.headers().containsAnySpelling(name)) {
            return "header " + name + " absent";
        }
        return "header " + name + " has no value in " + Explain.list(values());
    }

    @Override
    public String toString() {
        return "header " + name + (values.length == 0 ? " present" : " in " + Explain.list(values()));
    }
}
