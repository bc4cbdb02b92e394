package dev.portcullis.server.http;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;
import java.util.Date;

/**
 * The {@code Date} header value of the current second (RFC 9110 6.6.1, IMF-fixdate), formatted once per second and
 * shared by every event loop: the gateway's own answers carry one, and a proxied response without one gets one (a
 * proxy with a clock MUST add it, RFC 9110 6.6.1).
 */
public final class HttpDates {
    private record Formatted(long second, AsciiString value) {}

    private static volatile Formatted current = format(Math.floorDiv(System.currentTimeMillis(), 1000));

    private HttpDates() {}

    /** The {@code Date} value for now; allocation-free except once per second. */
    public static AsciiString now() {
        return at(System.currentTimeMillis());
    }

    /** The {@code Date} value for {@code epochMillis}. */
    static AsciiString at(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        Formatted formatted = current;
        if (formatted.second() != second) {
            formatted = format(second); // a race formats the same second twice, harmlessly
            current = formatted;
        }
        return formatted.value();
    }

    private static Formatted format(long second) {
        return new Formatted(second, AsciiString.of(DateFormatter.format(new Date(second * 1000))));
    }
}
