package dev.portcullis.core.net;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable set of CIDR networks, held as sorted, merged 128-bit address ranges searched in O(log n).
 */
public final class CidrSet {

    /*
     * Implementation notes: each network becomes the inclusive range [first, last] of 128-bit
     * values, compared unsigned. Ranges are sorted by first address and overlapping or adjacent
     * ones merged, so they are disjoint and ascending, and contains() is a binary search for the
     * last range starting at or below the address. IPv4 networks are ranges inside ::ffff:0:0/96,
     * which is why 0.0.0.0/0 covers every IPv4 address and no native IPv6 one.
     */

    /** The set containing no address. */
    public static final CidrSet EMPTY = new CidrSet(List.of(), new long[0], new long[0], new long[0], new long[0]);

    private final List<Cidr> cidrs;
    private final long[] firstHigh;
    private final long[] firstLow;
    private final long[] lastHigh;
    private final long[] lastLow;

    private CidrSet(List<Cidr> cidrs, long[] firstHigh, long[] firstLow, long[] lastHigh, long[] lastLow) {
        this.cidrs = cidrs;
        this.firstHigh = firstHigh;
        this.firstLow = firstLow;
        this.lastHigh = lastHigh;
        this.lastLow = lastLow;
    }

    /** A set of the given networks, in any order, overlapping or not. */
    public static CidrSet of(Collection<Cidr> cidrs) {
        List<Cidr> copy = List.copyOf(cidrs);
        if (copy.isEmpty()) {
            return EMPTY;
        }
        List<Cidr> sorted = new ArrayList<>(copy);
        sorted.sort(Comparator.comparing(Cidr::network));
        int n = 0;
        long[] fh = new long[sorted.size()];
        long[] fl = new long[sorted.size()];
        long[] lh = new long[sorted.size()];
        long[] ll = new long[sorted.size()];
        for (Cidr cidr : sorted) {
            long startHigh = cidr.network().high();
            long startLow = cidr.network().low();
            if (n > 0 && reachesOrAdjoins(lh[n - 1], ll[n - 1], startHigh, startLow)) {
                if (compare(cidr.lastHigh(), cidr.lastLow(), lh[n - 1], ll[n - 1]) > 0) {
                    lh[n - 1] = cidr.lastHigh();
                    ll[n - 1] = cidr.lastLow();
                }
                continue;
            }
            fh[n] = startHigh;
            fl[n] = startLow;
            lh[n] = cidr.lastHigh();
            ll[n] = cidr.lastLow();
            n++;
        }
        return new CidrSet(
                copy, Arrays.copyOf(fh, n), Arrays.copyOf(fl, n), Arrays.copyOf(lh, n), Arrays.copyOf(ll, n));
    }

    /** Whether a range ending at (lastHigh, lastLow) overlaps or touches one starting at (high, low). */
    private static boolean reachesOrAdjoins(long lastHigh, long lastLow, long high, long low) {
        if (lastHigh == -1L && lastLow == -1L) {
            return true;
        }
        long nextLow = lastLow + 1;
        long nextHigh = nextLow == 0 ? lastHigh + 1 : lastHigh;
        return compare(high, low, nextHigh, nextLow) <= 0;
    }

    private static int compare(long aHigh, long aLow, long bHigh, long bLow) {
        int c = Long.compareUnsigned(aHigh, bHigh);
        return c != 0 ? c : Long.compareUnsigned(aLow, bLow);
    }

    /** Whether any network of the set contains {@code address}; allocation-free. */
    public boolean contains(IpAddress address) {
        long high = address.high();
        long low = address.low();
        int lo = 0;
        int hi = firstHigh.length - 1;
        int candidate = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (compare(firstHigh[mid], firstLow[mid], high, low) <= 0) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return candidate >= 0 && compare(high, low, lastHigh[candidate], lastLow[candidate]) <= 0;
    }

    /** The number of networks given to {@link #of}, before merging. */
    public int size() {
        return cidrs.size();
    }

    /** The networks given to {@link #of}, in the order given. */
    public List<Cidr> cidrs() {
        return cidrs;
    }

    /** The number of disjoint ranges after merging. */
    int rangeCount() {
        return firstHigh.length;
    }

    @Override
    public String toString() {
        return cidrs.toString();
    }
}
