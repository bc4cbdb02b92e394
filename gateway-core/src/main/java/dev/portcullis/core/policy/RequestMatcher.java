package dev.portcullis.core.policy;

/**
 * A compiled, immutable condition on an {@link AccessRequest}, evaluated without allocation.
 *
 * <p>The explanations are for the slow path only (denials, audit records, {@code explain}): they allocate and may
 * assume the outcome they explain.
 */
public sealed interface RequestMatcher
        permits Always, AllOf, AnyOf, Not, PathMatcher, MethodMatcher, HostMatcher, IpMatcher, HeaderMatcher {

    /** Whether the request satisfies this condition. */
    boolean matches(AccessRequest request);

    /** Why the condition holds, e.g. "ip 198.51.100.7 in [203.0.113.0/24]" or "path /admin/x matches /admin/**". */
    String explainMatch(AccessRequest request);

    /** Why the condition fails, e.g. "method POST not in [GET]"; for {@link AllOf}, its first failing condition's. */
    String explainFailure(AccessRequest request);

    /** The condition every request satisfies. */
    static RequestMatcher always() {
        return Always.INSTANCE;
    }
}
