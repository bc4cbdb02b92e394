package dev.portcullis.server.pipeline;

import dev.portcullis.core.http.HeaderValues;
import dev.portcullis.core.policy.RequestHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Presents Netty's request headers to the policy engine without copying them. {@link #first} reads a name in any
 * case; the {@code AnySpelling} lookups also with {@code _} for {@code -}, as CGI-style upstreams (WSGI, Rack, PHP)
 * read {@code X_Tenant} as {@code X-Tenant}: a condition or a rate-limit key on {@code X-Tenant} sees a lone
 * {@code X_Tenant} line. A request with two spellings of a name an enforcing rule reads is refused before it is
 * decided (an ambiguous header, {@code PolicyHeaders}); where only an audit rule reads one, the first line counts.
 */
final class NettyRequestHeaders implements RequestHeaders {

    /*
     * Implementation notes: the exact name is looked up in Netty's hash first; only when it is
     * missing, and the name has a '-' or '_' another spelling could replace, are the lines walked
     * (an iterator, on requests that lack the header).
     */

    private final HttpHeaders headers;

    NettyRequestHeaders(HttpHeaders headers) {
        this.headers = headers;
    }

    @Override
    public @Nullable String first(String name) {
        return headers.get(name);
    }

    @Override
    public @Nullable String firstAnySpelling(String name) {
        String value = headers.get(name);
        return value != null || !respellable(name) ? value : firstRespelled(name, null);
    }

    @Override
    public boolean containsAnySpelling(String name) {
        return headers.contains(name) || respellable(name) && firstRespelled(name, null) != null;
    }

    @Override
    public boolean containsValueAnySpelling(String name, String exactValue) {
        return headers.contains(name, exactValue, false)
                || respellable(name) && firstRespelled(name, exactValue) != null;
    }

    private static boolean respellable(String name) {
        return name.indexOf('-') >= 0 || name.indexOf('_') >= 0;
    }

    /** The first value (equal to {@code exactValue}, when given) of a line named {@code name} in any spelling. */
    private @Nullable String firstRespelled(String name, @Nullable String exactValue) {
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> line = it.next();
            if (HeaderValues.sameName(line.getKey(), name, false)
                    && (exactValue == null || exactValue.contentEquals(line.getValue()))) {
                return line.getValue().toString();
            }
        }
        return null;
    }
}
