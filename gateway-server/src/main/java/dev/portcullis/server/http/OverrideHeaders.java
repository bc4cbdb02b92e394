package dev.portcullis.server.http;

import dev.portcullis.core.http.ClientHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Headers by which middleware lets a request claim another method or path than the one the policy decided
 * on ({@code X-HTTP-Method-Override}, {@code X-HTTP-Method}, {@code X-Method-Override}, {@code X-Original-URL},
 * {@code X-Rewrite-URL}): removed from every request before it is proxied (SPEC 3.7), in any case and with
 * {@code _} for {@code -}.
 */
public final class OverrideHeaders {
    private OverrideHeaders() {}

    /** Removes every override header; the names removed, as sent, or null when there were none (no allocation then). */
    public static @Nullable List<String> strip(HttpHeaders headers) {
        List<String> removed = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (ClientHeaderNames.isOverride(name)) {
                if (removed == null) {
                    removed = new ArrayList<>(2);
                }
                String text = name.toString();
                if (!removed.contains(text)) {
                    removed.add(text);
                }
            }
        }
        if (removed != null) {
            for (String name : removed) {
                headers.remove(name);
            }
        }
        return removed;
    }
}
