package dev.portcullis.core.policy;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.net.IpAddress;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The facts about one request that a policy decides on.
 *
 * @param method the request method, as received (case-sensitive)
 * @param path the canonical path ({@link dev.portcullis.core.http.RequestTarget})
 * @param host the Host header in lower case, without port; "" when absent
 * @param clientIp the client address after trusted-proxy resolution ({@link dev.portcullis.core.net.ClientIpResolver})
 * @param peerIp the TCP peer address
 * @param headers the request headers
 * @param identity who the request comes from (SPEC 3.5); {@link Identity#ANONYMOUS} when no credential was presented
 *     or a presented one was rejected
 * @param tokenRejection why a presented bearer token was rejected; null when none was presented or it was valid. The
 *     request is then anonymous, and a 401 answer says {@code error="invalid_token"}
 * @param matchPath what case-insensitive path conditions match: the {@link PathCase#fold fold} of {@code path}, set
 *     once per request by a policy with {@code upstream.case_insensitive_paths}; otherwise {@code path} itself
 */
public record AccessRequest(
        String method,
        String path,
        String host,
        IpAddress clientIp,
        IpAddress peerIp,
        RequestHeaders headers,
        Identity identity,
        @Nullable RejectReason tokenRejection,
        String matchPath) {

    /** Rejects null components, and a token rejection on a request that is not anonymous. */
    public AccessRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(clientIp, "clientIp");
        Objects.requireNonNull(peerIp, "peerIp");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(matchPath, "matchPath");
        if (tokenRejection != null && !identity.isAnonymous()) {
            // SPEC 3.5: a rejected token makes the request anonymous whatever else it carries.
            throw new IllegalArgumentException("a request whose token was rejected (" + tokenRejection.code()
                    + ") has a " + identity.source().code() + " identity (expected: anonymous)");
        }
    }

    /** A request whose path conditions match {@code path} as it is. */
    public AccessRequest(
            String method,
            String path,
            String host,
            IpAddress clientIp,
            IpAddress peerIp,
            RequestHeaders headers,
            Identity identity,
            @Nullable RejectReason tokenRejection) {
        this(method, path, host, clientIp, peerIp, headers, identity, tokenRejection, path);
    }

    /** This request, with path conditions matching the case fold of its path ({@link PathCase#fold}). */
    public AccessRequest withFoldedPath() {
        String folded = PathCase.fold(path);
        return folded.equals(matchPath)
                ? this
                : new AccessRequest(method, path, host, clientIp, peerIp, headers, identity, tokenRejection, folded);
    }

    /** An anonymous request that presented no token. */
    public AccessRequest(
            String method, String path, String host, IpAddress clientIp, IpAddress peerIp, RequestHeaders headers) {
        this(method, path, host, clientIp, peerIp, headers, Identity.ANONYMOUS, null);
    }
}
