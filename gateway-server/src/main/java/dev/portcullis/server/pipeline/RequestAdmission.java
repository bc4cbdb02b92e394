package dev.portcullis.server.pipeline;

import dev.portcullis.core.decision.RequestFacts;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.PathCase;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.GatewayResponses;
import dev.portcullis.server.exchange.Rejection;
import dev.portcullis.server.http.HeaderTokens;
import dev.portcullis.server.http.HopByHopHeaders;
import dev.portcullis.server.http.OverrideHeaders;
import dev.portcullis.server.http.RequestIds;
import dev.portcullis.server.tunnel.WebSocketUpgrade;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Everything a request head goes through before its decision: an exchange is started, the config
 * generation read once, the protocol checks made ({@link RequestScreen}), the target canonicalized
 * (SPEC 3.4), hop-by-hop, method/URL override, and untrusted forwarding and identity headers removed so
 * that the policy sees what the upstream will get, and the client IP resolved (SPEC 3.3).
 */
final class RequestAdmission {
    private RequestAdmission() {}

    /** The live generation, taken for one request (a generation closed by a reload meanwhile is read again). */
    private static @Nullable GatewaySnapshot live(ConnectionState state) {
        GatewaySnapshot snapshot;
        do {
            snapshot = state.server().snapshots().current();
        } while (snapshot != null && !snapshot.tryAcquire());
        return snapshot;
    }

    /** The admitted request, or null when the head was answered here (the caller still releases it). */
    static @Nullable AdmittedRequest admit(ConnectionState state, HttpRequest request) {
        HttpHeaders headers = request.headers();
        // a request line that could not be read leaves method and target unknown, logged as "" like a 408's
        boolean lineRead = !(request instanceof StrictHttpServerCodec.UnreadRequest);
        Exchange exchange = state.begin(RequestIds.acceptOrCreate(headers.get(RequestIds.HEADER)),
                lineRead ? request.method().name() : "", lineRead ? request.uri() : "");
        IpAddress peer = state.peer();
        exchange.clientIp(state.peerText());
        exchange.http10(request.protocolVersion().equals(HttpVersion.HTTP_1_0));
        String hostHeader = RequestScreen.host(headers);
        String host = hostHeader == null ? "" : RequestScreen.policyHost(hostHeader);
        exchange.host(host); // first, so that a 503 or a protocol rejection is logged with the host too
        GatewaySnapshot snapshot = take(state, exchange);
        if (snapshot == null) {
            return null;
        }
        TargetResult.Accepted target = screen(state, request, exchange, snapshot, hostHeader);
        if (target == null) {
            return null;
        }
        if (!HttpUtil.isKeepAlive(request)) {
            state.closeAfterResponse(true);
        }
        exchange.hasBody(RequestScreen.hasBody(request));
        boolean expectsContinue = HttpUtil.is100ContinueExpected(request);
        ClientIpResolver clients = snapshot.config().clientIps();
        boolean trustedPeer = clients.isTrusted(peer);
        sanitize(request, exchange, snapshot.decisions().identity(), peer, trustedPeer);
        if (snapshot.decisions().repeatedHeader(HeaderTokens.fields(headers)) != null) {
            // the policy would decide on one line and the upstream might read another (SPEC 3.6: deny on doubt)
            GatewayResponses.reject(state.channel(), exchange, Rejection.AMBIGUOUS_HEADER);
            return null;
        }
        IpAddress clientIp = trustedPeer
                ? clients.resolve(peer, headers.getAll(UpstreamRequest.X_FORWARDED_FOR),
                        headers.getAll(UpstreamRequest.FORWARDED))
                : peer;
        if (clientIp != peer) {
            exchange.clientIp(clientIp.toString()); // the peer's text is already there
        }
        RequestFacts facts = new RequestFacts(request.method().name(), target.path(), host, clientIp, peer,
                new NettyRequestHeaders(headers), headers.get(HttpHeaderNames.AUTHORIZATION));
        return new AdmittedRequest(request, exchange, snapshot, facts, target, hostHeader, trustedPeer,
                expectsContinue);
    }

    /** The generation that decides the exchange, taken for it; null after answering 503 (none, or draining). */
    private static @Nullable GatewaySnapshot take(ConnectionState state, Exchange exchange) {
        GatewaySnapshot snapshot = live(state);
        if (snapshot == null || state.server().isDraining()) {
            if (snapshot != null) {
                snapshot.release();
            }
            GatewayResponses.reject(state.channel(), exchange,
                    snapshot == null ? Rejection.NO_CONFIG_LOADED : Rejection.SHUTTING_DOWN);
            return null;
        }
        exchange.snapshot(snapshot);
        return snapshot;
    }

    /** The protocol checks and the canonical target (SPEC 3.4, 3.6); null after answering the rejection. */
    private static TargetResult.@Nullable Accepted screen(ConnectionState state, HttpRequest request, Exchange exchange,
            GatewaySnapshot snapshot, @Nullable String hostHeader) {
        Rejection rejection = RequestScreen.check(request, snapshot.config().limits(),
                snapshot.decisions().identity().allIdentityHeaders());
        if (rejection != null) {
            GatewayResponses.reject(state.channel(), exchange, rejection);
            return null;
        }
        TargetResult target = PathCase.screen(RequestTarget.parse(request.uri(), hostHeader),
                snapshot.config().policy().caseInsensitivePaths());
        if (target instanceof TargetResult.Rejected rejected) {
            exchange.reason(rejected.reason());
            GatewayResponses.send(state.channel(), exchange, rejected.status(), true);
            return null;
        }
        TargetResult.Accepted accepted = (TargetResult.Accepted) target;
        exchange.path(accepted.path());
        return accepted;
    }

    /**
     * Removes what neither the policy nor the upstream may see: hop-by-hop headers (a WebSocket handshake's
     * upgrade headers kept), override headers (noted on the exchange), and forwarding and identity headers the
     * peer is not trusted with.
     */
    private static void sanitize(HttpRequest request, Exchange exchange, IdentityChain identity, IpAddress peer,
            boolean trustedPeer) {
        HttpHeaders headers = request.headers();
        String webSocketKey = WebSocketUpgrade.requested(request, exchange.hasBody());
        HopByHopHeaders.strip(headers);
        if (webSocketKey != null) {
            WebSocketUpgrade.keep(headers, webSocketKey);
            exchange.webSocketKey(webSocketKey);
        }
        List<String> overrides = OverrideHeaders.strip(headers);
        if (overrides != null) {
            exchange.removedHeaders(overrides);
        }
        ForwardedHeaderSanitizer.sanitize(headers, trustedPeer, identity.headersToStrip(peer),
                identity.believesForwarded(peer) ? identity.forwardedHeaders() : List.of());
    }
}
