package dev.portcullis.core.policy;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;

/** A condition that holds when the request method is one of a set, compared case-sensitively ({@code methods}). */
public final class MethodMatcher implements RequestMatcher {

    private final String[] methods;

    private MethodMatcher(Collection<String> methods) {
        this.methods = methods.toArray(String[]::new);
    }

    /** A matcher for one or more methods, each checked with {@link #checkMethod}; duplicates are dropped. */
    public static MethodMatcher of(Collection<String> methods) {
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid methods condition (expected: at least one method)");
        }
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String method : methods) {
            unique.add(checkMethod(method));
        }
        return new MethodMatcher(unique);
    }

    /**
     * Returns {@code method} if it is an RFC 9110 token without lower-case letters ({@code GET}, {@code PURGE}),
     * else throws {@link IllegalArgumentException}: methods are case-sensitive, and "get" is a different method.
     */
    public static String checkMethod(String method) {
        boolean valid = !method.isEmpty();
        for (int i = 0; i < method.length() && valid; i++) {
            char c = method.charAt(i);
            valid = c > ' ' && c < 0x7F && !(c >= 'a' && c <= 'z') && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
        }
        if (!valid) {
            throw new IllegalArgumentException(
                    "\"" + method + "\" is not a valid method (expected: an upper-case token, e.g. GET)");
        }
        return method;
    }

    /** The methods, in the order first given. */
    public List<String> methods() {
        return List.of(methods);
    }

    @Override
    public boolean matches(AccessRequest request) {
        String method = request.method();
        for (String candidate : methods) {
            if (candidate.equals(method)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return "method " + request.method() + " in " + Explain.list(methods());
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "method " + request.method() + " not in " + Explain.list(methods());
    }

    @Override
    public String toString() {
        return "methods " + Explain.list(methods());
    }
}
