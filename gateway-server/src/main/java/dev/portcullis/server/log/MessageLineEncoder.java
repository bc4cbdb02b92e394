package dev.portcullis.server.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
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
     * char: exact for ASCII, and an array copy for a Latin-1 string. Otherwise a first pass sizes the UTF-8
     * form of the rest and a second writes it: 2 bytes below U+0800, 4 for a surrogate pair, 3 for the other
     * chars, and '?' for a surrogate not part of a pair, as String.getBytes(UTF_8) does.
     *
     * The encoder keeps no state per line, so any number of appenders and threads may share it. A null
     * message (never the access line) is written as "null", as %msg wrote it.
     */

    private static final byte NEWLINE = '\n';
    private static final byte REPLACEMENT = '?';

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
        byte[] line;
        int end;
        if (ascii == length) {
            line = new byte[length + 1];
            end = length;
        } else {
            line = new byte[ascii + utf8Length(message, ascii) + 1];
            end = encodeUtf8(message, ascii, line, ascii);
        }
        copyAscii(message, ascii, line);
        line[end] = NEWLINE;
        return line;
    }

    /** Copies the first {@code count} chars of {@code message}, all below 0x80, to the start of {@code to}. */
    @SuppressWarnings("deprecation") // exact for ASCII, which is all it is given; an array copy for a Latin-1 string
    private static void copyAscii(String message, int count, byte[] to) {
        message.getBytes(0, count, to, 0);
    }

    /** The number of UTF-8 bytes of {@code s} from index {@code from} on. */
    private static int utf8Length(String s, int from) {
        int length = s.length();
        int bytes = 0;
        for (int i = from; i < length; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (isPairAt(s, i)) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** Writes {@code s} from index {@code from} on as UTF-8 into {@code to} at {@code at}; returns the end. */
    private static int encodeUtf8(String s, int from, byte[] to, int at) {
        int length = s.length();
        int p = at;
        for (int i = from; i < length; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                to[p++] = (byte) c;
            } else if (c < 0x800) {
                to[p++] = (byte) (0xC0 | c >> 6);
                to[p++] = (byte) (0x80 | c & 0x3F);
            } else if (isPairAt(s, i)) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                to[p++] = (byte) (0xF0 | cp >> 18);
                to[p++] = (byte) (0x80 | cp >> 12 & 0x3F);
                to[p++] = (byte) (0x80 | cp >> 6 & 0x3F);
                to[p++] = (byte) (0x80 | cp & 0x3F);
            } else if (Character.isSurrogate(c)) {
                to[p++] = REPLACEMENT;
            } else {
                to[p++] = (byte) (0xE0 | c >> 12);
                to[p++] = (byte) (0x80 | c >> 6 & 0x3F);
                to[p++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return p;
    }

    /** Whether a high surrogate at {@code i} is followed by a low one: a supplementary character. */
    private static boolean isPairAt(String s, int i) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1));
    }
}
