package dev.portcullis.server.pipeline;

import dev.portcullis.core.http.ClientHeaderNames;
import dev.portcullis.core.http.HeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Removes, before the policy sees the request, the headers a client may not set: from a peer that
 * is not a trusted proxy every {@code X-Forwarded-*}, {@code Forwarded}, {@code X-Real-IP}, {@code X-Client-IP},
 * {@code True-Client-IP}, {@code CF-Connecting-IP}, {@code X-Cluster-Client-IP} and {@code Fastly-Client-IP}
 * (Zuul's StripUntrustedProxyHeadersHandler, failing closed); from everyone the
 * headers the gateway itself sets for the upstream.
 *
 * <p>Names compare case-insensitively with {@code _} equal to {@code -}, because some upstream
 * stacks (CGI, nginx with underscores_in_headers, WSGI) read {@code X_Auth_Subject} as
 * {@code X-Auth-Subject}.
 *
 * <p>Runs for every request: the scan is a plain loop over the names (no capturing predicate), and it
 * allocates only when a header has to go.
 */
final class ForwardedHeaderSanitizer {
    private ForwardedHeaderSanitizer() {}

    /**
     * Strips in place. {@code gatewayHeaders} are header names (any case) that the gateway sets
     * itself and that no client may send.
     */
    static void sanitize(HttpHeaders headers, boolean trustedPeer, List<String> gatewayHeaders) {
        sanitize(headers, trustedPeer, gatewayHeaders, List.of());
    }

    /**
     * As {@link #sanitize(HttpHeaders, boolean, List)}, keeping {@code believed}: the forwarded-identity
     * headers of a peer in {@code identity.forwarded.trusted_proxies}, which may be sent by an authenticating
     * proxy that is not a client-address proxy (its {@code X-Forwarded-User} is not a forwarding header).
     */
    static void sanitize(HttpHeaders headers, boolean trustedPeer, List<String> gatewayHeaders,
            List<String> believed) {
        List<String> doomed = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (ClientHeaderNames.isUnsentable(name, trustedPeer, gatewayHeaders, believed)) {
                doomed = doom(doomed, name);
            }
        }
        removeAll(headers, doomed);
    }

    /**
     * Removes the lines named like one of {@code names} only once {@code _} is read as {@code -}
     * ({@code X_Forwarded_Groups} for {@code X-Forwarded-Groups}): what an identity was read from goes on under its
     * exact name only, so that an upstream reading underscores as dashes cannot see a line it was not read from.
     */
    static void removeOtherSpellings(HttpHeaders headers, List<String> names) {
        List<String> doomed = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            for (int i = 0; i < names.size(); i++) {
                String exact = names.get(i);
                if (HeaderValues.sameName(name, exact, false) && !AsciiString.contentEqualsIgnoreCase(name, exact)) {
                    doomed = doom(doomed, name);
                }
            }
        }
        removeAll(headers, doomed); // each doomed spelling in any case; the exact names stay
    }

    /** {@code doomed} with {@code name} added; the list is made on the first name, so a clean request allocates none. */
    private static List<String> doom(@Nullable List<String> doomed, CharSequence name) {
        List<String> list = doomed == null ? new ArrayList<>(2) : doomed;
        list.add(name.toString());
        return list;
    }

    private static void removeAll(HttpHeaders headers, @Nullable List<String> doomed) {
        if (doomed != null) {
            for (int i = 0; i < doomed.size(); i++) {
                headers.remove(doomed.get(i));
            }
        }
    }
}
