package dev.portcullis.server.pipeline;

import dev.portcullis.core.config.UpstreamIdentityHeaders;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.server.http.HeaderTokens;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/** What the upstream is told of a request's identity (SPEC 3.5), written into the forwarded head. */
final class IdentityHeaders {
    private IdentityHeaders() {}

    /**
     * Sets the upstream identity headers; client-sent copies were stripped before the policy ran. Values
     * are percent-encoded where they are not plain visible ASCII (and each role's commas), so distinct
     * subjects and role lists stay distinct and nothing can be injected into the header block. A trusted
     * proxy's forwarded-identity headers go on only when they are what the identity came from, and then only
     * under their exact names (an {@code X_Forwarded_Groups} the identity was not read from is removed); only a
     * believed {@code peer}'s request can still carry them (everyone else's lost them before the policy ran),
     * so only such a request is scanned for them.
     */
    static void setForUpstream(HttpHeaders headers, Identity identity, IdentityChain chain, IpAddress peer) {
        List<String> forwarded = chain.forwardedHeaders();
        if (!forwarded.isEmpty() && chain.believesForwarded(peer)) {
            if (identity.source() != IdentitySource.FORWARDED) {
                ForwardedHeaderSanitizer.sanitize(headers, true, forwarded);
            } else {
                ForwardedHeaderSanitizer.removeOtherSpellings(headers, forwarded);
            }
        }
        if (identity.isAnonymous()) {
            return;
        }
        UpstreamIdentityHeaders names = chain.upstreamHeaders();
        headers.set(names.subject(), HeaderTokens.encodeValue(identity.subject(), ' '));
        if (!identity.roles().isEmpty()) {
            StringBuilder roles = new StringBuilder();
            for (String role : identity.roles()) {
                if (roles.length() > 0) {
                    roles.append(',');
                }
                roles.append(HeaderTokens.encodeValue(role, ','));
            }
            headers.set(names.roles(), roles.toString());
        }
    }
}
