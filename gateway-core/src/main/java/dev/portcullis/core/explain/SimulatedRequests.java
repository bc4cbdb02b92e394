package dev.portcullis.core.explain;

import dev.portcullis.core.http.RequestHead;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.policy.PathCase;
import org.jspecify.annotations.Nullable;

/**
 * The checks the server makes on a request line before any rule runs, for a simulated request: the method must be
 * an upper-case token other than TRACE and CONNECT, a Host header (when there is one) one host and an optional port,
 * and the target is canonicalized (SPEC 3.4, 3.6) and, where paths match regardless of case, screened as
 * {@link PathCase#screen} does. The headers are screened by {@link SimulatedHeaders}.
 */
public final class SimulatedRequests {

    /** A method with lower-case letters or other characters: "get" would be decided as one method, served as another. */
    public static final TargetResult.Rejected BAD_METHOD = new TargetResult.Rejected(400, "bad_method");

    /** A Host that is not one host and an optional port: the policy and the upstream could read it differently. */
    public static final TargetResult.Rejected BAD_HOST = new TargetResult.Rejected(400, "bad_host_header");

    /** TRACE and CONNECT are never proxied. */
    public static final TargetResult.Rejected METHOD_NOT_ALLOWED = new TargetResult.Rejected(405, "method_not_allowed");

    private SimulatedRequests() {
    }

    /**
     * The canonical target of a request, or why the gateway would reject it before any rule runs.
     *
     * @param method the method as it would be sent
     * @param target the request target as it would be sent (a path, with an optional query)
     * @param hostHeader the Host header, or null for none
     * @param caseInsensitivePaths the policy's {@code upstream.case_insensitive_paths}
     */
    public static TargetResult screen(String method, String target, @Nullable String hostHeader,
            boolean caseInsensitivePaths) {
        if (!RequestHead.isUpperCaseToken(method)) {
            return BAD_METHOD;
        }
        if (method.equals("TRACE") || method.equals("CONNECT")) {
            return METHOD_NOT_ALLOWED;
        }
        if (hostHeader != null && !RequestHead.isValidAuthority(hostHeader.trim())) {
            return BAD_HOST;
        }
        return PathCase.screen(RequestTarget.parse(target, hostHeader), caseInsensitivePaths);
    }

    /** The Host as policies see it, as the server computes it: port removed, lower case; "" for none. */
    public static String policyHost(@Nullable String hostHeader) {
        return hostHeader == null ? "" : RequestHead.policyHost(hostHeader.trim());
    }
}
