package dev.portcullis.core.net;

import java.math.BigInteger;

/**
 * A deliberately naive reference for CIDR membership: every address as a 128-bit number in the IPv6 space, IPv4 as
 * its IPv4-mapped form ({@code ::ffff:a.b.c.d}), compared by shifting away the host bits.
 *
 * @param network the network address's raw bytes (4 or 16)
 * @param prefixLength the prefix length as written for that family
 */
record NaiveCidr(byte[] network, int prefixLength) {

    private static final BigInteger MAPPED = BigInteger.valueOf(0xFFFFL).shiftLeft(32);

    /** The 128-bit value of a 4- or 16-byte address. */
    static BigInteger value(byte[] address) {
        BigInteger v = new BigInteger(1, address);
        return address.length == 4 ? MAPPED.or(v) : v;
    }

    /** Whether the address is IPv4 or IPv4-mapped IPv6. */
    static boolean isV4(byte[] address) {
        return address.length == 4 || value(address).shiftRight(32).equals(BigInteger.valueOf(0xFFFFL));
    }

    boolean contains(byte[] address) {
        int bits = isV4(network) ? prefixLength + 96 : prefixLength;
        int shift = 128 - bits;
        return value(network).shiftRight(shift).equals(value(address).shiftRight(shift));
    }
}
