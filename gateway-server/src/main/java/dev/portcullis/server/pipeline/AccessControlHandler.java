package dev.portcullis.server.pipeline;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
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
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Decides each request on its head and either passes it on to the proxy or answers it.
 *
 * <p>In order: protocol checks ({@link RequestScreen}), hop-by-hop and untrusted forwarding headers
 * removed ({@link ForwardedHeaderSanitizer}) so that the policy sees what the upstream will get, the
 * canonical path (SPEC 3.4), the client IP (3.3), the policy. An allowed head is rewritten for the
 * upstream ({@link UpstreamRequest}) and passed on with its body; a denied one is answered here and
 * its body dropped. Created per connection: it remembers whether the current body is forwarded.
 */
final class AccessControlHandler extends ChannelInboundHandlerAdapter {
    private static final List<String> NO_GATEWAY_HEADERS = List.of();

    private final ConnectionState state;
    private @Nullable IpAddress peer;
    private boolean forwarding;

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
        ForwardedHeaderSanitizer.sanitize(headers, trustedPeer, NO_GATEWAY_HEADERS);
        IpAddress clientIp = trustedPeer
                ? clients.resolve(peerIp, headers.getAll(UpstreamRequest.X_FORWARDED_FOR),
                        headers.getAll(UpstreamRequest.FORWARDED))
                : peerIp;
        exchange.clientIp(clientIp.toString());

        Decision decision = config.policy()
                .evaluate(new AccessRequest(
                        request.method().name(), accepted.path(), host, clientIp, peerIp,
                        new NettyRequestHeaders(headers)));
        exchange.decision(decision);
        if (!decision.allowed()) {
            GatewayResponses.send(channel, exchange, decision.status(), hasBody || state.closeAfterResponse());
            return false;
        }

        if (expectsContinue && hasBody && !exchange.http10()) {
            channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        UpstreamRequest.rewrite(request, accepted.uri(), hostHeader, peerIp, trustedPeer, exchange.requestId(),
                config.upstream().authority());
        forwarding = !(request instanceof LastHttpContent);
        ctx.fireChannelRead(request);
        return true;
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
