package dev.portcullis.server.http;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Small helpers over header values and names that the pipeline and the proxy share. */
public final class HeaderTokens {
    private HeaderTokens() {}

    /** Removes every header whose name satisfies {@code doomed}; allocates only when one does. */
    public static void removeIf(HttpHeaders headers, Predicate<CharSequence> doomed) {
        List<String> names = null;
        for (Map.Entry<CharSequence, CharSequence> header : fields(headers)) {
            CharSequence name = header.getKey();
            if (doomed.test(name)) {
                if (names == null) {
                    names = new ArrayList<>(2);
                }
                names.add(name.toString());
            }
        }
        if (names != null) {
            names.forEach(headers::remove);
        }
    }

    /** The header lines of {@code headers}, name and value, in order, without copying them to strings. */
    public static Iterable<Map.Entry<CharSequence, CharSequence>> fields(HttpHeaders headers) {
        return headers::iteratorCharSequence;
    }

    /**
     * How many header lines named {@code name} the message has, counted up to {@code max}: what
     * {@code getAll(name).size()} says for counts up to {@code max}, without building the list.
     */
    public static int lines(HttpHeaders headers, CharSequence name, int max) {
        Iterator<? extends CharSequence> values = headers.valueCharSequenceIterator(name);
        int count = 0;
        while (count < max && values.hasNext()) {
            values.next();
            count++;
        }
        return count;
    }

    /**
     * {@code value} made safe and unambiguous as a header value: UTF-8 percent-encoding of every
     * character outside {@code !..~}, of {@code %}, and of {@code extra} (e.g. {@code ,} inside one list
     * element). Values that need nothing are returned as they are, without allocating.
     */
    public static String encodeValue(String value, char extra) {
        int i = 0;
        while (i < value.length() && isPlain(value.charAt(i), extra)) {
            i++;
        }
        if (i == value.length()) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() + 16).append(value, 0, i);
        byte[] bytes = value.substring(i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c < 0x80 && isPlain((char) c, extra)) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return out.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static boolean isPlain(char c, char extra) {
        return c > 0x20 && c < 0x7F && c != '%' && c != extra;
    }
}
