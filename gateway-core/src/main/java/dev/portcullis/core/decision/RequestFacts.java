package dev.portcullis.core.decision;

import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.RequestHeaders;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the server knows of a screened request head before its identity is established: everything the
 * decision step needs, immutable so that a request waiting for keys can carry it.
 *
 * @param method the request method, as received
 * @param path the canonical path (SPEC 3.4)
 * @param host the Host header in lower case without port; "" when absent
 * @param clientIp the client address after the trusted-proxy walk (SPEC 3.3)
 * @param peerIp the TCP peer
 * @param headers the request headers, after untrusted identity and forwarding headers were removed
 * @param authorization the {@code Authorization} header value, or null
 */
public record RequestFacts(
        String method,
        String path,
        String host,
        IpAddress clientIp,
        IpAddress peerIp,
        RequestHeaders headers,
        @Nullable String authorization) {

    /** Rejects null components. */
    public RequestFacts {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(clientIp, "clientIp");
        Objects.requireNonNull(peerIp, "peerIp");
        Objects.requireNonNull(headers, "headers");
    }
}
