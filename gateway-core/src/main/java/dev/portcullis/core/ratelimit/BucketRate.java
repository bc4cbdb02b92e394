package dev.portcullis.core.ratelimit;

import java.time.Duration;

/**
 * The integer arithmetic of one token bucket: time counted in {@code unitNanos} units and scaled so that both the
 * refill ({@code limit / per}) and a token's cost are whole numbers, which makes fractional refill exact.
 *
 * @param unitNanos the time unit in nanoseconds: 1 unless the bucket is too large to count in nanoseconds
 * @param refill scaled units a time unit refills ({@code limit / g})
 * @param cost scaled units one token costs ({@code perUnits / g})
 * @param capacity scaled units a full bucket holds ({@code (limit + burst) * cost})
 */
public record BucketRate(long unitNanos, long refill, long cost, long capacity) {

    /*
     * Implementation notes: with g = gcd(limit, per in units), one time unit refills limit/g scaled
     * units and one token costs per/g of them, so "limit tokens per per" holds exactly, whatever the
     * fraction per/limit. The capacity is kept below 2^61 so that sums of a few of these values
     * never overflow; a bucket that does not fit in nanoseconds is counted in microseconds, then
     * milliseconds, then seconds (when per is a whole number of them), which only matters for
     * absurd limits such as a million per year.
     */

    private static final long MAX_CAPACITY = 1L << 61;
    /** A shared store's script counts in Lua numbers (doubles): every value stays below 2^52 there. */
    private static final long MAX_STORE_CAPACITY = 1L << 52;
    private static final long[] UNITS = {1L, 1_000L, 1_000_000L, 1_000_000_000L};
    private static final long[] STORE_UNITS = {1_000L, 1_000_000L, 1_000_000_000L};

    /** The arithmetic for {@code limit + burst} tokens refilled at {@code limit} per {@code per}. */
    static BucketRate of(long limit, long burst, Duration per) {
        return of(limit, burst, per, UNITS, MAX_CAPACITY);
    }

    /**
     * The same bucket for a shared store, whose clock ticks in microseconds and whose arithmetic is exact only
     * below 2^53: the unit is at least a microsecond and the capacity below 2^52.
     */
    static BucketRate forStore(long limit, long burst, Duration per) {
        return of(limit, burst, per, STORE_UNITS, MAX_STORE_CAPACITY);
    }

    private static BucketRate of(long limit, long burst, Duration per, long[] units, long maxCapacity) {
        long capacity;
        long perNanos;
        try {
            capacity = Math.addExact(limit, burst);
            perNanos = per.toNanos();
        } catch (ArithmeticException e) {
            throw tooLarge(limit, burst, per);
        }
        for (long unit : units) {
            if (perNanos % unit != 0) {
                break;
            }
            long perUnits = perNanos / unit;
            long g = gcd(limit, perUnits);
            long cost = perUnits / g;
            if (Math.multiplyHigh(capacity, cost) == 0 && capacity * cost >= 0 && capacity * cost < maxCapacity) {
                return new BucketRate(unit, limit / g, cost, capacity * cost);
            }
        }
        throw tooLarge(limit, burst, per);
    }

    /** How long an untouched bucket takes to fill up from empty, in nanoseconds (saturated). */
    public long nanosToFill() {
        long units = ceilDiv(capacity, refill);
        return units > Long.MAX_VALUE / unitNanos ? Long.MAX_VALUE : units * unitNanos;
    }

    /** The nanoseconds until {@code missing} scaled units have been refilled. */
    long nanosToRefill(long missing) {
        long units = ceilDiv(missing, refill);
        return units > Long.MAX_VALUE / unitNanos ? Long.MAX_VALUE : units * unitNanos;
    }

    /** {@code nanos} (a difference of two clock readings) as scaled time; wraps around like the clock itself. */
    long scaled(long nanos) {
        return (unitNanos == 1 ? nanos : Math.floorDiv(nanos, unitNanos)) * refill;
    }

    private static long ceilDiv(long x, long y) {
        return x / y + (x % y == 0 ? 0 : 1);
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /*
     * equals and hashCode are written out, not generated: a shared store looks its encoded arguments up
     * by rate on the request path, and a record's generated methods are bootstrapped (ObjectMethods,
     * method handles) on first use, which took about 10 ms of the first shared-limit request.
     */

    @Override
    public boolean equals(Object other) {
        return other instanceof BucketRate r && unitNanos == r.unitNanos && refill == r.refill && cost == r.cost
                && capacity == r.capacity;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(((unitNanos * 31 + refill) * 31 + cost) * 31 + capacity);
    }

    private static IllegalArgumentException tooLarge(long limit, long burst, Duration per) {
        return new IllegalArgumentException("limit " + limit + " + burst " + burst + " per " + per
                + " is too large to count (expected: a smaller limit, burst or per)");
    }
}
