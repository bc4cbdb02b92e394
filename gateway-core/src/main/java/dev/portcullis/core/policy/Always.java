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
    public boolean failsForWantOfIdentity(AccessRequest request) {
        return false;
    }

    @Override
    public boolean holdsForWantOfIdentity(AccessRequest request) {
        return false;
    }

    @Override
    public String toString() {
        return "always";
    }
}
