package dev.portcullis.core.policy;

import java.util.List;

/** A condition that holds when at least one of its conditions holds ({@code any}). */
public final class AnyOf implements RequestMatcher {

    private final RequestMatcher[] matchers;

    private AnyOf(List<RequestMatcher> matchers) {
        this.matchers = matchers.toArray(RequestMatcher[]::new);
    }

    /** The disjunction of one or more {@code matchers}: the matcher itself when one. */
    public static RequestMatcher of(List<RequestMatcher> matchers) {
        List<RequestMatcher> copy = List.copyOf(matchers);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException(
                    "[] is not a valid any condition (expected: at least one condition)");
        }
        return copy.size() == 1 ? copy.get(0) : new AnyOf(copy);
    }

    /** The conditions, in order. */
    public List<RequestMatcher> matchers() {
        return List.of(matchers);
    }

    @Override
    public boolean matches(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (matcher.matches(request)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (matcher.matches(request)) {
                return matcher.explainMatch(request);
            }
        }
        return "no condition holds";
    }

    @Override
    public String explainFailure(AccessRequest request) {
        StringBuilder sb = new StringBuilder("none of: ");
        for (int i = 0; i < matchers.length; i++) {
            sb.append(i == 0 ? "" : "; ").append(matchers[i].explainFailure(request));
        }
        return sb.toString();
    }

    /** True when any branch fails for want of identity: authenticating could make that branch hold. */
    @Override
    public boolean failsForWantOfIdentity(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (matcher.failsForWantOfIdentity(request)) {
                return true;
            }
        }
        return false;
    }

    /** Every branch, as {@link #explainFailure}, those that fail for want of identity saying so. */
    @Override
    public String explainFailureForWantOfIdentity(AccessRequest request) {
        StringBuilder sb = new StringBuilder("none of: ");
        for (int i = 0; i < matchers.length; i++) {
            sb.append(i == 0 ? "" : "; ").append(matchers[i].failsForWantOfIdentity(request)
                    ? matchers[i].explainFailureForWantOfIdentity(request) : matchers[i].explainFailure(request));
        }
        return sb.toString();
    }

    /** The first holding branch, which holds for want of identity as every holding branch then does. */
    @Override
    public String explainMatchForWantOfIdentity(AccessRequest request) {
        for (RequestMatcher matcher : matchers) {
            if (matcher.matches(request)) {
                return matcher.explainMatchForWantOfIdentity(request);
            }
        }
        return explainMatch(request);
    }

    /** True when every holding branch holds for want of identity, so that authenticating would break them all. */
    @Override
    public boolean holdsForWantOfIdentity(AccessRequest request) {
        boolean any = false;
        for (RequestMatcher matcher : matchers) {
            if (matcher.matches(request)) {
                if (!matcher.holdsForWantOfIdentity(request)) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    @Override
    public String toString() {
        return "any" + List.of(matchers);
    }
}
