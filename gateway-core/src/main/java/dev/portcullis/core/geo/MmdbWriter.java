package dev.portcullis.core.geo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small writer of MaxMind DB files (the public MaxMind DB File Format Specification, version 2.0), for tests that
 * must never download a GeoIP database: it writes Country, City and ASN databases from CIDR to record maps.
 *
 * <p>Values in a record map are written as: {@code String} a UTF-8 string, {@code Long} a uint32 (uint64 when
 * larger), {@code Integer} a uint16 (uint32 when larger), {@code BigInteger} a uint128, {@code Boolean} a boolean,
 * {@code Double} a double, {@code Map<String, ?>} a map and {@code List<?>} an array.
 */
public final class MmdbWriter {

    /*
     * Implementation notes: the search tree is an IPv6 tree (ip_version 6). IPv4 networks are inserted
     * at ::a.b.c.d/(96 + length), where MaxMind's readers look IPv4 addresses up, and, as MaxMind's own
     * databases do, ::ffff:0:0/96 is an alias of that subtree (its record points at the IPv4 root node),
     * so that IPv4-mapped IPv6 addresses find the same records. The tree is built as a DAG of Node objects
     * (the alias shares a node), numbered breadth first from the root, which must be node 0. Networks are
     * inserted shortest first: a longer network inside a shorter one splits the shorter one's record into a
     * node whose two records both point at the shorter one's data, which is how nested networks keep the
     * outer network's data around the inner one. Equal records are written once in the data section, and
     * within records a repeated key, string or map is a pointer to its first copy, as in MaxMind's own files.
     */

    private static final byte[] METADATA_MARKER = {(byte) 0xAB, (byte) 0xCD, (byte) 0xEF,
            'M', 'a', 'x', 'M', 'i', 'n', 'd', '.', 'c', 'o', 'm'};

    private final String databaseType;
    private final Map<String, Map<String, ?>> networks = new LinkedHashMap<>();
    private int recordSize = 24;
    private Instant buildEpoch = Instant.parse("2024-05-01T00:00:00Z");
    private List<String> languages = List.of("en");
    private Map<String, String> description = Map.of("en", "Portcullis test database");

    private MmdbWriter(String databaseType) {
        this.databaseType = databaseType;
    }

    /** A writer of a database of type {@code databaseType}, e.g. {@code GeoLite2-Country}. */
    public static MmdbWriter create(String databaseType) {
        return new MmdbWriter(databaseType);
    }

    /** A {@code GeoLite2-Country} database of CIDR to ISO country code. */
    public static MmdbWriter countries(Map<String, String> cidrToCountry) {
        MmdbWriter writer = create("GeoLite2-Country");
        cidrToCountry.forEach((cidr, code) -> writer.insert(cidr, countryRecord(code)));
        return writer;
    }

    /** A {@code GeoLite2-City} database of CIDR to ISO country code, with a city in each. */
    public static MmdbWriter cities(Map<String, String> cidrToCountry) {
        MmdbWriter writer = create("GeoLite2-City");
        cidrToCountry.forEach((cidr, code) -> {
            Map<String, Object> record = new LinkedHashMap<>(countryRecord(code));
            record.put("city", Map.of("geoname_id", 2_950_159L, "names", Map.of("en", "City of " + code)));
            record.put("location", Map.of("latitude", 52.5, "longitude", 13.4, "time_zone", "Europe/Berlin"));
            writer.insert(cidr, record);
        });
        return writer;
    }

    /** A {@code GeoLite2-ASN} database of CIDR to AS number; the organization is "AS" and the number. */
    public static MmdbWriter asns(Map<String, Long> cidrToAsn) {
        MmdbWriter writer = create("GeoLite2-ASN");
        cidrToAsn.forEach((cidr, asn) -> writer.insert(cidr, asnRecord(asn, "AS" + asn)));
        return writer;
    }

    /** A Country database record: continent, country and registered country, as GeoLite2 writes them. */
    public static Map<String, Object> countryRecord(String isoCode) {
        Map<String, Object> country = new LinkedHashMap<>();
        country.put("geoname_id", (long) (1000 + isoCode.hashCode() % 1000));
        country.put("is_in_european_union", "DE".equals(isoCode) || "AT".equals(isoCode));
        country.put("iso_code", isoCode);
        country.put("names", Map.of("en", "Country " + isoCode, "de", "Land " + isoCode));
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("continent", Map.of("code", "EU", "geoname_id", 6_255_148L, "names", Map.of("en", "Europe")));
        record.put("country", country);
        record.put("registered_country", country);
        return record;
    }

    /** An ASN database record. */
    public static Map<String, Object> asnRecord(long asn, String organization) {
        return Map.of("autonomous_system_number", asn, "autonomous_system_organization", organization);
    }

    /** Adds a network ({@code 81.2.69.0/24}, {@code 2a02:8000::/32}, or a bare address) and its record. */
    public MmdbWriter insert(String cidr, Map<String, ?> record) {
        networks.put(cidr, Map.copyOf(record));
        return this;
    }

    /** The search tree's record size in bits: 24 (the default), 28 or 32. */
    public MmdbWriter recordSize(int bits) {
        if (bits != 24 && bits != 28 && bits != 32) {
            throw new IllegalArgumentException(bits + " is not a record size (expected: 24, 28 or 32)");
        }
        this.recordSize = bits;
        return this;
    }

    /** The build time written to the metadata, in whole seconds. */
    public MmdbWriter buildEpoch(Instant instant) {
        this.buildEpoch = instant;
        return this;
    }

    public MmdbWriter languages(List<String> newLanguages) {
        this.languages = List.copyOf(newLanguages);
        return this;
    }

    public MmdbWriter description(Map<String, String> newDescription) {
        this.description = Map.copyOf(newDescription);
        return this;
    }

    /** Writes the database to {@code file} and returns it. */
    public Path write(Path file) {
        try {
            Files.write(file, toBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** The database file's bytes. */
    public byte[] toBytes() {
        Node root = new Node();
        List<Network> sorted = new ArrayList<>();
        networks.forEach((cidr, record) -> sorted.add(Network.parse(cidr, record)));
        sorted.sort(Comparator.comparingInt(Network::bits));
        DataSection data = new DataSection();
        for (Network network : sorted) {
            insert(root, network.address(), network.bits(), new Leaf(data.add(network.record())));
        }
        // Alias ::ffff:0:0/96 to the IPv4 subtree at ::/96.
        Node ipv4Root = nodeAt(root, new byte[16], 96);
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        Node parent = nodeAt(root, mapped, 95);
        parent.set(bit(mapped, 95), ipv4Root);

        List<Node> nodes = number(root);
        int nodeCount = nodes.size();
        long maxRecord = nodeCount + 16L + data.size();
        if (maxRecord >= (1L << recordSize)) {
            throw new IllegalStateException("the database needs records wider than " + recordSize + " bits");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Node node : nodes) {
            writeNode(out, value(node.left, nodeCount), value(node.right, nodeCount));
        }
        out.writeBytes(new byte[16]);
        out.writeBytes(data.bytes());
        out.writeBytes(METADATA_MARKER);
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("binary_format_major_version", 2);
        metadata.put("binary_format_minor_version", 0);
        metadata.put("build_epoch", BigInteger.valueOf(buildEpoch.getEpochSecond()));
        metadata.put("database_type", databaseType);
        metadata.put("description", description);
        metadata.put("ip_version", 6);
        metadata.put("languages", languages);
        metadata.put("node_count", (long) nodeCount);
        metadata.put("record_size", recordSize);
        ByteArrayOutputStream encoded = new ByteArrayOutputStream();
        encode(encoded, metadata, true);
        out.writeBytes(encoded.toByteArray());
        return out.toByteArray();
    }

    private static void insert(Node root, byte[] address, int bits, Leaf leaf) {
        if (bits == 0) {
            throw new IllegalArgumentException("a /0 network is not supported: it would replace the root node");
        }
        Node parent = nodeAt(root, address, bits - 1);
        parent.set(bit(address, bits - 1), leaf);
    }

    /** The node reached after {@code depth} bits of {@code address}, creating nodes and splitting leaves on the way. */
    private static Node nodeAt(Node root, byte[] address, int depth) {
        Node node = root;
        for (int i = 0; i < depth; i++) {
            int bit = bit(address, i);
            Object child = node.get(bit);
            Node next;
            if (child instanceof Node existing) {
                next = existing;
            } else {
                next = new Node();
                // A shorter network's data stays on both sides of the longer one being carved out of it.
                next.left = child;
                next.right = child;
                node.set(bit, next);
            }
            node = next;
        }
        return node;
    }

    private static int bit(byte[] address, int index) {
        return (address[index >>> 3] >>> (7 - (index & 7))) & 1;
    }

    private static List<Node> number(Node root) {
        IdentityHashMap<Node, Integer> seen = new IdentityHashMap<>();
        List<Node> order = new ArrayList<>();
        ArrayDeque<Node> queue = new ArrayDeque<>();
        queue.add(root);
        seen.put(root, 0);
        while (!queue.isEmpty()) {
            Node node = queue.poll();
            node.number = order.size();
            order.add(node);
            for (Object child : new Object[] {node.left, node.right}) {
                if (child instanceof Node next && !seen.containsKey(next)) {
                    seen.put(next, 0);
                    queue.add(next);
                }
            }
        }
        return order;
    }

    private static long value(Object child, int nodeCount) {
        if (child == null) {
            return nodeCount;
        }
        if (child instanceof Node node) {
            return node.number;
        }
        return nodeCount + 16L + ((Leaf) child).offset();
    }

    private void writeNode(ByteArrayOutputStream out, long left, long right) {
        switch (recordSize) {
            case 24 -> {
                writeBytes(out, left, 3);
                writeBytes(out, right, 3);
            }
            case 28 -> {
                writeBytes(out, left & 0xff_ffff, 3);
                out.write((int) (((left >>> 24) << 4) | (right >>> 24)));
                writeBytes(out, right & 0xff_ffff, 3);
            }
            default -> {
                writeBytes(out, left, 4);
                writeBytes(out, right, 4);
            }
        }
    }

    private static void writeBytes(ByteArrayOutputStream out, long value, int count) {
        for (int i = count - 1; i >= 0; i--) {
            out.write((int) (value >>> (8 * i)));
        }
    }

    /** Encodes a value in the data section format, without pointers (metadata, and records to compare). */
    private static void encode(ByteArrayOutputStream out, Object value, boolean sortKeys) {
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
            control(out, 7, map.size());
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort(Comparator.comparing(e -> (String) e.getKey()));
            }
            for (Map.Entry<?, ?> entry : entries) {
                encode(out, (String) entry.getKey(), sortKeys);
                encode(out, entry.getValue(), sortKeys);
            }
        } else if (value instanceof List<?> list) {
            control(out, 11, list.size());
            for (Object item : list) {
                encode(out, item, sortKeys);
            }
        } else {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " in a MaxMind DB");
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

    /** A search tree node; its two children are a Node, a Leaf or null (no data). */
    private static final class Node {
        Object left;
        Object right;
        int number;

        Object get(int bit) {
            return bit == 0 ? left : right;
        }

        void set(int bit, Object child) {
            if (bit == 0) {
                left = child;
            } else {
                right = child;
            }
        }
    }

    /** A record pointing into the data section. */
    private record Leaf(int offset) {
    }

    /** A network as 16 bytes and a prefix length counted over all 128 bits. */
    private record Network(byte[] address, int bits, Map<String, ?> record) {

        static Network parse(String cidr, Map<String, ?> record) {
            int slash = cidr.indexOf('/');
            String literal = slash < 0 ? cidr : cidr.substring(0, slash);
            if (literal.isEmpty() || !literal.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                // An IP literal only: InetAddress.getByName must never resolve a name here.
                throw new IllegalArgumentException("\"" + cidr + "\" is not a CIDR");
            }
            byte[] raw;
            try {
                raw = InetAddress.getByName(literal).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("\"" + cidr + "\" is not a CIDR", e);
            }
            boolean v4 = raw.length == 4;
            boolean v6Text = literal.contains(":");
            int length = slash < 0 ? (v6Text ? 128 : 32) : Integer.parseInt(cidr.substring(slash + 1));
            byte[] address = new byte[16];
            int bits;
            if (v4) {
                System.arraycopy(raw, 0, address, 12, 4);
                // "::ffff:1.2.3.0/120" (Java reads it as IPv4) goes to the IPv4 subtree as 1.2.3.0/24.
                bits = v6Text ? length : length + 96;
            } else {
                System.arraycopy(raw, 0, address, 0, 16);
                bits = length;
            }
            if (bits > 128 || (v6Text && v4 && length < 96)) {
                throw new IllegalArgumentException("\"" + cidr + "\" has an invalid prefix length");
            }
            for (int i = bits; i < 128; i++) {
                address[i >>> 3] &= (byte) ~(1 << (7 - (i & 7)));
            }
            return new Network(address, bits, record);
        }
    }

    /**
     * The data section: each distinct record once, at the offset returned by {@link #add}; as MaxMind's writer
     * does, a map key, string or map written before is written again as a pointer to its first copy.
     */
    private static final class DataSection {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Map<Key, Integer> offsets = new HashMap<>();
        private final Map<Object, Integer> written = new HashMap<>();

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

        int size() {
            return out.size();
        }

        byte[] bytes() {
            return out.toByteArray();
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
