package dev.portcullis.server.pipeline;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ForwardedIdentity;
import dev.portcullis.core.config.IdentitySettings;
import dev.portcullis.core.config.UpstreamIdentityHeaders;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.identity.JwtIdentityResolver;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.proxy.HopByHopHeaders;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Decides each request on its head and either passes it on to the proxy or answers it.
 *
 * <p>In order: protocol checks ({@link RequestScreen}), hop-by-hop and untrusted forwarding headers
 * removed ({@link ForwardedHeaderSanitizer}) so that the policy sees what the upstream will get, the
 * canonical path (SPEC 3.4), the client IP (3.3), the identity (3.5: a verified bearer token, else a
 * trusted proxy's forwarded user), the policy. An allowed head is rewritten for the
 * upstream ({@link UpstreamRequest}) and passed on with its body; a denied one is answered here and
 * its body dropped. Created per connection: it remembers whether the current body is forwarded.
 */
final class AccessControlHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionState state;
    private @Nullable IpAddress peer;
    private boolean forwarding;
    // the identity of the request being decided, set by resolveIdentity
    private Identity identity = Identity.ANONYMOUS;
    private @Nullable RejectReason tokenRejection;
    // client-supplied headers to strip, precomputed per config generation
    private @Nullable CompiledConfig strippedFor;
    private List<String> strippedFromTrusted = List.of();
    private List<String> strippedFromUntrusted = List.of();

    AccessControlHandler(ConnectionState state) {
        this.state = state;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            forwarding = false;
            boolean handedOver = false;
            try {
                handedOver = decide(ctx, request);
            } finally {
                if (!handedOver) {
                    ReferenceCountUtil.release(request);
                }
            }
        } else if (msg instanceof HttpContent content && forwarding) {
            forwarding = !(content instanceof LastHttpContent);
            ctx.fireChannelRead(content);
        } else {
            // the body of a denied request, or something that is not HTTP: dropped
            ReferenceCountUtil.release(msg);
        }
    }

    /** Returns true when the head was passed on to the proxy, which then owns it. */
    private boolean decide(ChannelHandlerContext ctx, HttpRequest request) {
        Channel channel = ctx.channel();
        HttpHeaders headers = request.headers();
        Exchange exchange = state.begin(
                RequestIds.acceptOrCreate(headers.get(RequestIds.HEADER)), request.method().name(), request.uri());
        IpAddress peerIp = peer();
        exchange.clientIp(peerIp.toString());
        exchange.http10(request.protocolVersion().equals(HttpVersion.HTTP_1_0));
        GatewaySnapshot snapshot = state.server().snapshots().current();
        if (snapshot == null || state.server().isDraining()) {
            return reject(channel, exchange, snapshot == null ? Rejection.NO_CONFIG_LOADED : Rejection.SHUTTING_DOWN);
        }
        exchange.snapshot(snapshot);
        CompiledConfig config = snapshot.config();
        Rejection rejection = RequestScreen.check(request, config.limits());
        if (rejection != null) {
            return reject(channel, exchange, rejection);
        }
        String hostHeader = RequestScreen.host(headers);
        TargetResult target = RequestTarget.parse(request.uri(), hostHeader);
        if (target instanceof TargetResult.Rejected rejected) {
            exchange.reason(rejected.reason());
            GatewayResponses.send(channel, exchange, rejected.status(), true);
            return false;
        }
        TargetResult.Accepted accepted = (TargetResult.Accepted) target;
        exchange.path(accepted.path());
        String host = hostHeader == null ? "" : RequestScreen.policyHost(hostHeader);
        exchange.host(host);
        if (!HttpUtil.isKeepAlive(request)) {
            state.closeAfterResponse(true);
        }
        boolean hasBody = RequestScreen.hasBody(request);
        boolean expectsContinue = HttpUtil.is100ContinueExpected(request);

        ClientIpResolver clients = config.clientIps();
        boolean trustedPeer = clients.isTrusted(peerIp);
        HopByHopHeaders.strip(headers);
        ForwardedHeaderSanitizer.sanitize(headers, trustedPeer, clientMayNotSend(config, trustedPeer));
        IpAddress clientIp = trustedPeer
                ? clients.resolve(peerIp, headers.getAll(UpstreamRequest.X_FORWARDED_FOR),
                        headers.getAll(UpstreamRequest.FORWARDED))
                : peerIp;
        exchange.clientIp(clientIp.toString());
        resolveIdentity(snapshot.jwt(), config.identity(), headers, trustedPeer);
        if (!identity.isAnonymous()) {
            exchange.subject(identity.subject());
        }

        Decision decision = config.policy()
                .evaluate(new AccessRequest(
                        request.method().name(), accepted.path(), host, clientIp, peerIp,
                        new NettyRequestHeaders(headers), identity, tokenRejection));
        exchange.decision(decision);
        if (!decision.allowed()) {
            boolean close = hasBody || state.closeAfterResponse();
            if (decision.challenge()) {
                GatewayResponses.sendChallenge(channel, exchange, tokenRejection != null, close);
            } else {
                GatewayResponses.send(channel, exchange, decision.status(), close);
            }
            return false;
        }
        setUpstreamIdentity(headers, config.identity().upstreamHeaders());

        if (expectsContinue && hasBody && !exchange.http10()) {
            channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        UpstreamRequest.rewrite(request, accepted.uri(), hostHeader, peerIp, trustedPeer, exchange.requestId(),
                config.upstream().authority());
        forwarding = !(request instanceof LastHttpContent);
        ctx.fireChannelRead(request);
        return true;
    }

    /**
     * SPEC 3.5: a bearer token is verified; failing that, a trusted proxy's forwarded user is believed;
     * a presented token that fails verification makes the request anonymous whatever else it carries.
     * Verification never blocks: keys are in memory, and an unknown kid only schedules a refetch.
     */
    private void resolveIdentity(
            @Nullable JwtIdentityResolver jwt, IdentitySettings settings, HttpHeaders headers, boolean trustedPeer) {
        identity = Identity.ANONYMOUS;
        tokenRejection = null;
        if (jwt != null) {
            String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
            if (authorization != null) {
                Resolution resolution = jwt.resolve(authorization);
                if (resolution instanceof Resolution.Resolved resolved) {
                    identity = resolved.identity();
                    return;
                }
                if (resolution instanceof Resolution.Rejected rejected) {
                    tokenRejection = rejected.reason();
                    return;
                }
            }
        }
        ForwardedIdentity forwarded = settings.forwarded();
        if (forwarded != null && trustedPeer) {
            String user = headers.get(forwarded.userHeader());
            if (user != null && !user.isBlank()) {
                String roles = forwarded.rolesHeader() == null ? null : headers.get(forwarded.rolesHeader());
                identity = new Identity(user.trim(), splitRoles(roles), Map.of(), IdentitySource.FORWARDED, null);
            }
        }
    }

    private static Set<String> splitRoles(@Nullable String roles) {
        if (roles == null || roles.isBlank()) {
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        int start = 0;
        while (start <= roles.length()) {
            int comma = roles.indexOf(',', start);
            int end = comma < 0 ? roles.length() : comma;
            String role = roles.substring(start, end).trim();
            if (!role.isEmpty()) {
                out.add(role);
            }
            start = end + 1;
        }
        return out;
    }

    /** What the upstream is told of the identity; client-sent copies were stripped before the policy ran. */
    private void setUpstreamIdentity(HttpHeaders headers, UpstreamIdentityHeaders names) {
        if (!identity.isAnonymous()) {
            headers.set(names.subject(), identity.subject());
            if (!identity.roles().isEmpty()) {
                headers.set(names.roles(), String.join(",", identity.roles()));
            }
        }
    }

    /**
     * Headers a client may not send: the upstream identity headers from anyone (in every spelling), and
     * the forwarded-identity headers from peers that are not trusted proxies.
     */
    private List<String> clientMayNotSend(CompiledConfig config, boolean trustedPeer) {
        if (strippedFor != config) {
            IdentitySettings settings = config.identity();
            List<String> always = List.of(settings.upstreamHeaders().subject(), settings.upstreamHeaders().roles());
            ForwardedIdentity forwarded = settings.forwarded();
            List<String> untrusted = forwarded == null
                    ? always
                    : forwarded.rolesHeader() == null
                            ? List.of(always.get(0), always.get(1), forwarded.userHeader())
                            : List.of(always.get(0), always.get(1), forwarded.userHeader(), forwarded.rolesHeader());
            strippedFromTrusted = always;
            strippedFromUntrusted = untrusted;
            strippedFor = config;
        }
        return trustedPeer ? strippedFromTrusted : strippedFromUntrusted;
    }

    private boolean reject(Channel channel, Exchange exchange, Rejection rejection) {
        exchange.reason(rejection.code());
        GatewayResponses.send(channel, exchange, rejection.status(), true);
        return false;
    }

    private IpAddress peer() {
        if (peer == null) {
            peer = peerAddress(state.channel());
        }
        return peer;
    }

    /** The TCP peer of {@code channel} as a policy address. */
    static IpAddress peerAddress(Channel channel) {
        SocketAddress remote = channel.remoteAddress();
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return IpAddress.fromBytes(inet.getAddress().getAddress());
        }
        return IpAddress.parse("0.0.0.0");
    }
}
