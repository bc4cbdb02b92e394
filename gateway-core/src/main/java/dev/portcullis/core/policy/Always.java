package dev.portcullis.core.policy;

/** The condition every request satisfies: an absent {@code match} or {@code require}. */
final class Always implements RequestMatcher {

    static final Always INSTANCE = new Always();

    private Always() {
    }

    @Override
    public boolean matches(AccessRequest request) {
        return true;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return "any request";
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "always holds";
    }

    @Override
    public String toString() {
        return "always";
    }
}
