package dev.portcullis.server.pipeline;

import dev.portcullis.core.decision.RequestFacts;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.exchange.Exchange;
import io.netty.handler.codec.http.HttpRequest;
import org.jspecify.annotations.Nullable;

/**
 * A request head that passed screening, with everything needed to decide and forward it: what a request
 * that waits for a JWKS fetch carries until it is decided.
 *
 * @param request the head (owned by whoever holds this record: forwarded or released exactly once)
 * @param exchange its exchange
 * @param snapshot the configuration generation deciding it, read once when the head arrived
 * @param facts what the decision step decides on
 * @param target the canonical request target forwarded upstream
 * @param hostHeader the Host header as sent, or null
 * @param trustedPeer whether the TCP peer is in {@code clients.trusted_proxies}
 * @param expectsContinue whether the client waits for {@code 100 Continue} before sending its body
 */
record AdmittedRequest(
        HttpRequest request,
        Exchange exchange,
        GatewaySnapshot snapshot,
        RequestFacts facts,
        TargetResult.Accepted target,
        @Nullable String hostHeader,
        boolean trustedPeer,
        boolean expectsContinue) {}
