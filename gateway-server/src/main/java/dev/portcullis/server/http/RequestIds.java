package dev.portcullis.server.http;

import io.netty.util.AsciiString;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/** Request ids: the client's when it sent a sane one, else a fresh random 128-bit hex id. */
public final class RequestIds {
    public static final AsciiString HEADER = AsciiString.cached("X-Request-Id");
    private static final int MAX_LENGTH = 128;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private RequestIds() {}

    /** Returns {@code offered} if it is 1..128 chars of {@code [A-Za-z0-9._:-]}, else a new id. */
    public static String acceptOrCreate(@Nullable String offered) {
        return offered != null && isSane(offered) ? offered : create();
    }

    static boolean isSane(String id) {
        int n = id.length();
        if (n == 0 || n > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A new random id of 32 lower-case hex digits. */
    public static String create() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] out = new char[32];
        long hi = random.nextLong();
        long lo = random.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xF];
            out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xF];
        }
        return new String(out);
    }
}
