package dev.portcullis.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Guards the per-request allocation budget of issue 10: the bytes the calling thread allocates for one proxied request
 * through the real client pipeline and upstream pool ({@link RequestPathFixture}, the full policy), measured with
 * {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long)} after a warm-up.
 *
 * <p>Everything of an exchange runs on the test thread (embedded channels), so the thread's allocation counter sees
 * the whole request: decoding, admission, the decision, the proxying, the response and the exchange listeners. No
 * timing is asserted. When a change moves the measured value for good, set {@link #BUDGET_BYTES} to the new
 * {@code RequestPathBenchmark -prof gc} B/op plus about 9 % (see that class for the procedure).
 */
class RequestPathAllocationTest {

    /**
     * Bytes per request allowed. On 2026-12-06, reading the bearer token in place took this test from 6,486 to 5,909 B
     * and {@code RequestPathBenchmark -prof gc} from 5,903-5,975 to 5,262-5,431 B/op; the larger plus 25 %, rounded up.
     * Later that day this test measured 5,595 B, and a review found a change that copied the token again on every
     * request (6,324 B with it) which the 25 % margin let through: the budget is now the measured value plus about 9 %.
     * On 2026-12-07, common header names decoded as shared constants ({@code KnownHeaderNames}) took this test from
     * 5,663 to 5,232 B: 5,232 plus 9 %, rounded up.
     */
    static final long BUDGET_BYTES = 5_700;

    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 20_000;

    @Test
    void oneProxiedRequestStaysWithinTheAllocationBudget() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemorySupported()).as("per-thread allocation counters").isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
        long thread = Thread.currentThread().getId();
        try (RequestPathFixture fixture = RequestPathFixture.start()) {
            long responseBytes = 0;
            for (int i = 0; i < WARM_UP; i++) {
                responseBytes += fixture.exchange();
            }
            long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < MEASURED; i++) {
                responseBytes += fixture.exchange();
            }
            long perRequest = (threads.getThreadAllocatedBytes(thread) - before) / MEASURED;

            assertThat(fixture.accessLines()).as("one access line per request").isEqualTo(WARM_UP + MEASURED);
            assertThat(responseBytes).as("response bytes").isGreaterThan((long) (WARM_UP + MEASURED) * 13);
            System.out.println("RequestPathAllocationTest: " + perRequest + " B allocated per request (budget "
                    + BUDGET_BYTES + ")");
            assertThat(perRequest)
                    .as("bytes allocated per request through the full-policy pipeline: measured %d, budget %d"
                            + " (RequestPathAllocationTest.BUDGET_BYTES; see its javadoc to update it)",
                            perRequest, BUDGET_BYTES)
                    .isLessThanOrEqualTo(BUDGET_BYTES);
        }
    }
}
