package dev.portcullis.core.explain;

import dev.portcullis.core.http.RequestHead;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.policy.PathCase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        TargetResult.Rejected badMethod = method(method);
        if (badMethod != null) {
            return badMethod;
        }
        if (hostHeader != null && !RequestHead.isValidAuthority(hostHeader.trim())) {
            return BAD_HOST;
        }
        return PathCase.screen(RequestTarget.parse(target, hostHeader), caseInsensitivePaths);
    }

    /** Why the server refuses {@code method} before anything else (400, or 405 for TRACE/CONNECT); null if it does not. */
    public static TargetResult.@Nullable Rejected method(String method) {
        if (!RequestHead.isUpperCaseToken(method)) {
            return BAD_METHOD;
        }
        return method.equals("TRACE") || method.equals("CONNECT") ? METHOD_NOT_ALLOWED : null;
    }

    /**
     * A simulated request's Host and the rest of its headers.
     *
     * @param value the Host header: the one given on its own, else one given among the headers; null for none
     * @param headers the headers, with {@code value} as their one Host line (rules may read it, as on the server)
     * @param rejected {@link #BAD_HOST} when the request would carry two different Host headers (the server answers
     *     a repeated Host with 400); null otherwise
     */
    public record HostHeader(@Nullable String value, Map<String, List<String>> headers,
            TargetResult.@Nullable Rejected rejected) {}

    /**
     * The Host of a simulated request whose Host may be given on its own ({@code given}: {@code explain --host}, a
     * case's {@code host}) or among its {@code headers} ({@code --header 'Host: …'}): either way it is the request's
     * Host, and only one may be given (the same value twice counts once).
     */
    public static HostHeader host(@Nullable String given, Map<String, List<String>> headers) {
        List<String> lines = new ArrayList<>(1);
        Map<String, List<String>> rest = new LinkedHashMap<>();
        headers.forEach((name, values) -> {
            if (name.trim().equalsIgnoreCase("host")) {
                lines.addAll(values);
            } else {
                rest.put(name, values);
            }
        });
        if (lines.isEmpty()) {
            if (given != null) {
                rest.put("Host", List.of(given));
            }
            return new HostHeader(given, rest, null);
        }
        if (lines.size() == 1 && (given == null || given.trim().equals(lines.get(0).trim()))) {
            String value = given != null ? given : lines.get(0);
            rest.put("Host", List.of(value));
            return new HostHeader(value, rest, null);
        }
        return new HostHeader(given, rest, BAD_HOST);
    }

    /** The Host as policies see it, as the server computes it: port removed, lower case; "" for none. */
    public static String policyHost(@Nullable String hostHeader) {
        return hostHeader == null ? "" : RequestHead.policyHost(hostHeader.trim());
    }
}
