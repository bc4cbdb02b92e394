package dev.portcullis.server.pipeline;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.Limits;
import dev.portcullis.core.http.RequestTarget;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.runtime.GatewaySnapshot;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Decides each request on its head: protocol checks (SPEC 3.6 400/405/413/414/431), canonical path
 * (3.4), client IP (3.3), then the policy. Allowed heads are rewritten for the upstream and passed on
 * with their body; denied ones are answered here and their body is dropped.
 *
 * <p>Created per connection because it remembers, between messages, whether the current request's
 * body is being forwarded or discarded.
 */
final class AccessControlHandler extends ChannelInboundHandlerAdapter {
    private static final String X_FORWARDED_FOR = "X-Forwarded-For";
    private static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";
    private static final String X_FORWARDED_HOST = "X-Forwarded-Host";
    private static final String FORWARDED = "Forwarded";

    private final ConnectionState state;
    private @Nullable IpAddress peer;
    private boolean forwarding;
    private boolean discarding;

    AccessControlHandler(ConnectionState state) {
        this.state = state;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            onHead(ctx, request);
        } else if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (forwarding) {
                forwarding = !last;
                ctx.fireChannelRead(content);
            } else {
                discarding = discarding && !last;
                content.release();
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest request) {
        boolean last = request instanceof LastHttpContent;
        forwarding = false;
        discarding = !last;
        boolean handedOver = false;
        try {
            handedOver = decide(ctx, request);
        } finally {
            if (!handedOver) {
                ReferenceCountUtil.release(request);
            }
        }
    }

    /** Returns true when the head was passed on to the proxy (which then owns it). */
    private boolean decide(ChannelHandlerContext ctx, HttpRequest request) {
        Channel channel = ctx.channel();
        HttpHeaders headers = request.headers();
        Exchange exchange = state.begin(
                RequestIds.acceptOrCreate(headers.get(RequestIds.HEADER)), request.method().name(), request.uri());
        IpAddress peerIp = peer();
        exchange.clientIp(peerIp.toString());
        GatewaySnapshot snapshot = state.server().snapshots().current();
        if (snapshot == null || state.server().isDraining()) {
            reject(channel, exchange, 503, snapshot == null ? "no_config_loaded" : "shutting_down");
            return false;
        }
        exchange.snapshot(snapshot);
        CompiledConfig config = snapshot.config();
        Limits limits = config.limits();

        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            Throwable cause = decoded.cause();
            if (cause instanceof TooLongHttpLineException) {
                reject(channel, exchange, 414, "uri_too_long");
            } else if (cause instanceof TooLongHttpHeaderException) {
                reject(channel, exchange, 431, "headers_too_large");
            } else if (cause instanceof TooLongFrameException) {
                reject(channel, exchange, 400, "message_too_large");
            } else {
                reject(channel, exchange, 400, "malformed_request");
            }
            return false;
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1 || version.minorVersion() > 1) {
            reject(channel, exchange, 400, "unsupported_http_version");
            return false;
        }
        exchange.http10(version.minorVersion() == 0);
        HttpMethod method = request.method();
        if (method.equals(HttpMethod.TRACE) || method.equals(HttpMethod.CONNECT)) {
            reject(channel, exchange, 405, "method_not_allowed");
            return false;
        }
        if (request.uri().length() > limits.maxUriLength()) {
            reject(channel, exchange, 414, "uri_too_long");
            return false;
        }
        String framingProblem = framingProblem(headers);
        if (framingProblem != null) {
            reject(channel, exchange, 400, framingProblem);
            return false;
        }
        boolean chunked = headers.contains(HttpHeaderNames.TRANSFER_ENCODING);
        long contentLength = HttpUtil.getContentLength(request, 0L);
        boolean hasBody = chunked || contentLength > 0;
        if (hasBody && forbidsBody(method, limits.allowGetBody())) {
            reject(channel, exchange, 400, "body_not_allowed");
            return false;
        }
        if (contentLength > limits.maxBodySize()) {
            reject(channel, exchange, 413, "body_too_large");
            return false;
        }
        String hostHeader = singleHost(headers);
        if (hostHeader == null && (!exchange.http10() || headers.contains(HttpHeaderNames.HOST))) {
            reject(channel, exchange, 400, "bad_host_header");
            return false;
        }
        TargetResult target = RequestTarget.parse(request.uri(), hostHeader);
        if (target instanceof TargetResult.Rejected rejected) {
            reject(channel, exchange, rejected.status(), rejected.reason());
            return false;
        }
        TargetResult.Accepted accepted = (TargetResult.Accepted) target;
        exchange.path(accepted.path());
        String host = hostHeader == null ? "" : policyHost(hostHeader);
        exchange.host(host);

        ClientIpResolver clients = config.clientIps();
        boolean trustedPeer = clients.isTrusted(peerIp);
        IpAddress clientIp = trustedPeer
                ? clients.resolve(peerIp, headers.getAll(X_FORWARDED_FOR), headers.getAll(FORWARDED))
                : peerIp;
        exchange.clientIp(clientIp.toString());

        Decision decision = config.policy()
                .evaluate(new AccessRequest(
                        method.name(), accepted.path(), host, clientIp, peerIp, new NettyRequestHeaders(headers)));
        exchange.decision(decision);
        if (!HttpUtil.isKeepAlive(request)) {
            state.closeAfterResponse(true);
        }
        if (!decision.allowed()) {
            boolean close = hasBody || state.closeAfterResponse();
            GatewayResponses.send(channel, exchange, decision.status(), close);
            return false;
        }

        if (HttpUtil.is100ContinueExpected(request) && hasBody) {
            channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        headers.remove(HttpHeaderNames.EXPECT);
        rewriteForUpstream(request, accepted.uri(), hostHeader, peerIp, trustedPeer, exchange.requestId());
        forwarding = !(request instanceof LastHttpContent);
        discarding = false;
        ctx.fireChannelRead(request);
        return true;
    }

    private static void rewriteForUpstream(
            HttpRequest request,
            String uri,
            @Nullable String hostHeader,
            IpAddress peerIp,
            boolean trustedPeer,
            String requestId) {
        HttpHeaders headers = request.headers();
        request.setUri(uri);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        String priorChain = null;
        String proto = null;
        String forwardedHost = null;
        if (trustedPeer) {
            List<String> chain = headers.getAll(X_FORWARDED_FOR);
            priorChain = chain.isEmpty() ? null : String.join(", ", chain);
            proto = headers.get(X_FORWARDED_PROTO);
            forwardedHost = headers.get(X_FORWARDED_HOST);
        } else {
            headers.remove(FORWARDED);
        }
        dev.portcullis.server.proxy.HopByHopHeaders.strip(headers);
        String peerText = peerIp.toString();
        headers.set(X_FORWARDED_FOR, priorChain == null ? peerText : priorChain + ", " + peerText);
        headers.set(X_FORWARDED_PROTO, proto == null ? "http" : proto);
        if (forwardedHost != null) {
            headers.set(X_FORWARDED_HOST, forwardedHost);
        } else if (hostHeader != null) {
            headers.set(X_FORWARDED_HOST, hostHeader);
        } else {
            headers.remove(X_FORWARDED_HOST);
        }
        headers.set(RequestIds.HEADER, requestId);
    }

    private void reject(Channel channel, Exchange exchange, int status, String reason) {
        exchange.reason(reason);
        GatewayResponses.send(channel, exchange, status, true);
    }

    /** A reason code when the head's framing is ambiguous or unsupported (SPEC 3.6), else null. */
    static @Nullable String framingProblem(HttpHeaders headers) {
        if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
            if (codings.size() != 1 || !codings.get(0).trim().equalsIgnoreCase("chunked")) {
                return "bad_transfer_encoding";
            }
            if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                return "ambiguous_framing";
            }
        } else if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            List<String> lengths = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
            if (lengths.size() != 1 || !isDigits(lengths.get(0))) {
                return "bad_content_length";
            }
        }
        return null;
    }

    private static boolean isDigits(String value) {
        if (value.isEmpty() || value.length() > 18) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean forbidsBody(HttpMethod method, boolean allowGetBody) {
        if (method.equals(HttpMethod.GET)) {
            return !allowGetBody;
        }
        return method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.TRACE);
    }

    private static @Nullable String singleHost(HttpHeaders headers) {
        String host = headers.get(HttpHeaderNames.HOST);
        if (host == null || host.isEmpty() || headers.getAll(HttpHeaderNames.HOST).size() != 1) {
            return null;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#') {
                return null;
            }
        }
        return host;
    }

    /** The Host as policies see it: port removed, lower case. */
    static String policyHost(String hostHeader) {
        String host = hostHeader;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && host.indexOf(':') == colon) {
                host = host.substring(0, colon);
            }
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return host.toLowerCase(Locale.ROOT);
            }
        }
        return host;
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
