package dev.portcullis.core.net;

/**
 * An IPv4 or IPv6 network given by its first address and a prefix length counted in its own family.
 *
 * <p>An IPv4 network ({@link IpAddress#isIPv4()}) has a prefix of 0..32 and covers IPv4-mapped
 * addresses only; an IPv6 network has a prefix of 0..128. {@code ::ffff:10.0.0.0/104} is the same
 * network as {@code 10.0.0.0/8}, and is normalized to it. Host bits are cleared, as nginx and Envoy do.
 */
public record Cidr(IpAddress network, int prefixLength) {

    private static final String EXPECTED_FORM =
            " (expected: IPv4 or IPv6 address with optional /prefix, e.g. 10.0.0.0/8)";

    /** Validates the prefix length against the family of {@code network} and clears the host bits. */
    public Cidr {
        int max = network.isIPv4() ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("\"" + prefixLength + "\" is not a valid prefix length for "
                    + network + " (expected: 0.." + max + ")");
        }
        // Masking never changes the family: an IPv4 network keeps its top 96 bits, and clearing bits
        // of an IPv6 address that is not IPv4-mapped cannot produce the ::ffff: marker.
        int bits = network.isIPv4() ? prefixLength + 96 : prefixLength;
        network = IpAddress.of(network.high() & highMask(bits), network.low() & lowMask(bits));
    }

    /** Parses {@code "10.0.0.0/8"}, {@code "2001:db8::/32"}, or a bare address as a /32 or /128 network. */
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        int addressEnd = slash < 0 ? text.length() : slash;
        IpAddress address = IpAddress.parseOrNull(text, 0, addressEnd);
        if (address == null) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid CIDR" + EXPECTED_FORM);
        }
        boolean v6Text = text.lastIndexOf(':', addressEnd) >= 0;
        int max = v6Text ? 128 : 32;
        if (slash < 0) {
            return v6Text ? ofBits(address, 128) : new Cidr(address, 32);
        }
        int prefix = 0;
        int digits = text.length() - slash - 1;
        if (digits == 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid CIDR" + EXPECTED_FORM);
        }
        for (int i = slash + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("\"" + text + "\" is not a valid CIDR" + EXPECTED_FORM);
            }
            prefix = Math.min(prefix * 10 + (c - '0'), 1000);
        }
        if (prefix > max || (digits > 1 && text.charAt(slash + 1) == '0')) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid CIDR (expected: "
                    + (v6Text ? "IPv6 prefix length 0..128)" : "IPv4 prefix length 0..32)"));
        }
        return v6Text ? ofBits(address, prefix) : new Cidr(address, prefix);
    }

    /** A network given by a prefix counted over all 128 bits, normalized to IPv4 where it is one. */
    private static Cidr ofBits(IpAddress address, int bits) {
        IpAddress masked = IpAddress.of(address.high() & highMask(bits), address.low() & lowMask(bits));
        return masked.isIPv4() && bits >= 96 ? new Cidr(masked, bits - 96) : new Cidr(masked, bits);
    }

    /** Whether {@code address} lies in this network. */
    public boolean contains(IpAddress address) {
        int bits = bits();
        return (address.high() & highMask(bits)) == network.high()
                && (address.low() & lowMask(bits)) == network.low();
    }

    /** The prefix length counted over all 128 bits. */
    int bits() {
        return network.isIPv4() ? prefixLength + 96 : prefixLength;
    }

    /** The last address of the network, upper half. */
    public long lastHigh() {
        return network.high() | ~highMask(bits());
    }

    /** The last address of the network, lower half. */
    public long lastLow() {
        return network.low() | ~lowMask(bits());
    }

    static long highMask(int bits) {
        return bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
    }

    static long lowMask(int bits) {
        return bits <= 64 ? 0 : -1L << (128 - bits);
    }

    /** {@code 10.0.0.0/8} or {@code 2001:db8::/32}. */
    @Override
    public String toString() {
        return network + "/" + prefixLength;
    }
}
