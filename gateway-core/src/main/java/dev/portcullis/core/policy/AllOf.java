package dev.portcullis.core.policy;

import java.util.List;

/** A condition that holds when every one of its conditions holds (the keys of one {@code match}, or {@code all}). */
public final class AllOf implements RequestMatcher {

    private final RequestMatcher[] matchers;

    private AllOf(List<RequestMatcher> matchers) {
        this.matchers = matchers.toArray(RequestMatcher[]::new);
    }

    /** The conjunction of {@code matchers}: {@link RequestMatcher#always()} when empty, the matcher itself when one. */
    public static RequestMatcher of(List<RequestMatcher> matchers) {
        List<RequestMatcher> copy = List.copyOf(matchers);
        return copy.isEmpty() ? RequestMatcher.always() : copy.size() == 1 ? copy.get(0) : new AllOf(copy);
    }

    /** The conditions, in order. */
    public List<RequestMatcher> matchers() {
        return List.of(matchers);
    }

    @Override
    public boolean matches(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (!matcher.matches(request)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        StringBuilder sb = new StringBuilder();
        for (RequestMatcher matcher : matchers) {
            sb.append(sb.length() == 0 ? "" : " and ").append(matcher.explainMatch(request));
        }
        return sb.toString();
    }

    @Override
    public String explainFailure(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (!matcher.matches(request)) {
                return matcher.explainFailure(request);
            }
        }
        return "all conditions hold";
    }

    /**
     * True when any failing condition fails for want of identity (SPEC 3.6: "a failing predicate needs
     * identity"), whatever the order of the keys: an anonymous client outside the office asking for a
     * {@code roles + ip} resource is asked to authenticate first.
     */
    @Override
    public boolean failsForWantOfIdentity(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (!matcher.matches(request) && matcher.failsForWantOfIdentity(request)) {
                return true;
            }
        }
        return false;
    }

    /** The first failing condition that fails for want of identity, which need not be the first failing one. */
    @Override
    public String explainFailureForWantOfIdentity(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (!matcher.matches(request) && matcher.failsForWantOfIdentity(request)) {
                return matcher.explainFailureForWantOfIdentity(request);
            }
        }
        return explainFailure(request);
    }

    /** Every condition, as {@link #explainMatch}, those that hold for want of identity saying so. */
    @Override
    public String explainMatchForWantOfIdentity(AccessRequest request) {
        StringBuilder sb = new StringBuilder();
        for (RequestMatcher matcher : matchers) {
            sb.append(sb.length() == 0 ? "" : " and ").append(matcher.holdsForWantOfIdentity(request)
                    ? matcher.explainMatchForWantOfIdentity(request) : matcher.explainMatch(request));
        }
        return sb.toString();
    }

    @Override
    public boolean holdsForWantOfIdentity(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (matcher.holdsForWantOfIdentity(request)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "all" + List.of(matchers);
    }
}
