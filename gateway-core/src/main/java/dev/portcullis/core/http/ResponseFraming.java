package dev.portcullis.core.http;

import java.util.List;

/**
 * The framing of an upstream response the gateway relays. A {@code Transfer-Encoding} must be exactly {@code chunked}
 * (one coding, any case, on one or more lines), as nginx requires: with another coding ({@code gzip}, an unknown
 * one) and no final {@code chunked}, the body runs to the connection's close and is coded in a way the client is no
 * longer told of once the gateway re-frames it; with codings before {@code chunked}, an HTTP/1.0 client, which gets
 * the body without its chunked framing, would be sent it unlabelled too. Such a response is answered 502.
 */
public final class ResponseFraming {

    private ResponseFraming() {}

    /** Whether the {@code Transfer-Encoding} lines, in order, name exactly one coding, {@code chunked}. */
    public static boolean isChunkedOnly(List<String> transferEncodings) {
        int codings = 0;
        boolean chunked = false;
        for (String line : transferEncodings) {
            int start = 0;
            while (start <= line.length()) {
                int comma = line.indexOf(',', start);
                int end = comma < 0 ? line.length() : comma;
                String coding = line.substring(start, end).trim();
                if (!coding.isEmpty()) {
                    codings++;
                    chunked = coding.equalsIgnoreCase("chunked");
                }
                start = end + 1;
            }
        }
        return codings == 1 && chunked;
    }
}
