package dev.portcullis.server.ratelimit;

import java.nio.charset.StandardCharsets;

/** RESP encoding of the few commands the store sends, as byte arrays computed once where they can be. */
final class Resp {

    private Resp() {}

    /** {@code text} as a RESP bulk string. */
    static byte[] bulk(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + bytes.length + 2];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(bytes, 0, out, head.length, bytes.length);
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }

    /** The head of a command of {@code count} parts: {@code *<count>\r\n}. */
    static byte[] arrayHead(int count) {
        return ("*" + count + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The parts one after the other. */
    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }
}
