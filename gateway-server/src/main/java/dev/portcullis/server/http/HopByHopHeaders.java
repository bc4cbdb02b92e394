package dev.portcullis.server.http;

import dev.portcullis.core.http.ClientHeaderNames;
import dev.portcullis.core.http.HeaderValues;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Removes connection-specific headers (RFC 9110 section 7.6.1) before a message crosses the proxy:
 * {@code Connection} and every header it names, {@code Keep-Alive}, {@code Proxy-*}, {@code TE},
 * {@code Trailer} and {@code Upgrade}.
 *
 * <p>{@code Connection} may never remove a header the proxy itself relies on: the framing headers
 * ({@code Content-Length}, {@code Transfer-Encoding}: removing them would let a body be read as a
 * second request), {@code Host}, {@code Authorization}, and the headers the gateway sets for the
 * upstream or reads identity from. A request whose
 * {@code Connection} names one of them is rejected ({@link #namesProtectedHeader}); in a response the
 * token is ignored. {@code Transfer-Encoding} itself stays: the codec re-frames the body chunk by chunk.
 */
public final class HopByHopHeaders {
    private HopByHopHeaders() {}

    /**
     * True when a {@code Connection} token names a header that must not be dropped (see class doc), or
     * one of {@code alsoProtected} (the identity headers of the config).
     */
    public static boolean namesProtectedHeader(HttpHeaders headers, List<String> alsoProtected) {
        boolean[] found = new boolean[1];
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            HeaderValues.forEachElement(value, token -> {
                if (ClientHeaderNames.isConnectionProtected(token)) {
                    found[0] = true;
                }
                for (String name : alsoProtected) {
                    if (HeaderValues.sameName(token, name, false)) {
                        found[0] = true;
                    }
                }
            });
        }
        return found[0];
    }

    /**
     * Strips the hop-by-hop headers of {@code headers} in place: one pass over the names finds them (no
     * allocation when there are none, the common case); only a {@code Connection} header costs more (the
     * headers it names).
     */
    public static void strip(HttpHeaders headers) {
        boolean connection = false;
        List<CharSequence> doomed = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> all = headers.iteratorCharSequence();
        while (all.hasNext()) {
            CharSequence name = all.next().getKey();
            if (HttpHeaderNames.CONNECTION.contentEqualsIgnoreCase(name)) {
                connection = true;
            } else if (ClientHeaderNames.isFixedHopByHop(name)) {
                if (doomed == null) {
                    doomed = new ArrayList<>(2);
                }
                doomed.add(name);
            }
        }
        if (doomed != null) {
            for (CharSequence name : doomed) {
                headers.remove(name);
            }
        }
        if (connection) {
            for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
                removeNamedBy(headers, value);
            }
            headers.remove(HttpHeaderNames.CONNECTION);
        }
    }

    /** Removes the headers a {@code Connection} value names, except the protected ones. */
    private static void removeNamedBy(HttpHeaders headers, String value) {
        int start = 0;
        while (start <= value.length()) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? value.length() : comma;
            String token = value.substring(start, end).trim();
            if (!token.isEmpty() && !ClientHeaderNames.isConnectionProtected(token)) {
                headers.remove(token);
            }
            start = end + 1;
        }
    }
}
