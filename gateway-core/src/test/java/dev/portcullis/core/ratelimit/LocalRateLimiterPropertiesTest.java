package dev.portcullis.core.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link LocalRateLimiter#take} with takes that overtake one another (another take lands between a take's clock
 * reading and its update, to any depth) decides as a plain token bucket that sees the same takes one after another
 * at the clock readings they were decided with: never refused while a token is left, never admitted beyond the bucket,
 * and no reading counted as older than a take already applied.
 */
class LocalRateLimiterPropertiesTest {

    @Property(tries = 1000)
    void overtakenTakesAreDecidedAsInTheOrderOfTheirReadings(
            @ForAll @IntRange(min = 1, max = 40) int limit,
            @ForAll @IntRange(min = 1, max = 5) int perMillis,
            @ForAll @IntRange(min = 0, max = 10) int burst,
            @ForAll @Size(min = 1, max = 120) List<@IntRange(min = 0, max = 3_000_000) Integer> gaps,
            @ForAll @Size(min = 120, max = 120) List<Boolean> overtaken) {
        Race race = new Race(BucketRate.of(limit, burst, Duration.ofMillis(perMillis)));
        for (int i = 0; i < gaps.size(); i++) {
            race.gaps.add(gaps.get(i));
            race.overtaken.add(overtaken.get(i));
        }
        while (!race.gaps.isEmpty()) {
            race.runNext();
        }

        // the reference: takes in the order of their readings, the admitted ones first among equal readings
        List<Take> byReading = new ArrayList<>(race.takes);
        byReading.sort(Comparator.comparingLong(Take::reading).thenComparing(t -> !t.admitted()));
        Reference reference = new Reference(limit, burst, Duration.ofMillis(perMillis), Race.START);
        List<Boolean> decided = new ArrayList<>();
        List<Boolean> expected = new ArrayList<>();
        for (Take take : byReading) {
            decided.add(take.admitted());
            expected.add(reference.take(take.reading()));
        }
        assertThat(decided).isEqualTo(expected);
    }

    /** A finished take: the last clock reading it was given, and whether it took a token. */
    record Take(long reading, boolean admitted) {}

    /** A single-threaded schedule of overtaking takes on a fake clock that never goes back. */
    private static final class Race {
        static final long START = 1_000_000_000_000L;
        final Deque<Integer> gaps = new ArrayDeque<>();
        final Deque<Boolean> overtaken = new ArrayDeque<>();
        final List<Take> takes = new ArrayList<>();
        private final BucketRate rate;
        private final AtomicLong bucket;
        /** The last reading given to each take in progress, innermost last. */
        private final Deque<long[]> running = new ArrayDeque<>();
        private long time = START;
        private boolean armed;

        Race(BucketRate rate) {
            this.rate = rate;
            this.bucket = new AtomicLong(rate.scaled(time));
        }

        /** Moves the clock on by the next gap and takes; an overtaken take gets the next one inside its reading. */
        void runNext() {
            time += gaps.poll();
            armed = overtaken.poll();
            long[] lastReading = new long[1];
            running.push(lastReading);
            boolean admitted = LocalRateLimiter.take(bucket, rate, this::read, 0) == 0;
            running.pop();
            takes.add(new Take(lastReading[0], admitted));
        }

        /** The clock, read now; an armed take is overtaken by the next one before the reading reaches it. */
        private long read() {
            long reading = time;
            long[] reader = running.peek();
            if (armed) {
                armed = false;
                if (!gaps.isEmpty()) {
                    runNext();
                }
            }
            reader[0] = reading;
            return reading;
        }
    }

    /** A token bucket counted in tokens times per's nanoseconds, so that refill is exact. */
    private static final class Reference {
        private final long limit;
        private final long perNanos;
        private final long capacity;
        private long tokens;
        private long time;

        Reference(long limit, long burst, Duration per, long start) {
            this.limit = limit;
            this.perNanos = per.toNanos();
            this.capacity = (limit + burst) * perNanos;
            this.tokens = capacity;
            this.time = start;
        }

        boolean take(long now) {
            tokens = Math.min(capacity, tokens + (now - time) * limit);
            time = now;
            if (tokens >= perNanos) {
                tokens -= perNanos;
                return true;
            }
            return false;
        }
    }
}
