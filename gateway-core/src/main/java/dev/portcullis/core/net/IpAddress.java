package dev.portcullis.core.net;

import org.jspecify.annotations.Nullable;

/**
 * An immutable IPv4 or IPv6 address held as one 128-bit value, IPv4 as IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}).
 */
public final class IpAddress implements Comparable<IpAddress> {

    /*
     * Implementation notes: the parser reads literals only and never resolves names. It accepts
     * the dotted quad (four decimal parts 0..255, no leading zeros, since "010" reads as octal
     * in inet_aton and would name a different host) and every RFC 4291 text form of IPv6:
     * full, "::"-compressed, and with a trailing embedded dotted quad. Zones ("%eth0") and
     * brackets are rejected: brackets belong to the URI or header syntax, not the address.
     */

    private static final long MAPPED_PREFIX = 0x0000_ffff_0000_0000L;

    private final long high;
    private final long low;

    private IpAddress(long high, long low) {
        this.high = high;
        this.low = low;
    }

    /** Parses an IPv4 dotted quad or an IPv6 literal without brackets or zone. */
    public static IpAddress parse(String literal) {
        IpAddress address = parseOrNull(literal, 0, literal.length());
        if (address == null) {
            throw new IllegalArgumentException("\"" + literal + "\" is not a valid IP address");
        }
        return address;
    }

    /** Parses {@code s[start, end)} like {@link #parse}, returning null instead of throwing. */
    public static @Nullable IpAddress parseOrNull(CharSequence s, int start, int end) {
        if (start < 0 || end > s.length() || start >= end) {
            return null;
        }
        for (int i = start; i < end; i++) {
            if (s.charAt(i) == ':') {
                return parseIPv6(s, start, end);
            }
        }
        long v4 = parseIPv4(s, start, end);
        return v4 < 0 ? null : new IpAddress(0, MAPPED_PREFIX | v4);
    }

    /** Creates an address from the 4 or 16 bytes of {@link java.net.InetAddress#getAddress()}. */
    public static IpAddress fromBytes(byte[] address) {
        if (address.length == 4) {
            return new IpAddress(0, MAPPED_PREFIX | (readLong(address, 0, 4) & 0xffff_ffffL));
        }
        if (address.length == 16) {
            return new IpAddress(readLong(address, 0, 8), readLong(address, 8, 8));
        }
        throw new IllegalArgumentException(
                "byte array of length " + address.length + " is not a valid IP address (expected: 4 or 16 bytes)");
    }

    static IpAddress of(long high, long low) {
        return new IpAddress(high, low);
    }

    /** True for IPv4 addresses, which are stored IPv4-mapped, and so also for IPv4-mapped IPv6 literals. */
    public boolean isIPv4() {
        return high == 0 && (low & 0xffff_ffff_0000_0000L) == MAPPED_PREFIX;
    }

    /** The upper 64 bits of the 128-bit value. */
    public long high() {
        return high;
    }

    /** The lower 64 bits of the 128-bit value. */
    public long low() {
        return low;
    }

    @Override
    public int compareTo(IpAddress other) {
        int c = Long.compareUnsigned(high, other.high);
        return c != 0 ? c : Long.compareUnsigned(low, other.low);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof IpAddress other && high == other.high && low == other.low;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(high) * 31 + Long.hashCode(low);
    }

    /** The dotted quad for IPv4 (and IPv4-mapped) addresses, else the RFC 5952 form. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(39);
        if (isIPv4()) {
            return appendIPv4(sb, (int) low).toString();
        }
        // RFC 5952: lower-case hex without leading zeros; "::" replaces the first longest run of
        // two or more zero groups.
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && group(j) == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(group(i)));
        }
        return sb.toString();
    }

    private int group(int index) {
        long word = index < 4 ? high : low;
        return (int) (word >>> (16 * (3 - (index & 3)))) & 0xffff;
    }

    static StringBuilder appendIPv4(StringBuilder sb, int v4) {
        return sb.append(v4 >>> 24).append('.').append((v4 >>> 16) & 0xff).append('.')
                .append((v4 >>> 8) & 0xff).append('.').append(v4 & 0xff);
    }

    private static long readLong(byte[] bytes, int offset, int length) {
        long value = 0;
        for (int i = offset; i < offset + length; i++) {
            value = (value << 8) | (bytes[i] & 0xff);
        }
        return value;
    }

    /** Returns the address as an unsigned 32-bit value, or -1. */
    private static long parseIPv4(CharSequence s, int start, int end) {
        long value = 0;
        int parts = 0;
        int i = start;
        while (true) {
            int digitsStart = i;
            int part = 0;
            while (i < end && i - digitsStart < 4) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    break;
                }
                part = part * 10 + (c - '0');
                i++;
            }
            int digits = i - digitsStart;
            if (digits == 0 || digits > 3 || part > 255 || (digits > 1 && s.charAt(digitsStart) == '0')) {
                return -1;
            }
            value = (value << 8) | part;
            parts++;
            if (i == end) {
                return parts == 4 ? value : -1;
            }
            if (parts == 4 || s.charAt(i) != '.') {
                return -1;
            }
            i++;
        }
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        char lower = (char) (c | 0x20);
        return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
    }

    private static @Nullable IpAddress parseIPv6(CharSequence s, int start, int end) {
        // Groups are shifted into (hi, lo); at "::" the groups so far move to (headHi, headLo) and
        // counting restarts, so that the head can be shifted into place once the tail is known.
        long hi = 0;
        long lo = 0;
        int groups = 0;
        long headHi = 0;
        long headLo = 0;
        int headGroups = -1;
        int i = start;
        if (s.charAt(i) == ':') {
            if (i + 1 >= end || s.charAt(i + 1) != ':') {
                return null;
            }
            headGroups = 0;
            i += 2;
        }
        while (i < end) {
            int groupStart = i;
            int group = 0;
            while (i < end && i - groupStart < 5) {
                int digit = hexDigit(s.charAt(i));
                if (digit < 0) {
                    break;
                }
                group = (group << 4) | digit;
                i++;
            }
            if (i < end && s.charAt(i) == '.') {
                long v4 = parseIPv4(s, groupStart, end);
                if (v4 < 0) {
                    return null;
                }
                hi = (hi << 32) | (lo >>> 32);
                lo = (lo << 32) | v4;
                groups += 2;
                i = end;
                break;
            }
            if (i == groupStart || i - groupStart > 4) {
                return null;
            }
            hi = (hi << 16) | (lo >>> 48);
            lo = (lo << 16) | group;
            groups++;
            if (i == end) {
                break;
            }
            if (s.charAt(i) != ':') {
                return null;
            }
            i++;
            if (i < end && s.charAt(i) == ':') {
                if (headGroups >= 0) {
                    return null;
                }
                headHi = hi;
                headLo = lo;
                headGroups = groups;
                hi = 0;
                lo = 0;
                groups = 0;
                i++;
            } else if (i == end) {
                return null;
            }
        }
        if (headGroups < 0) {
            return groups == 8 ? new IpAddress(hi, lo) : null;
        }
        if (headGroups + groups > 7) {
            return null;
        }
        int shift = 16 * (8 - headGroups);
        long shiftedHi;
        long shiftedLo;
        if (shift >= 128) {
            shiftedHi = 0;
            shiftedLo = 0;
        } else if (shift >= 64) {
            shiftedHi = headLo << (shift - 64);
            shiftedLo = 0;
        } else {
            shiftedHi = (headHi << shift) | (headLo >>> (64 - shift));
            shiftedLo = headLo << shift;
        }
        return new IpAddress(shiftedHi | hi, shiftedLo | lo);
    }
}
