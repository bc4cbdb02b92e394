package dev.portcullis.core.geo;

import dev.portcullis.core.net.IpAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/**
 * The search tree of a memory-mapped MaxMind DB file, walked in place, and the answer (an int) for each distinct data
 * record the tree points at, decoded once when the index is built: a lookup is a tree walk and a table lookup, and
 * allocates nothing.
 */
final class MmdbIndex {

    /*
     * Implementation notes (MaxMind DB File Format Specification 2.0): the file starts with the
     * search tree, node_count nodes of two records of record_size bits (24, 28 or 32); a record
     * below node_count is the next node, equal to it "no data", above it a pointer into the data
     * section, which starts 16 bytes (the separator) after the tree. An address is looked up by
     * walking its bits from the most significant, 0 the left record, 1 the right one, until a
     * record is not a node. IPv4 addresses in an IPv6 tree are walked from the node reached by 96
     * zero bits (::a.b.c.d), computed once, as MaxMind's Reader does; IPv4-mapped addresses are
     * IPv4 addresses here (IpAddress), as in MaxMindGeoLookup, so the ::ffff:0:0/96 subtree is
     * never walked. The first 16 bits of either family are walked once, when the index is built,
     * into a table of 65,536 records each (256 KiB), so that a lookup starts 16 levels down; each
     * record is one four-byte read of the mapped tree.
     *
     * The answers are not decoded by our own reading of the data section but by the caller's
     * decoder, given for each distinct data record an address whose walk ends at it (found by a
     * depth-first walk of the whole tree, each node visited once, skipping ::ffff:0:0/96): with
     * MaxMind's Reader as that decoder, the answers are the Reader's by construction, including
     * its handling of unexpected types. Building therefore costs a walk of every node and one
     * Reader lookup per distinct record (a few hundred in a Country database, more in a City
     * one), once per (re)load, off the event loops.
     */

    /** How the answer of a data record is decoded, from an address whose lookup ends at that record. */
    @FunctionalInterface
    interface Decoder {
        int decode(InetAddress representative) throws IOException;
    }

    private static final int SEPARATOR = 16;

    private final ByteBuffer tree;
    private final long nodeCount;
    private final int recordSize;
    private final boolean ipv6;
    private final long ipv4Start;
    private final int[] keys;
    private final int[] answers;
    private final int mask;
    /** The record reached by the first 16 bits of an IPv4 address, and of an IPv6 one, walked once (as ints). */
    private final int[] ipv4Jump;
    private final int[] ipv6Jump;

    private MmdbIndex(ByteBuffer tree, long nodeCount, int recordSize, boolean ipv6, int[] keys, int[] answers,
            boolean jumpTables) {
        this.tree = tree;
        this.nodeCount = nodeCount;
        this.recordSize = recordSize;
        this.ipv6 = ipv6;
        this.keys = keys;
        this.answers = answers;
        this.mask = keys.length - 1;
        long node = 0;
        for (int i = 0; ipv6 && i < 96 && node < nodeCount; i++) {
            node = record(node, 0);
        }
        this.ipv4Start = node;
        this.ipv4Jump = new int[jumpTables ? 1 << 16 : 0];
        this.ipv6Jump = new int[jumpTables && ipv6 ? 1 << 16 : 0];
        if (jumpTables) {
            for (int prefix = 0; prefix < 1 << 16; prefix++) {
                ipv4Jump[prefix] = (int) walk16(ipv4Start, prefix);
                if (ipv6) {
                    ipv6Jump[prefix] = (int) walk16(0, prefix);
                }
            }
        }
    }

    /**
     * Maps {@code file} and decodes the answer of each of its distinct data records with {@code decoder}.
     *
     * @param nodeCount, recordSize, ipVersion the file's metadata, as MaxMind's Reader read it
     * @throws IOException when the file cannot be mapped, or its tree is not valid for the metadata
     */
    static MmdbIndex build(Path file, long nodeCount, int recordSize, int ipVersion, Decoder decoder)
            throws IOException {
        if (recordSize != 24 && recordSize != 28 && recordSize != 32) {
            throw new IOException("record size " + recordSize + " (expected: 24, 28 or 32)");
        }
        long treeBytes = nodeCount * recordSize / 4;
        if (nodeCount <= 0 || treeBytes > Integer.MAX_VALUE) {
            throw new IOException("node count " + nodeCount + " (expected: 1 to a search tree of 2 GiB)");
        }
        ByteBuffer tree;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() < treeBytes + SEPARATOR) {
                throw new IOException("a search tree of " + treeBytes + " bytes in a file of " + channel.size());
            }
            tree = channel.map(FileChannel.MapMode.READ_ONLY, 0, treeBytes);
        }
        MmdbIndex walker = new MmdbIndex(tree, nodeCount, recordSize, ipVersion == 6, new int[1], new int[1], false);
        return walker.withAnswers(decoder);
    }

    /** Walks every node once, depth first, and decodes each distinct data record once. */
    private MmdbIndex withAnswers(Decoder decoder) throws IOException {
        int bits = ipv6 ? 128 : 32;
        IntTable table = new IntTable();
        BitSet visited = new BitSet((int) nodeCount);    // sized once: growing it by copies cost 9 % of a load
        long[] nodes = new long[2 * bits + 2];
        int[] depths = new int[nodes.length];
        long[] highs = new long[nodes.length];
        long[] lows = new long[nodes.length];
        int top = 0;
        nodes[0] = 0;
        top = 1;
        while (top > 0) {
            top--;
            long node = nodes[top];
            int depth = depths[top];
            long high = highs[top];
            long low = lows[top];
            if (ipv6 && depth == 96 && high == 0 && low == 0xffff_0000_0000L || visited.get((int) node)) {
                continue;
            }
            visited.set((int) node);
            if (depth >= bits) {
                throw new IOException("a search tree deeper than " + bits + " bits");
            }
            for (int bit = 1; bit >= 0; bit--) {
                long next = record(node, bit);
                long childHigh = high;
                long childLow = low;
                if (bit == 1) {
                    int position = bits - 1 - depth;
                    if (ipv6 && position >= 64) {
                        childHigh |= 1L << (position - 64);
                    } else {
                        childLow |= 1L << position;
                    }
                }
                if (next < nodeCount) {
                    nodes[top] = next;
                    depths[top] = depth + 1;
                    highs[top] = childHigh;
                    lows[top] = childLow;
                    top++;
                } else if (next > nodeCount && !table.contains((int) next)) {
                    table.put((int) next, decoder.decode(address(childHigh, childLow)));
                }
            }
        }
        return new MmdbIndex(tree, nodeCount, recordSize, ipv6, table.keys(), table.values(), true);
    }

    private InetAddress address(long high, long low) throws UnknownHostException {
        if (!ipv6) {
            return InetAddress.getByAddress(new byte[] {(byte) (low >>> 24), (byte) (low >>> 16), (byte) (low >>> 8),
                    (byte) low});
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (high >>> (56 - 8 * i));
            bytes[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return InetAddress.getByAddress(bytes);
    }

    /** Record {@code bit} (0 left, 1 right) of {@code node}: one four-byte read, within the node's bytes. */
    private long record(long node, int bit) {
        switch (recordSize) {
            case 24 -> {
                int offset = (int) (node * 6);
                return bit == 0 ? tree.getInt(offset) >>> 8 : tree.getInt(offset + 2) & 0xFF_FFFFL;
            }
            case 28 -> {
                int offset = (int) (node * 7);
                if (bit == 0) {
                    int bytes = tree.getInt(offset);
                    return (bytes >>> 8) | (long) (bytes & 0xF0) << 20;
                }
                return tree.getInt(offset + 3) & 0x0FFF_FFFFL;
            }
            default -> {
                return tree.getInt((int) (node * 8) + bit * 4) & 0xFFFF_FFFFL;
            }
        }
    }

    /** The record reached from {@code node} by the 16 bits of {@code prefix}, from the most significant: a node or not. */
    private long walk16(long node, int prefix) {
        for (int i = 15; i >= 0 && node < nodeCount; i--) {
            node = record(node, prefix >>> i & 1);
        }
        return node;
    }

    /** The answer of the record {@code address} is in, or {@code unknown} when the tree has no data for it. */
    int answer(IpAddress address, int unknown) {
        long node;
        int bits;
        long high = address.high();
        long low = address.low();
        if (address.isIPv4()) {
            node = ipv4Jump[(int) (low >>> 16) & 0xFFFF] & 0xFFFF_FFFFL;
            bits = 16;
        } else if (ipv6) {
            node = ipv6Jump[(int) (high >>> 48)] & 0xFFFF_FFFFL;
            bits = 112;
        } else {
            return unknown;
        }
        for (int i = bits - 1; i >= 0 && node < nodeCount; i--) {
            long bit = i >= 64 ? high >>> (i - 64) : low >>> i;
            node = record(node, (int) bit & 1);
        }
        if (node <= nodeCount) {
            return unknown;
        }
        int key = (int) node;
        for (int slot = mix(key) & mask; keys[slot] != 0; slot = (slot + 1) & mask) {
            if (keys[slot] == key) {
                return answers[slot];
            }
        }
        return unknown;
    }

    /** The number of distinct data records the tree points at. */
    int records() {
        int count = 0;
        for (int key : keys) {
            count += key != 0 ? 1 : 0;
        }
        return count;
    }

    private static int mix(int key) {
        int h = key * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** An open-addressing table of int keys (never 0: a data record is above node_count) to int answers. */
    private static final class IntTable {
        private int[] keys = new int[16];
        private int[] values = new int[16];
        private int size;

        boolean contains(int key) {
            for (int slot = mix(key) & (keys.length - 1); keys[slot] != 0; slot = (slot + 1) & (keys.length - 1)) {
                if (keys[slot] == key) {
                    return true;
                }
            }
            return false;
        }

        void put(int key, int value) {
            if (2 * (size + 1) > keys.length) {
                int[] oldKeys = keys;
                int[] oldValues = values;
                keys = new int[oldKeys.length * 2];
                values = new int[oldKeys.length * 2];
                size = 0;
                for (int i = 0; i < oldKeys.length; i++) {
                    if (oldKeys[i] != 0) {
                        put(oldKeys[i], oldValues[i]);
                    }
                }
            }
            int slot = mix(key) & (keys.length - 1);
            while (keys[slot] != 0) {
                slot = (slot + 1) & (keys.length - 1);
            }
            keys[slot] = key;
            values[slot] = value;
            size++;
        }

        int[] keys() {
            return keys;
        }

        int[] values() {
            return values;
        }
    }
}
