package dev.portcullis.core.policy;

/**
 * A condition on whether the request has an identity ({@code authenticated: true}) or has none
 * ({@code authenticated: false}): a verified token or a trusted forwarded identity, SPEC 3.5.
 */
public final class AuthenticatedMatcher implements RequestMatcher {

    private static final AuthenticatedMatcher AUTHENTICATED = new AuthenticatedMatcher(true);
    private static final AuthenticatedMatcher ANONYMOUS = new AuthenticatedMatcher(false);

    private final boolean authenticated;

    private AuthenticatedMatcher(boolean authenticated) {
        this.authenticated = authenticated;
    }

    /** The shared matcher for {@code authenticated: true} or {@code authenticated: false}. */
    public static AuthenticatedMatcher of(boolean authenticated) {
        return authenticated ? AUTHENTICATED : ANONYMOUS;
    }

    /** True for {@code authenticated: true}: the request must have an identity; false: it must have none. */
    public boolean authenticated() {
        return authenticated;
    }

    @Override
    public boolean matches(AccessRequest request) {
        return request.identity().isAnonymous() != authenticated;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return authenticated ? authenticatedBy(request) : "not authenticated";
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return authenticated ? "not authenticated" : authenticatedBy(request) + ", expected anonymous";
    }

    @Override
    public boolean failsForWantOfIdentity(AccessRequest request) {
        return authenticated;
    }

    @Override
    public boolean holdsForWantOfIdentity(AccessRequest request) {
        return !authenticated;
    }

    /** Names where the identity came from, never who it is: the subject is logged in its own field, if at all. */
    private static String authenticatedBy(AccessRequest request) {
        return "authenticated by " + request.identity().source().code();
    }

    @Override
    public String toString() {
        return "authenticated " + authenticated;
    }
}
