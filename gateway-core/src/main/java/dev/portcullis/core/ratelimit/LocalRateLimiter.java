package dev.portcullis.core.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A rate limiter whose token buckets live in this process: one bucket per key, full at first use, in a bounded cache
 * that forgets a bucket once it has been idle long enough to be full again.
 */
public final class LocalRateLimiter implements RateLimiter {

    /*
     * Implementation notes: each bucket is one AtomicLong holding the "theoretical arrival time"
     * of the generic cell rate algorithm, which is a token bucket told by a single number: the
     * scaled time at which the bucket will be full again (BucketRate makes the refill exact).
     * The bucket holds (tat - now) / cost tokens fewer than its capacity, none missing once
     * tat <= now. Taking a token moves tat to max(tat, now) + cost, allowed while that is at
     * most now + capacity; a compare-and-set makes concurrent takers exact and lock-free.
     *
     * The clock is read after the bucket, on every attempt, never once before it. A reading older
     * than the take that set tat counts the difference as missing tokens (tat - now grows by it),
     * so a request held up between its reading and its update (a GC pause, a preemption) for about
     * the time the bucket takes to fill (1 ms at 10 000 per 1ms) would be refused with the bucket
     * nearly full. In this order, a take whose compare-and-set succeeds read the clock after every
     * take behind the tat it replaces had read it (the clock is monotonic), so time never runs
     * backwards within a bucket; a take that lost the race reads both again. A refusal needs no
     * such care: tat only grows, so a refusal decided on an older tat stands.
     *
     * Scaled time wraps around like System.nanoTime: only differences are used, and they are
     * exact while the true difference fits in a long. It does, because the cache expires a
     * bucket idle for nanosToFill (Caffeine never returns an expired entry), every read leaves
     * tat ahead of the time it read (admitted: moved past it; limited: already past it), and
     * the capacity is below 2^61: so a bucket is only ever read within that distance of its tat.
     *
     * Forgetting a bucket that is full changes nothing. The size bound can also evict a bucket
     * that is not full (a flood of distinct keys), which then starts full again: the bound on
     * memory wins over exactness for that key. A request that read a bucket just before it was
     * dropped may take its token from the dropped bucket.
     *
     * The cache does its maintenance (draining its read buffer, expiring, evicting) on the
     * calling thread, amortized and under a tryLock on reads: handing it to the common pool
     * made a check about twice as slow (RateLimiterBenchmark), for work that takes less time
     * than the hand-off.
     */

    /** How many keys a limiter tracks at most unless told otherwise. */
    public static final long DEFAULT_MAX_KEYS = 100_000;

    private final RateLimitDefinition definition;
    private final BucketRate rate;
    private final LongSupplier nanoTime;
    private final long origin;
    private final long maxKeys;
    private final Cache<Object, AtomicLong> buckets;
    /** A full bucket: tat is now. Held, so that a request that creates a bucket allocates no function. */
    private final Function<Object, AtomicLong> newBucket = key -> new AtomicLong(now());
    private final LongAdder limited = new LongAdder();

    /** A limiter tracking at most {@link #DEFAULT_MAX_KEYS} keys. */
    public LocalRateLimiter(RateLimitDefinition definition, LongSupplier nanoTime) {
        this(definition, nanoTime, DEFAULT_MAX_KEYS);
    }

    /**
     * @param definition a {@link Scope#LOCAL} definition
     * @param nanoTime the monotonic clock in nanoseconds ({@code System::nanoTime}; a fake one in tests)
     * @param maxKeys how many keys' buckets are kept at most
     */
    public LocalRateLimiter(RateLimitDefinition definition, LongSupplier nanoTime, long maxKeys) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        if (definition.scope() != Scope.LOCAL) {
            throw new IllegalArgumentException("rate limiter \"" + definition.name() + "\" has scope "
                    + definition.scope().code() + " (expected: local for an in-process limiter)");
        }
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys " + maxKeys + " is out of range (expected: 1 or more)");
        }
        this.rate = BucketRate.of(definition.limit(), definition.burst(), definition.per());
        this.maxKeys = maxKeys;
        this.origin = nanoTime.getAsLong();
        this.buckets = Caffeine.newBuilder()
                .maximumSize(maxKeys)
                .expireAfterAccess(Duration.ofNanos(Math.min(rate.nanosToFill(), Long.MAX_VALUE >> 1)))
                .ticker(nanoTime::getAsLong)
                .executor(Runnable::run)
                .build();
    }

    @Override
    public String name() {
        return definition.name();
    }

    @Override
    public RateLimitDefinition definition() {
        return definition;
    }

    /** How many keys' buckets are kept at most. */
    public long maxKeys() {
        return maxKeys;
    }

    @Override
    public RateLimitResult acquire(AccessRequest request) {
        Object key = definition.keyOf(request);
        AtomicLong bucket = buckets.getIfPresent(key);
        if (bucket == null) {
            bucket = buckets.get(key, newBucket);
        }
        long missing = take(bucket, rate, nanoTime, origin);
        if (missing == 0) {
            return RateLimitResult.Admitted.INSTANCE;
        }
        limited.increment();
        return new RateLimitResult.Limited(rate.nanosToRefill(missing));
    }

    /**
     * Takes one token from {@code bucket} (its tat, see the notes) at the time read from {@code nanoTime}, which is
     * read after the bucket on every attempt.
     *
     * @return 0 when the token was taken, else the scaled units still missing for one (the bucket is unchanged)
     */
    static long take(AtomicLong bucket, BucketRate rate, LongSupplier nanoTime, long origin) {
        long capacity = rate.capacity();
        long cost = rate.cost();
        for (;;) {
            long tat = bucket.get();
            long now = rate.scaled(nanoTime.getAsLong() - origin);
            long missing = tat - now > 0 ? tat - now : 0;
            long missingAfter = missing + cost;
            if (missingAfter > capacity) {
                return missingAfter - capacity;
            }
            if (bucket.compareAndSet(tat, now + missingAfter)) {
                return 0;
            }
        }
    }

    private long now() {
        return rate.scaled(nanoTime.getAsLong() - origin);
    }

    @Override
    public long limitedCount() {
        return limited.sum();
    }

    /** How many keys have a bucket now, after pending evictions and expiries are done. */
    long trackedKeys() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    @Override
    public String toString() {
        return "LocalRateLimiter[" + definition.summary() + "]";
    }
}
