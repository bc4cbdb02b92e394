package dev.portcullis.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.function.BooleanSupplier;

/**
 * Bytes the calling thread allocates per call of a hot path once the JIT has compiled it, for the "allocates nothing"
 * tests.
 *
 * <p>Whether a call allocates depends on C2's escape analysis, and C2 compiles in the background: on a loaded machine
 * (a CI runner) the first measured round can still run the interpreted or C1 code, which allocates what C2 later
 * scalar-replaces. So after a warm-up the meter measures rounds until one allocates less than a byte per call, up to
 * {@value #ROUNDS} rounds, and returns the smallest value seen. A path that really allocates does so in every round,
 * so the minimum still shows it; only the JIT's catching up is waited out.
 */
public final class AllocationMeter {

    private static final int CALLS_PER_ROUND = 100_000;
    private static final int ROUNDS = 20;

    private AllocationMeter() {
    }

    /** The fewest bytes per call over the measured rounds (below 1.0 once the path is allocation-free). */
    public static double bytesPerCall(BooleanSupplier call) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemorySupported()).as("per-thread allocation counters").isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
        boolean sink = run(call, false);
        double fewest = Double.MAX_VALUE;
        for (int round = 0; round < ROUNDS && fewest >= 1.0; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            sink = run(call, sink);
            fewest = Math.min(fewest, (double) (threads.getCurrentThreadAllocatedBytes() - before) / CALLS_PER_ROUND);
        }
        assertThat(sink || !sink).isTrue();
        return fewest;
    }

    private static boolean run(BooleanSupplier call, boolean sink) {
        boolean result = sink;
        for (int i = 0; i < CALLS_PER_ROUND; i++) {
            result ^= call.getAsBoolean();
        }
        return result;
    }
}
