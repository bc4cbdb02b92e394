package dev.portcullis.core.explain;

import dev.portcullis.core.config.Limits;
import dev.portcullis.core.http.RequestHead;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.PathCase;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the server does with a request before any rule runs, for a simulated one ({@code explain}, {@code test}), in
 * the server's order: what fails its decoder (a request line too long to read, a header name that is not a token or
 * is a framing look-alike, ambiguous framing: {@link SimulatedFraming#decoded}), the method
 * ({@link SimulatedRequests#method}), the target's length ({@link SimulatedFraming#uriLength}), a {@code Connection}
 * header naming a protected one ({@link SimulatedHeaders#badConnection}), a body where none belongs or over the limit
 * ({@link SimulatedFraming#body}), more than one {@code Authorization}
 * ({@link SimulatedHeaders#ambiguousAuthorization}), one valid Host ({@link SimulatedRequests#host}), the canonical
 * target (SPEC 3.4, {@link PathCase#screen}), then the headers removed and a repeated header that decides access
 * refused ({@link SimulatedHeaders#screen}). The first refusal is the answer, as on the server (one exception:
 * {@link SimulatedFraming}). Not simulated: the decoder's checks of bytes (the request is given as values) and the
 * size of the header block.
 */
public final class SimulatedAdmission {

    /**
     * The request as the rules see it, or why they never see it.
     *
     * @param rejected the answer the gateway gives before any rule runs; null when the request reaches the rules
     * @param path the canonical path; null when rejected
     * @param host the Host header; null for none
     * @param headers the headers the rules see (empty when rejected)
     */
    public record Admitted(TargetResult.@Nullable Rejected rejected, @Nullable String path, @Nullable String host,
            Map<String, List<String>> headers) {
        static Admitted refused(TargetResult.Rejected rejected, @Nullable String host) {
            return new Admitted(rejected, null, host, Map.of());
        }
    }

    private SimulatedAdmission() {}

    /**
     * Admits a simulated request from the TCP peer {@code peer}.
     *
     * @param method the method
     * @param target the request target
     * @param host the Host given on its own ({@code --host}, a case's {@code host}); null for none
     * @param headers the headers, by name as sent; a Host among them counts as given
     * @param identity the identity chain: the identity headers {@code peer} may send
     * @param trustedPeer whether {@code peer} is in {@code clients.trusted_proxies}
     * @param headersRead the headers that decide access, lower case
     * @param caseInsensitivePaths the policy's {@code upstream.case_insensitive_paths}
     * @param limits the config's limits: the target's length, a body's length and whether GET may carry one
     */
    public static Admitted admit(String method, String target, @Nullable String host, Map<String, List<String>> headers,
            IdentityChain identity, IpAddress peer, boolean trustedPeer, List<String> headersRead,
            boolean caseInsensitivePaths, Limits limits) {
        TargetResult.Rejected refusal = SimulatedFraming.decoded(method, target, headers, limits);
        if (refusal == null) {
            refusal = SimulatedRequests.method(method);
        }
        if (refusal == null) {
            refusal = SimulatedFraming.uriLength(target, limits);
        }
        if (refusal == null) {
            refusal = SimulatedHeaders.badConnection(headers, identity);
        }
        if (refusal == null) {
            refusal = SimulatedFraming.body(method, headers, limits);
        }
        if (refusal == null) {
            refusal = SimulatedHeaders.ambiguousAuthorization(headers);
        }
        SimulatedRequests.HostHeader hostHeader = SimulatedRequests.host(host, headers);
        String value = hostHeader.value();
        if (refusal == null && (hostHeader.rejected() != null
                || value != null && !RequestHead.isValidAuthority(value.trim()))) {
            refusal = SimulatedRequests.BAD_HOST;
        }
        if (refusal != null) {
            return Admitted.refused(refusal, value);
        }
        TargetResult screened = PathCase.screen(RequestTarget.parse(target, value), caseInsensitivePaths);
        if (screened instanceof TargetResult.Rejected rejected) {
            return Admitted.refused(rejected, value);
        }
        SimulatedHeaders.Screened seen = SimulatedHeaders.screen(hostHeader.headers(), method, identity, peer,
                trustedPeer, headersRead);
        if (seen.rejected() != null) {
            return Admitted.refused(seen.rejected(), value);
        }
        return new Admitted(null, ((TargetResult.Accepted) screened).path(), value, seen.seen());
    }
}
