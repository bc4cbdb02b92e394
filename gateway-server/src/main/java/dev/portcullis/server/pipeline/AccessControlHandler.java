package dev.portcullis.server.pipeline;

import dev.portcullis.server.http.HopByHopHeaders;
import dev.portcullis.server.http.RequestIds;
import dev.portcullis.server.exchange.Exchange;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.GatewayResponses;
import dev.portcullis.server.exchange.Rejection;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ForwardedIdentity;
import dev.portcullis.core.config.IdentitySettings;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.JwtIdentityResolver;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.runtime.GatewaySnapshot;
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
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
    private boolean forwarding;
    // the request under decision: kept in fields so that a decision can wait for a JWKS fetch
    private @Nullable HttpRequest current;
    private @Nullable Exchange currentExchange;
    private @Nullable CompiledConfig currentConfig;
    private TargetResult.@Nullable Accepted currentTarget;
    private String currentHost = "";
    private @Nullable String currentHostHeader;
    private @Nullable IpAddress currentClientIp;
    private boolean currentTrustedPeer;
    private boolean currentIdentityPeer;
    private boolean currentHasBody;
    private boolean currentExpectsContinue;
    private boolean deferring;
    private long deferral;
    private final ArrayDeque<HttpContent> held = new ArrayDeque<>();
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
                    current = null;
                    ReferenceCountUtil.release(request);
                }
            }
        } else if (msg instanceof HttpContent content && deferring) {
            held.add(content);
        } else if (msg instanceof HttpContent content && forwarding) {
            forwarding = !(content instanceof LastHttpContent);
            ctx.fireChannelRead(content);
        } else {
            // the body of a denied request, or something that is not HTTP: dropped
            ReferenceCountUtil.release(msg);
        }
    }

    /** Returns true when the head was passed on to the proxy (which then owns it) or is held for a key fetch. */
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
        Rejection rejection = RequestScreen.check(request, config.limits(), identityHeaders(config, false));
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

        ClientIpResolver clients = config.clientIps();
        boolean trustedPeer = clients.isTrusted(peerIp);
        ForwardedIdentity forwardedIdentity = config.identity().forwarded();
        boolean identityPeer = forwardedIdentity != null && forwardedIdentity.trusts(peerIp);
        boolean expectsContinue = HttpUtil.is100ContinueExpected(request);
        HopByHopHeaders.strip(headers);
        ForwardedHeaderSanitizer.sanitize(headers, trustedPeer, identityHeaders(config, identityPeer));
        IpAddress clientIp = trustedPeer
                ? clients.resolve(peerIp, headers.getAll(UpstreamRequest.X_FORWARDED_FOR),
                        headers.getAll(UpstreamRequest.FORWARDED))
                : peerIp;
        exchange.clientIp(clientIp.toString());

        current = request;
        currentExchange = exchange;
        currentConfig = config;
        currentTarget = accepted;
        currentHost = host;
        currentHostHeader = hostHeader;
        currentClientIp = clientIp;
        currentTrustedPeer = trustedPeer;
        currentIdentityPeer = identityPeer;
        currentHasBody = RequestScreen.hasBody(request);
        exchange.hasBody(currentHasBody);
        currentExpectsContinue = expectsContinue;

        JwtIdentityResolver jwt = snapshot.jwt();
        String authorization = jwt == null ? null : headers.get(HttpHeaderNames.AUTHORIZATION);
        Resolution resolution = authorization == null ? Resolution.notPresented() : jwt.resolve(authorization);
        if (resolution instanceof Resolution.Rejected rejected && awaitsKeys(rejected.reason())) {
            CompletableFuture<Resolution> later = jwt.resolveAsync(authorization);
            if (!later.isDone()) {
                deferUntilKeys(ctx, later, resolution, config.limits().headerTimeout().toNanos());
                return true;
            }
            resolution = later.getNow(resolution);
        }
        return decideWithIdentity(ctx, resolution);
    }

    private static boolean awaitsKeys(RejectReason reason) {
        return reason == RejectReason.UNKNOWN_KID || reason == RejectReason.NO_KEY_SOURCE;
    }

    /*
     * A token whose kid is not in the key set started a JWKS refetch (single-flight, at most one per
     * 30 s). Rather than answer 401 while the new key is on its way, the request waits for that fetch,
     * bounded by limits.header_timeout: reading pauses, body parts that were already decoded are held,
     * and the decision is taken on the event loop when the fetch lands (or the wait ends).
     */
    private void deferUntilKeys(
            ChannelHandlerContext ctx, CompletableFuture<Resolution> later, Resolution meanwhile, long maxWaitNanos) {
        long token = ++deferral;
        deferring = true;
        state.pause(ConnectionState.Pause.IDENTITY);
        ScheduledFuture<?> timeout = ctx.executor().schedule(
                () -> resumeDeferred(ctx, token, meanwhile), maxWaitNanos, TimeUnit.NANOSECONDS);
        later.whenComplete((resolution, error) -> ctx.executor().execute(() -> {
            timeout.cancel(false);
            resumeDeferred(ctx, token, resolution != null ? resolution : meanwhile);
        }));
    }

    private void resumeDeferred(ChannelHandlerContext ctx, long token, Resolution resolution) {
        if (!deferring || token != deferral) {
            return;
        }
        deferring = false;
        state.resume(ConnectionState.Pause.IDENTITY);
        HttpRequest request = current;
        if (request == null || !ctx.channel().isActive()) {
            releaseHeld();
            return;
        }
        boolean handedOver = false;
        try {
            handedOver = decideWithIdentity(ctx, resolution);
            HttpContent part;
            while ((part = held.poll()) != null) {
                channelRead(ctx, part);
            }
        } catch (RuntimeException e) {
            // This runs as a plain event-loop task: an exception would not reach the pipeline, and the
            // connection would hang with its exchange open. End it like any handler failure.
            releaseHeld();
            ctx.fireExceptionCaught(e);
        } finally {
            if (!handedOver) {
                ReferenceCountUtil.release(request);
            }
        }
    }

    private void releaseHeld() {
        HttpContent part;
        while ((part = held.poll()) != null) {
            part.release();
        }
        if (current != null) {
            ReferenceCountUtil.release(current);
            current = null;
        }
    }

    /** The rest of the decision once the bearer token's fate is known. */
    private boolean decideWithIdentity(ChannelHandlerContext ctx, Resolution resolution) {
        Channel channel = ctx.channel();
        HttpRequest request = current;
        Exchange exchange = currentExchange;
        CompiledConfig config = currentConfig;
        TargetResult.Accepted accepted = currentTarget;
        IpAddress clientIp = currentClientIp;
        if (request == null || exchange == null || config == null || accepted == null || clientIp == null) {
            throw new IllegalStateException("no request under decision");
        }
        current = null;
        HttpHeaders headers = request.headers();
        RejectReason tokenRejection =
                resolution instanceof Resolution.Rejected rejected ? rejected.reason() : null;
        Identity identity = IdentityHeaders.identityOf(resolution, config.identity(), headers, currentIdentityPeer);
        if (!identity.isAnonymous()) {
            exchange.subject(identity.subject());
        }
        Decision decision = config.policy()
                .evaluate(new AccessRequest(
                        request.method().name(), accepted.path(), currentHost, clientIp, peer(),
                        new NettyRequestHeaders(headers), identity, tokenRejection));
        exchange.decision(decision);
        if (!decision.allowed()) {
            boolean close = currentHasBody || state.closeAfterResponse();
            if (decision.challenge()) {
                GatewayResponses.sendChallenge(channel, exchange, tokenRejection != null, close);
            } else {
                GatewayResponses.send(channel, exchange, decision.status(), close);
            }
            return false;
        }
        IdentityHeaders.setForUpstream(headers, identity, config.identity());
        if (currentExpectsContinue && currentHasBody && !exchange.http10()) {
            channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        UpstreamRequest.rewrite(request, accepted.uri(), currentHostHeader, peer(), currentTrustedPeer,
                exchange.requestId(), config.upstream().authority());
        forwarding = !(request instanceof LastHttpContent);
        ctx.fireChannelRead(request);
        return true;
    }

    /**
     * The config's identity header names: with {@code identityPeer}, the upstream identity headers (which
     * nobody may send); otherwise also the forwarded-identity headers (which only the peers in
     * {@code identity.forwarded.trusted_proxies} may send). Both lists are computed once per config generation.
     */
    private List<String> identityHeaders(CompiledConfig config, boolean identityPeer) {
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
        return identityPeer ? strippedFromTrusted : strippedFromUntrusted;
    }

    private boolean reject(Channel channel, Exchange exchange, Rejection rejection) {
        exchange.reason(rejection.code());
        GatewayResponses.send(channel, exchange, rejection.status(), true);
        return false;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        deferring = false;
        releaseHeld();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        deferring = false;
        releaseHeld();
    }

    private IpAddress peer() {
        return state.peer();
    }
}
