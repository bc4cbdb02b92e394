package dev.portcullis.core.geo;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The data section of a MaxMind DB file being written for {@link MmdbWriter}, and the data section encoding of
 * values (control bytes, strings, doubles, unsigned integers, booleans, maps, arrays and pointers).
 *
 * <p>Each distinct record is written once, at the offset returned by {@link #add}; as MaxMind's writer does, a map
 * key, string or map written before is written again as a pointer to its first copy. See {@link MmdbWriter} for the
 * Java types a record's values may have.
 */
final class MmdbDataEncoder {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<Key, Integer> offsets = new HashMap<>();
    private final Map<Object, Integer> written = new HashMap<>();

    /** The offset of {@code record} in the data section, writing it if no equal record was written before. */
    int add(Map<String, ?> record) {
        ByteArrayOutputStream encoded = new ByteArrayOutputStream();
        encode(encoded, record, true);
        Key key = new Key(encoded.toByteArray());
        Integer known = offsets.get(key);
        if (known != null) {
            return known;
        }
        int offset = out.size();
        // the record itself is written in place: a search tree record points at a map, not at a pointer
        writeMap(record);
        offsets.put(key, offset);
        return offset;
    }

    /** The data section's size in bytes so far. */
    int size() {
        return out.size();
    }

    /** The data section's bytes so far. */
    byte[] bytes() {
        return out.toByteArray();
    }

    private void writeMap(Map<?, ?> map) {
        int offset = out.size();
        control(out, 7, map.size());
        List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
        entries.sort(Comparator.comparing(e -> (String) e.getKey()));
        for (Map.Entry<?, ?> entry : entries) {
            write(entry.getKey());
            write(entry.getValue());
        }
        written.putIfAbsent(map, offset);
    }

    private void write(Object value) {
        Integer known = value instanceof String || value instanceof Map ? written.get(value) : null;
        if (known != null) {
            pointer(known);
        } else if (value instanceof Map<?, ?> map) {
            writeMap(map);
        } else {
            int offset = out.size();
            encode(out, value, true);
            if (value instanceof String) {
                written.put(value, offset);
            }
        }
    }

    /** A pointer (type 1) to {@code target}, an offset in the data section, in its shortest form. */
    private void pointer(int target) {
        if (target < 2048) {
            out.write(0x20 | target >>> 8);
            writeBytes(out, target, 1);
        } else if (target < 2048 + 524_288) {
            int value = target - 2048;
            out.write(0x28 | value >>> 16);
            writeBytes(out, value, 2);
        } else if (target < 526_336 + 134_217_728) {
            int value = target - 526_336;
            out.write(0x30 | value >>> 24);
            writeBytes(out, value, 3);
        } else {
            out.write(0x38);
            writeBytes(out, target, 4);
        }
    }

    /** Encodes a value in the data section format, without pointers (metadata, and records to compare). */
    static void encode(ByteArrayOutputStream out, Object value, boolean sortKeys) {
        if (value instanceof String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            control(out, 2, utf8.length);
            out.writeBytes(utf8);
        } else if (value instanceof Double d) {
            control(out, 3, 8);
            writeBytes(out, Double.doubleToLongBits(d), 8);
        } else if (value instanceof Integer i) {
            unsigned(out, i <= 0xffff ? 5 : 6, BigInteger.valueOf(i));
        } else if (value instanceof Long l) {
            unsigned(out, l <= 0xffff_ffffL ? 6 : 9, BigInteger.valueOf(l));
        } else if (value instanceof BigInteger big) {
            unsigned(out, big.bitLength() <= 64 ? 9 : 10, big);
        } else if (value instanceof Boolean b) {
            control(out, 14, b ? 1 : 0);
        } else if (value instanceof Map<?, ?> map) {
            encodeMap(out, map, sortKeys);
        } else if (value instanceof List<?> list) {
            control(out, 11, list.size());
            for (Object item : list) {
                encode(out, item, sortKeys);
            }
        } else {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " in a MaxMind DB");
        }
    }

    private static void encodeMap(ByteArrayOutputStream out, Map<?, ?> map, boolean sortKeys) {
        control(out, 7, map.size());
        List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
        if (sortKeys) {
            entries.sort(Comparator.comparing(e -> (String) e.getKey()));
        }
        for (Map.Entry<?, ?> entry : entries) {
            encode(out, (String) entry.getKey(), sortKeys);
            encode(out, entry.getValue(), sortKeys);
        }
    }

    private static void unsigned(ByteArrayOutputStream out, int type, BigInteger value) {
        if (value.signum() < 0) {
            throw new IllegalArgumentException(value + " is negative (expected: an unsigned value)");
        }
        byte[] bytes = value.toByteArray();
        int start = 0;
        while (start < bytes.length && bytes[start] == 0) {
            start++;
        }
        control(out, type, bytes.length - start);
        out.write(bytes, start, bytes.length - start);
    }

    /** The control byte (and extended type byte and size bytes) of a value of {@code type} and {@code size}. */
    private static void control(ByteArrayOutputStream out, int type, int size) {
        int typeBits = type <= 7 ? type << 5 : 0;
        if (size < 29) {
            out.write(typeBits | size);
        } else if (size < 29 + 256) {
            out.write(typeBits | 29);
        } else if (size < 285 + 65_536) {
            out.write(typeBits | 30);
        } else {
            out.write(typeBits | 31);
        }
        if (type > 7) {
            out.write(type - 7);
        }
        if (size >= 65_821) {
            writeBytes(out, size - 65_821L, 3);
        } else if (size >= 285) {
            writeBytes(out, size - 285L, 2);
        } else if (size >= 29) {
            out.write(size - 29);
        }
    }

    /** Writes the low {@code count} bytes of {@code value}, most significant first. */
    static void writeBytes(ByteArrayOutputStream out, long value, int count) {
        for (int i = count - 1; i >= 0; i--) {
            out.write((int) (value >>> (8 * i)));
        }
    }

    /** Encoded bytes as a map key. */
    private static final class Key {
        private final byte[] bytes;

        Key(byte[] bytes) {
            this.bytes = Objects.requireNonNull(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
