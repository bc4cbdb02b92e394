package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.RuleIndexBuilder.set;

import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The client-IP dimension of a {@link RuleIndex}: the intervals into which the boundaries of the indexed networks split
 * the 128-bit address space, each with the mask of the rules whose networks cover it.
 */
final class IpRangeMasks {

    /*
     * Implementation notes: the intervals come from a sweep over the networks' start and end+1
     * events, sorted as unsigned 128-bit addresses; an interval starts only where the mask
     * changes, and the addresses before the first one are those of the rules without an ip
     * condition (other). Equal masks share one array. A lookup is one binary search over the
     * interval starts and allocates nothing.
     */

    private final long[] startHigh;
    private final long[] startLow;
    private final long[][] masks;
    private final long[] other;

    private IpRangeMasks(long[] startHigh, long[] startLow, long[][] masks, long[] other) {
        this.startHigh = startHigh;
        this.startLow = startLow;
        this.masks = masks;
        this.other = other;
    }

    /**
     * The index over the rules' ip conditions, one per rule in rule order: the rule's first top-level
     * {@link IpMatcher}, or null when it has none (the rule is then unconstrained by the client IP).
     */
    static IpRangeMasks of(List<@Nullable IpMatcher> conditions, int words) {
        long[] other = new long[words];
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < conditions.size(); i++) {
            IpMatcher ip = conditions.get(i);
            if (ip == null) {
                set(other, i);
                continue;
            }
            for (Cidr cidr : ip.cidrs().cidrs()) {
                events.add(new Event(cidr.network().high(), cidr.network().low(), i, 1));
                long endLow = cidr.lastLow() + 1;
                long endHigh = endLow == 0 ? cidr.lastHigh() + 1 : cidr.lastHigh();
                if (!(cidr.lastHigh() == -1L && cidr.lastLow() == -1L)) {
                    events.add(new Event(endHigh, endLow, i, -1));
                }
            }
        }
        events.sort(Comparator.<Event>comparingLong(e -> e.high ^ Long.MIN_VALUE)
                .thenComparingLong(e -> e.low ^ Long.MIN_VALUE));
        return sweep(events, other, conditions.size());
    }

    private static IpRangeMasks sweep(List<Event> events, long[] other, int rules) {
        List<long[]> bounds = new ArrayList<>();
        List<long[]> masks = new ArrayList<>();
        Map<List<Long>, long[]> distinct = new HashMap<>();
        int[] cover = new int[rules];
        long[] current = other.clone();
        for (int e = 0; e < events.size(); ) {
            Event at = events.get(e);
            while (e < events.size() && events.get(e).high == at.high && events.get(e).low == at.low) {
                Event event = events.get(e++);
                cover[event.rule] += event.delta;
                if (cover[event.rule] > 0) {
                    set(current, event.rule);
                } else {
                    current[event.rule >>> 6] &= ~(1L << event.rule);
                }
            }
            if (!masks.isEmpty() && Arrays.equals(masks.get(masks.size() - 1), current)) {
                continue;
            }
            if (masks.isEmpty() && Arrays.equals(other, current)) {
                continue;
            }
            long[] mask = distinct.computeIfAbsent(key(current), k -> current.clone());
            bounds.add(new long[] {at.high, at.low});
            masks.add(mask);
        }
        long[] high = new long[bounds.size()];
        long[] low = new long[bounds.size()];
        for (int b = 0; b < bounds.size(); b++) {
            high[b] = bounds.get(b)[0];
            low[b] = bounds.get(b)[1];
        }
        return new IpRangeMasks(high, low, masks.toArray(long[][]::new), other);
    }

    private record Event(long high, long low, int rule, int delta) {}

    private static List<Long> key(long[] mask) {
        List<Long> key = new ArrayList<>(mask.length);
        for (long word : mask) {
            key.add(word);
        }
        return key;
    }

    /** The rules whose ip condition admits {@code address}. */
    long[] get(IpAddress address) {
        long high = address.high();
        long low = address.low();
        int lo = 0;
        int hi = startHigh.length - 1;
        int candidate = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(startHigh[mid], high);
            if (c < 0 || c == 0 && Long.compareUnsigned(startLow[mid], low) <= 0) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return candidate < 0 ? other : masks[candidate];
    }
}
