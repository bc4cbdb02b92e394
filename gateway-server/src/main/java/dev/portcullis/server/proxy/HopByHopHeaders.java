package dev.portcullis.server.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Removes connection-specific headers (RFC 9110 section 7.6.1) before a message crosses the proxy:
 * {@code Connection} and every header it names, {@code Keep-Alive}, {@code Proxy-*}, {@code TE},
 * {@code Trailer} and {@code Upgrade}. {@code Transfer-Encoding} stays: the codec re-frames the body
 * chunk by chunk on the other side.
 */
public final class HopByHopHeaders {
    private static final AsciiString PROXY_PREFIX = AsciiString.cached("proxy-");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");

    private HopByHopHeaders() {}

    /** Strips the hop-by-hop headers of {@code headers} in place. */
    public static void strip(HttpHeaders headers) {
        List<String> connection = headers.getAll(HttpHeaderNames.CONNECTION);
        for (String value : connection) {
            int start = 0;
            while (start <= value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String token = value.substring(start, end).trim();
                if (!token.isEmpty()) {
                    headers.remove(token);
                }
                start = end + 1;
            }
        }
        headers.remove(HttpHeaderNames.CONNECTION);
        headers.remove(KEEP_ALIVE);
        headers.remove(HttpHeaderNames.TE);
        headers.remove(HttpHeaderNames.TRAILER);
        headers.remove(HttpHeaderNames.UPGRADE);
        List<String> proxyHeaders = null;
        for (Map.Entry<CharSequence, CharSequence> header : iterable(headers)) {
            CharSequence name = header.getKey();
            if (AsciiString.regionMatches(name, true, 0, PROXY_PREFIX, 0, PROXY_PREFIX.length())) {
                if (proxyHeaders == null) {
                    proxyHeaders = new ArrayList<>(2);
                }
                proxyHeaders.add(name.toString());
            }
        }
        if (proxyHeaders != null) {
            proxyHeaders.forEach(headers::remove);
        }
    }

    private static Iterable<Map.Entry<CharSequence, CharSequence>> iterable(HttpHeaders headers) {
        return headers::iteratorCharSequence;
    }
}
