package dev.portcullis.core.testing;

import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The meter waits out the JIT but still reports what a path really allocates. */
class AllocationMeterTest {

    /** Where the allocating call publishes its array, so that escape analysis cannot remove it. */
    private static volatile Object escaped;

    @Test
    void reportsAnAllocationThatEscapes() {
        assertThat(bytesPerCall(() -> (escaped = new long[4]) != null)).isGreaterThanOrEqualTo(32.0);
    }

    @Test
    void reportsLessThanAByteForAPathThatAllocatesNothing() {
        int[] counter = new int[1];

        assertThat(bytesPerCall(() -> (++counter[0] & 1) == 0)).isLessThan(1.0);
    }
}
