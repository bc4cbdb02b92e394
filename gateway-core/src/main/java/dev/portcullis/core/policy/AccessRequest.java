package dev.portcullis.core.policy;

import dev.portcullis.core.net.IpAddress;
import java.util.Objects;

/**
 * The facts about one request that a policy decides on.
 *
 * @param method the request method, as received (case-sensitive)
 * @param path the canonical path ({@link dev.portcullis.core.http.RequestTarget})
 * @param host the Host header in lower case, without port; "" when absent
 * @param clientIp the client address after trusted-proxy resolution ({@link dev.portcullis.core.net.ClientIpResolver})
 * @param peerIp the TCP peer address
 * @param headers the request headers
 */
public record AccessRequest(
        String method, String path, String host, IpAddress clientIp, IpAddress peerIp, RequestHeaders headers) {

    /** Rejects null components. */
    public AccessRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(clientIp, "clientIp");
        Objects.requireNonNull(peerIp, "peerIp");
        Objects.requireNonNull(headers, "headers");
    }
}
