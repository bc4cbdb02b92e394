package dev.portcullis.core.policy;

/** A condition that holds when its condition fails ({@code not}). */
public final class Not implements RequestMatcher {

    private final RequestMatcher matcher;

    private Not(RequestMatcher matcher) {
        this.matcher = matcher;
    }

    /** The negation of {@code matcher}. */
    public static RequestMatcher of(RequestMatcher matcher) {
        return new Not(matcher);
    }

    /** The negated condition. */
    public RequestMatcher matcher() {
        return matcher;
    }

    @Override
    public boolean matches(AccessRequest request) {
        return !matcher.matches(request);
    }

    /** The negated condition's failure: not(ip in [X]) holds because "ip 1.2.3.4 not in [X]". */
    @Override
    public String explainMatch(AccessRequest request) {
        return matcher.explainFailure(request);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return matcher.explainMatch(request);
    }

    @Override
    public boolean failsForWantOfIdentity(AccessRequest request) {
        return matcher.holdsForWantOfIdentity(request);
    }

    @Override
    public boolean holdsForWantOfIdentity(AccessRequest request) {
        return matcher.failsForWantOfIdentity(request);
    }

    @Override
    public String explainFailureForWantOfIdentity(AccessRequest request) {
        return matcher.explainMatchForWantOfIdentity(request);
    }

    @Override
    public String explainMatchForWantOfIdentity(AccessRequest request) {
        return matcher.explainFailureForWantOfIdentity(request);
    }

    @Override
    public String toString() {
        return "not(" + matcher + ")";
    }
}
