package dev.portcullis.server.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A logback encoder that writes an event's formatted message followed by {@code '\n'}, as UTF-8, and nothing
 * else: what {@code <pattern>%msg%n</pattern>} wrote, for a message that is already the whole line (the access
 * line {@link AccessLog} renders). Each line is one byte array of exactly its size; no header, no footer.
 */
public final class MessageLineEncoder extends EncoderBase<ILoggingEvent> {

    /*
     * Why not PatternLayoutEncoder with %msg%n: it copies a line that is finished before it is logged three
     * times (the converters' StringBuilder, a String, then the bytes) to append one '\n'. Here the one
     * allocation per line is the array returned.
     *
     * The charset is UTF-8 whatever the JVM's default, which on JDK 17 under the POSIX (C) locale (a container
     * without LANG) is ASCII, where every non-ASCII character of a line would become '?'.
     *
     * Encoding: a scan for the first char >= 0x80. An all-ASCII message (nearly every access line) is copied
     * into new byte[length + 1] by String.getBytes(int, int, byte[], int), which keeps the low 8 bits of each
     * char: exact for ASCII, and an array copy for a Latin-1 string. A line with any other character (rare: a
     * subject or path outside ASCII) is String.getBytes(UTF_8) copied into an array one byte longer.
     *
     * The encoder keeps no state per line, so any number of appenders and threads may share it. A null
     * message (never the access line) is written as "null", as %msg wrote it.
     */

    private static final byte NEWLINE = '\n';

    /** Always null: there is no header. */
    @Override
    public byte @Nullable [] headerBytes() {
        return null;
    }

    /** The formatted message (arguments substituted) and {@code '\n'}, as UTF-8. */
    @Override
    public byte[] encode(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        return line(message == null ? "null" : message);
    }

    /** Always null: there is no footer. */
    @Override
    public byte @Nullable [] footerBytes() {
        return null;
    }

    /** {@code message} and {@code '\n'} as UTF-8, in an array of exactly that size. */
    static byte[] line(String message) {
        int length = message.length();
        int ascii = 0;
        while (ascii < length && message.charAt(ascii) < 0x80) {
            ascii++;
        }
        if (ascii < length) {
            byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
            byte[] line = Arrays.copyOf(utf8, utf8.length + 1);
            line[utf8.length] = NEWLINE;
            return line;
        }
        byte[] line = new byte[length + 1];
        copyAscii(message, length, line);
        line[length] = NEWLINE;
        return line;
    }

    /** Copies the first {@code count} chars of {@code message}, all below 0x80, to the start of {@code to}. */
    @SuppressWarnings("deprecation") // exact for ASCII, which is all it is given; an array copy for a Latin-1 string
    private static void copyAscii(String message, int count, byte[] to) {
        message.getBytes(0, count, to, 0);
    }
}
