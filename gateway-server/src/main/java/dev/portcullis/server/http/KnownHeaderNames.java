package dev.portcullis.server.http;

import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The header names most requests and responses carry, as shared constants, for the decoders: a received name
 * that is byte for byte one of them (in the usual capitalization or all lower case) becomes the constant instead of
 * a new {@link AsciiString} with its own copy of the bytes, whose hash would be computed again by every header map
 * it enters. Any other spelling is decoded as before, so what is forwarded is always exactly what was received.
 *
 * <p>Implementation notes: the table is indexed by length; a lookup compares the bytes of the few names of that
 * length and allocates nothing.
 */
public final class KnownHeaderNames {
    private static final List<String> NAMES = List.of(
            "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Age",
            "Access-Control-Allow-Origin", "Authorization", "Cache-Control", "Connection", "Content-Disposition",
            "Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Cookie", "Date", "DNT", "ETag",
            "Expect", "Expires", "Forwarded", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "Keep-Alive",
            "Last-Modified", "Link", "Location", "Origin", "Pragma", "Priority", "Range", "Referer",
            "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Sec-WebSocket-Accept",
            "Sec-WebSocket-Key", "Sec-WebSocket-Protocol", "Sec-WebSocket-Version", "Server", "Set-Cookie",
            "Strict-Transport-Security", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
            "Upgrade-Insecure-Requests", "User-Agent", "Vary", "Via", "WWW-Authenticate", "X-Content-Type-Options",
            "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Frame-Options", "X-Real-IP",
            "X-Request-Id", "X-Requested-With");
    private static final AsciiString[][] BY_LENGTH = table();

    private KnownHeaderNames() {}

    /** Every constant of the table (for tests). */
    static List<AsciiString> all() {
        List<AsciiString> all = new ArrayList<>();
        for (AsciiString[] names : BY_LENGTH) {
            all.addAll(List.of(names));
        }
        return all;
    }

    /** The constant spelled exactly as {@code bytes[start, start + length)}, or null when there is none. */
    public static @Nullable AsciiString lookup(byte[] bytes, int start, int length) {
        if (length >= BY_LENGTH.length) {
            return null;
        }
        for (AsciiString name : BY_LENGTH[length]) {
            if (sameBytes(name, bytes, start, length)) {
                return name;
            }
        }
        return null;
    }

    private static boolean sameBytes(AsciiString name, byte[] bytes, int start, int length) {
        int offset = name.arrayOffset();
        return Arrays.equals(name.array(), offset, offset + length, bytes, start, start + length);
    }

    private static AsciiString[][] table() {
        int longest = 0;
        for (String name : NAMES) {
            longest = Math.max(longest, name.length());
        }
        List<List<AsciiString>> byLength = new ArrayList<>();
        for (int i = 0; i <= longest; i++) {
            byLength.add(new ArrayList<>());
        }
        for (String name : NAMES) {
            byLength.get(name.length()).add(AsciiString.cached(name));
            String lower = name.toLowerCase(Locale.ROOT);
            if (!lower.equals(name)) {
                byLength.get(name.length()).add(AsciiString.cached(lower));
            }
        }
        AsciiString[][] table = new AsciiString[longest + 1][];
        for (int i = 0; i <= longest; i++) {
            table[i] = byLength.get(i).toArray(new AsciiString[0]);
        }
        return table;
    }
}
