package dev.portcullis.core.http;

import java.util.function.Consumer;

/** Reading list-valued header fields (RFC 9110 5.6.1), shared by the server and the identity chain. */
public final class HeaderValues {
    private HeaderValues() {}

    /** Calls {@code action} with each trimmed, non-empty element of a comma-separated header value. */
    public static void forEachElement(String value, Consumer<String> action) {
        int start = 0;
        while (start <= value.length()) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? value.length() : comma;
            String token = value.substring(start, end).trim();
            if (!token.isEmpty()) {
                action.accept(token);
            }
            start = end + 1;
        }
    }
}
