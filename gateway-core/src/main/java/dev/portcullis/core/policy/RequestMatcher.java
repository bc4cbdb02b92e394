package dev.portcullis.core.policy;

/**
 * A compiled, immutable condition on an {@link AccessRequest}, evaluated without allocation.
 *
 * <p>The explanations are for the slow path only (denials, audit records, {@code explain}): they allocate and may
 * assume the outcome they explain. So do the two "for want of identity" questions, which decide whether a failed
 * {@code require} on an anonymous request is answered 401 instead of 403/404 (SPEC 3.6); their rules are:
 * <ul>
 *   <li>a failing {@code authenticated: true}, {@code roles}, {@code all_roles} or {@code claims} fails for want of
 *       an identity, and a holding {@code authenticated: false} holds for want of one; no other leaf does either;
 *   <li>a failing {@link AllOf} (the keys of one condition, or {@code all}) fails for want of identity when any
 *       of its failing conditions does, whatever the order of the keys; a holding one holds for want of identity
 *       when any of its conditions does;
 *   <li>a failing {@link AnyOf} fails for want of identity when any of its branches does, since authenticating
 *       could make that branch hold; a holding one holds for want of identity when every holding branch does;
 *   <li>{@link Not} swaps the two questions: {@code not: {authenticated: false}} fails for want of identity.
 * </ul>
 * <p>A 401 must name what it asks for: its reason comes from {@link #explainFailureForWantOfIdentity}, which names a
 * predicate that needs an identity (an anonymous request outside the office and without a role is told "role admin
 * missing", not "ip ... not in ..."), where {@link #explainFailure} names the first failing condition.
 */
public sealed interface RequestMatcher
        permits Always, AllOf, AnyOf, Not, PathMatcher, MethodMatcher, HostMatcher, IpMatcher, HeaderMatcher,
                AuthenticatedMatcher, RoleMatcher, ClaimMatcher, CountryMatcher, AsnMatcher, ScheduleMatcher,
                ReferrerMatcher {

    /** Whether the request satisfies this condition. */
    boolean matches(AccessRequest request);

    /** Why the condition holds, e.g. "ip 198.51.100.7 in [203.0.113.0/24]" or "path /admin/x matches /admin/**". */
    String explainMatch(AccessRequest request);

    /** Why the condition fails, e.g. "method POST not in [GET]"; for {@link AllOf}, its first failing condition's. */
    String explainFailure(AccessRequest request);

    /**
     * For a condition that fails for {@code request}: whether it fails on a predicate that needs an identity, so
     * that an anonymous request is challenged to authenticate (see the rules above). False for conditions that
     * do not look at the identity; identity conditions and the compositions override it.
     */
    default boolean failsForWantOfIdentity(AccessRequest request) {
        return false;
    }

    /**
     * For a condition that holds for {@code request}: whether it holds because the request has no identity, as
     * {@code authenticated: false} does, so that its negation fails for want of one (see the rules above). False
     * for conditions that do not look at the identity.
     */
    default boolean holdsForWantOfIdentity(AccessRequest request) {
        return false;
    }

    /**
     * For a condition that {@linkplain #failsForWantOfIdentity fails for want of identity}: why, naming a predicate
     * that needs an identity, for the reason of a 401. The leaves that need an identity explain their own failure;
     * the compositions pass the question down to the conditions that need one.
     */
    default String explainFailureForWantOfIdentity(AccessRequest request) {
        return explainFailure(request);
    }

    /**
     * For a condition that {@linkplain #holdsForWantOfIdentity holds for want of identity}: why, naming a predicate
     * that holds because the request has no identity; what a {@link Not} of it gives as the reason of a 401.
     */
    default String explainMatchForWantOfIdentity(AccessRequest request) {
        return explainMatch(request);
    }

    /** The condition every request satisfies. */
    static RequestMatcher always() {
        return Always.INSTANCE;
    }
}
