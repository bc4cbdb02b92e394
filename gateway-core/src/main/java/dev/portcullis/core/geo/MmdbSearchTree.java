package dev.portcullis.core.geo;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The binary search tree of a MaxMind DB file being written for {@link MmdbWriter}, and its serialization with
 * 24, 28 or 32 bit records.
 */
final class MmdbSearchTree {

    /*
     * Implementation notes: the search tree is an IPv6 tree (ip_version 6). IPv4 networks are inserted
     * at ::a.b.c.d/(96 + length), where MaxMind's readers look IPv4 addresses up, and, as MaxMind's own
     * databases do, ::ffff:0:0/96 is an alias of that subtree (its record points at the IPv4 root node),
     * so that IPv4-mapped IPv6 addresses find the same records. The tree is built as a DAG of Node objects
     * (the alias shares a node), numbered breadth first from the root, which must be node 0. Networks are
     * inserted shortest first: a longer network inside a shorter one splits the shorter one's record into a
     * node whose two records both point at the shorter one's data, which is how nested networks keep the
     * outer network's data around the inner one.
     */

    private final List<Node> nodes;

    private MmdbSearchTree(List<Node> nodes) {
        this.nodes = nodes;
    }

    /**
     * The tree of {@code networks} (CIDR to record), whose records point at the data section offsets that
     * {@code dataOffset} returns; it is called once per network, shortest network first.
     */
    static MmdbSearchTree build(Map<String, Map<String, ?>> networks, ToIntFunction<Map<String, ?>> dataOffset) {
        List<Network> sorted = new ArrayList<>();
        networks.forEach((cidr, record) -> sorted.add(Network.parse(cidr, record)));
        sorted.sort(Comparator.comparingInt(Network::bits));
        Node root = new Node();
        for (Network network : sorted) {
            insert(root, network.address(), network.bits(), new Leaf(dataOffset.applyAsInt(network.record())));
        }
        // Alias ::ffff:0:0/96 to the IPv4 subtree at ::/96.
        Node ipv4Root = nodeAt(root, new byte[16], 96);
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        Node parent = nodeAt(root, mapped, 95);
        parent.set(bit(mapped, 95), ipv4Root);
        return new MmdbSearchTree(number(root));
    }

    /** The number of nodes, as the metadata's {@code node_count}. */
    int nodeCount() {
        return nodes.size();
    }

    /**
     * Writes the nodes with {@code recordSize} bit records, in front of a data section of {@code dataSize} bytes.
     *
     * @throws IllegalStateException if a record pointing at the end of the data section would not fit in
     *     {@code recordSize} bits
     */
    void write(ByteArrayOutputStream out, int recordSize, int dataSize) {
        int nodeCount = nodes.size();
        long maxRecord = nodeCount + 16L + dataSize;
        if (maxRecord >= (1L << recordSize)) {
            throw new IllegalStateException("the database needs records wider than " + recordSize + " bits");
        }
        for (Node node : nodes) {
            writeNode(out, recordSize, value(node.left, nodeCount), value(node.right, nodeCount));
        }
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

    /** The nodes reachable from {@code root}, each once, numbered breadth first. */
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

    /** A record's value: a node number, {@code nodeCount} for no data, or past the 16 byte data section separator. */
    private static long value(Object child, int nodeCount) {
        if (child == null) {
            return nodeCount;
        }
        if (child instanceof Node node) {
            return node.number;
        }
        return nodeCount + 16L + ((Leaf) child).offset();
    }

    private static void writeNode(ByteArrayOutputStream out, int recordSize, long left, long right) {
        switch (recordSize) {
            case 24 -> {
                MmdbDataEncoder.writeBytes(out, left, 3);
                MmdbDataEncoder.writeBytes(out, right, 3);
            }
            case 28 -> {
                MmdbDataEncoder.writeBytes(out, left & 0xff_ffff, 3);
                out.write((int) (((left >>> 24) << 4) | (right >>> 24)));
                MmdbDataEncoder.writeBytes(out, right & 0xff_ffff, 3);
            }
            default -> {
                MmdbDataEncoder.writeBytes(out, left, 4);
                MmdbDataEncoder.writeBytes(out, right, 4);
            }
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
}
