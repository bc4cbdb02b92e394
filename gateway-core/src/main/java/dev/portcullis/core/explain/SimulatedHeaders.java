package dev.portcullis.core.explain;

import dev.portcullis.core.decision.DecisionStep;
import dev.portcullis.core.http.ClientHeaderNames;
import dev.portcullis.core.http.HeaderValues;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.http.WebSocketHandshake;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.net.IpAddress;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The headers of a simulated request ({@code explain}, {@code test}) as the server leaves them for the rules, or the
 * 400 it would answer first: the same header checks and removals the server makes before any rule runs, over the
 * same name lists ({@link ClientHeaderNames}), so that an offline decision and a live one cannot differ on a header.
 *
 * <p>As the server: a {@code Connection} header naming a header the gateway relies on, or more than one
 * {@code Authorization}, is refused with the protocol checks ({@link #badConnection},
 * {@link #ambiguousAuthorization}); once the target is read, hop-by-hop
 * headers (and those {@code Connection} names), method and URL overrides, the identity headers the peer may not send,
 * and, from a peer that is not a trusted proxy, forwarding headers are removed (a WebSocket handshake keeps
 * {@code Upgrade: websocket} and {@code Connection: Upgrade}); then a header that decides access and is still
 * repeated, in any spelling, is refused ({@link #screen}).
 */
public final class SimulatedHeaders {
    static final TargetResult.Rejected BAD_CONNECTION_HEADER = new TargetResult.Rejected(400, "bad_connection_header");
    static final TargetResult.Rejected AMBIGUOUS_AUTHORIZATION =
            new TargetResult.Rejected(400, "ambiguous_authorization");
    static final TargetResult.Rejected AMBIGUOUS_HEADER = new TargetResult.Rejected(400, "ambiguous_header");

    /**
     * What the rules see, or why not.
     *
     * @param rejected the 400 the gateway would answer before any rule runs; null when the request goes on
     * @param seen the remaining headers by name (case-insensitive), values in order; empty when rejected
     */
    public record Screened(TargetResult.@Nullable Rejected rejected, Map<String, List<String>> seen) {}

    private SimulatedHeaders() {}

    /**
     * Why the server refuses {@code given} for its {@code Connection} header: one naming a header the gateway relies
     * on, or an identity header of {@code identity}; null when it does not.
     */
    public static TargetResult.@Nullable Rejected badConnection(Map<String, List<String>> given,
            IdentityChain identity) {
        for (String token : connectionTokens(lines(given))) {
            if (ClientHeaderNames.isConnectionProtected(token) || named(token, identity.allIdentityHeaders())) {
                return BAD_CONNECTION_HEADER;
            }
        }
        return null;
    }

    /** {@link #AMBIGUOUS_AUTHORIZATION} when {@code given} holds more than one {@code Authorization} line, else null. */
    public static TargetResult.@Nullable Rejected ambiguousAuthorization(Map<String, List<String>> given) {
        return values(lines(given), "authorization").size() > 1 ? AMBIGUOUS_AUTHORIZATION : null;
    }

    /**
     * The headers of a request that passed the protocol checks as the rules see them, or {@link #AMBIGUOUS_HEADER}.
     *
     * @param given the request's headers by name, as sent (names differing only in case or {@code _} are distinct
     *     lines)
     * @param method the request method
     * @param identity the generation's identity chain: which identity headers {@code peer} may send
     * @param peer the TCP peer
     * @param trustedPeer whether {@code peer} is in {@code clients.trusted_proxies}
     * @param headersRead the headers that decide access, lower case ({@code DecisionStep#headersRead})
     */
    public static Screened screen(Map<String, List<String>> given, String method, IdentityChain identity,
            IpAddress peer, boolean trustedPeer, List<String> headersRead) {
        List<Map.Entry<String, String>> lines = lines(given);
        List<String> tokens = connectionTokens(lines);
        boolean webSocket = webSocketHandshake(method, lines, tokens);
        List<String> believed = identity.believesForwarded(peer) ? identity.forwardedHeaders() : List.of();
        List<String> gatewayHeaders = identity.headersToStrip(peer);
        lines.removeIf(line -> {
            String name = line.getKey();
            return name.equalsIgnoreCase("connection") || ClientHeaderNames.isFixedHopByHop(name)
                    || tokens.stream().anyMatch(name::equalsIgnoreCase) || ClientHeaderNames.isOverride(name)
                    || ClientHeaderNames.isUnsentable(name, trustedPeer, gatewayHeaders, believed);
        });
        if (webSocket) {
            lines.add(new AbstractMap.SimpleEntry<>("Upgrade", "websocket"));
            lines.add(new AbstractMap.SimpleEntry<>("Connection", "Upgrade"));
        }
        if (DecisionStep.repeatedHeader(lines, headersRead) != null) {
            return new Screened(AMBIGUOUS_HEADER, Map.of());
        }
        Map<String, List<String>> seen = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        lines.forEach(line -> seen.computeIfAbsent(line.getKey(), n -> new ArrayList<>()).add(line.getValue()));
        return new Screened(null, seen);
    }

    /** One name-value entry per header line, in order. */
    static List<Map.Entry<String, String>> lines(Map<String, List<String>> given) {
        List<Map.Entry<String, String>> lines = new ArrayList<>();
        given.forEach((name, values) -> values.forEach(value -> lines.add(new AbstractMap.SimpleEntry<>(name, value))));
        return lines;
    }

    /** The elements of every {@code Connection} line, trimmed. */
    private static List<String> connectionTokens(List<Map.Entry<String, String>> lines) {
        List<String> tokens = new ArrayList<>();
        values(lines, "connection").forEach(value -> HeaderValues.forEachElement(value, tokens::add));
        return tokens;
    }

    /** A {@code GET} (simulated requests are HTTP/1.1 and bodiless) whose headers ask for a WebSocket. */
    private static boolean webSocketHandshake(String method, List<Map.Entry<String, String>> lines,
            List<String> connectionTokens) {
        return method.equals("GET") && WebSocketHandshake.key(values(lines, "upgrade"),
                connectionTokens.stream().anyMatch("upgrade"::equalsIgnoreCase), values(lines, "sec-websocket-key"))
                != null;
    }

    /** The values of the lines named {@code lowerName} (any case), in order. */
    static List<String> values(List<Map.Entry<String, String>> lines, String lowerName) {
        List<String> values = new ArrayList<>(1);
        for (Map.Entry<String, String> line : lines) {
            if (line.getKey().equalsIgnoreCase(lowerName)) {
                values.add(line.getValue());
            }
        }
        return values;
    }

    private static boolean named(String token, List<String> names) {
        return names.stream().anyMatch(name -> HeaderValues.sameName(token, name, false));
    }
}
