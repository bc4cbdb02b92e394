package dev.portcullis.server.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A deterministic, position-dependent byte stream of any length, generated on the fly and never held whole. */
public final class PatternBytes {

    /*
     * Byte i is one byte of mix(i / 8): a 64-bit mixing function of the 8-byte block index. Every
     * block differs, so a dropped, duplicated or reordered chunk anywhere in a stream changes its
     * SHA-256, while generating a stream costs a few nanoseconds per byte and no memory.
     */

    private static final Map<Long, String> SHA_CACHE = new ConcurrentHashMap<>();

    private PatternBytes() {}

    private static long mix(long block) {
        long z = block * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code buf[off, off+len)} with the bytes at stream positions {@code [pos, pos+len)}. */
    public static void fill(byte[] buf, int off, int len, long pos) {
        long block = pos >>> 3;
        long value = mix(block);
        for (int i = 0; i < len; i++) {
            long p = pos + i;
            long b = p >>> 3;
            if (b != block) {
                block = b;
                value = mix(block);
            }
            buf[off + i] = (byte) (value >>> ((p & 7) << 3));
        }
    }

    /** The first {@code n} bytes of the stream (for bodies small enough to hold). */
    public static byte[] bytes(int n) {
        byte[] b = new byte[n];
        fill(b, 0, n, 0);
        return b;
    }

    /** Writes the first {@code n} bytes of the stream to {@code out}. */
    public static void writeTo(OutputStream out, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long pos = 0;
        while (pos < n) {
            int len = (int) Math.min(buf.length, n - pos);
            fill(buf, 0, len, pos);
            out.write(buf, 0, len);
            pos += len;
        }
    }

    /** An input stream over the first {@code n} bytes of the stream. */
    public static InputStream inputStream(long n) {
        return new InputStream() {
            private long pos;

            @Override
            public int read() {
                if (pos >= n) {
                    return -1;
                }
                byte[] one = new byte[1];
                fill(one, 0, 1, pos++);
                return one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= n) {
                    return -1;
                }
                int k = (int) Math.min(len, n - pos);
                fill(b, off, k, pos);
                pos += k;
                return k;
            }
        };
    }

    /** Hex SHA-256 of the first {@code n} bytes of the stream (cached per length). */
    public static String sha256(long n) {
        return SHA_CACHE.computeIfAbsent(n, len -> {
            MessageDigest md = sha256Digest();
            byte[] buf = new byte[64 * 1024];
            long pos = 0;
            while (pos < len) {
                int k = (int) Math.min(buf.length, len - pos);
                fill(buf, 0, k, pos);
                md.update(buf, 0, k);
                pos += k;
            }
            return HexFormat.of().formatHex(md.digest());
        });
    }

    /** Hex SHA-256 of {@code data}. */
    public static String sha256(byte[] data) {
        return HexFormat.of().formatHex(sha256Digest().digest(data));
    }

    /** A fresh SHA-256 digest. */
    public static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
