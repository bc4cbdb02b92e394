package dev.portcullis.core.http;

import java.util.ArrayList;
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
        List<String> codings = new ArrayList<>(2);
        for (String line : transferEncodings) {
            HeaderValues.forEachElement(line, codings::add);
        }
        return codings.size() == 1 && codings.get(0).equalsIgnoreCase("chunked");
    }
}
