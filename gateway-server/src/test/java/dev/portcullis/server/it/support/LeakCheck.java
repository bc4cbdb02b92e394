package dev.portcullis.server.it.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Turns Netty leak reports into test failures: a {@link ResourceLeakDetectorFactory} whose detectors
 * record every reported leak (Zuul's {@code CustomLeakDetector} idea).
 */
public final class LeakCheck {

    /*
     * Netty creates the ByteBuf leak detector once, when AbstractByteBuf is initialized, through
     * ResourceLeakDetectorFactory.instance(). So the factory must be installed before any Netty buffer
     * class is touched: GatewayHarness calls install() from its static initializer, and install()
     * verifies through reflection that the ByteBuf detector really is one of ours (if it is not, leak
     * checking would silently do nothing, so that is an error).
     *
     * A leak is only reported when the detector polls its reference queue, which happens when a new
     * resource is tracked. assertNoLeaks() therefore collects garbage a few times and allocates (and
     * releases) tracked buffers in between. Paranoid level tracks every allocation.
     *
     * Tests can plant a canary leak (LeakCheckIT) to prove the machinery works; leaks whose record
     * contains CANARY_HINT are kept separately and never fail other tests.
     */

    /** Touch hint that marks a deliberately leaked buffer. */
    public static final String CANARY_HINT = "portcullis-it-leak-canary";

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static final List<String> CANARY_LEAKS = new CopyOnWriteArrayList<>();
    private static boolean installed;

    private LeakCheck() {}

    /** Installs the recording factory (idempotent) and makes sure leak detection is paranoid. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
        if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
            System.err.println("LeakCheck: io.netty.leakDetection.level was " + ResourceLeakDetector.getLevel()
                    + ", raising it to PARANOID for the ITs");
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        verifyByteBufDetectorIsRecording();
        installed = true;
    }

    private static void verifyByteBufDetectorIsRecording() {
        try {
            Class<?> abstractByteBuf = Class.forName("io.netty.buffer.AbstractByteBuf");
            Field f = abstractByteBuf.getDeclaredField("leakDetector");
            f.setAccessible(true);
            Object detector = f.get(null);
            if (!(detector instanceof RecordingDetector)) {
                throw new IllegalStateException("Netty's ByteBuf leak detector was created before LeakCheck.install() "
                        + "(it is " + detector + "): leaks would go unnoticed. Make sure nothing touches Netty "
                        + "buffers before GatewayHarness is loaded.");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (e instanceof IllegalStateException ise) {
                throw ise;
            }
            // Reflection is only a safety net: if Netty's internals moved, say so but do not fail the run.
            System.err.println("LeakCheck: could not verify the ByteBuf leak detector: " + e);
        }
    }

    /**
     * Forces garbage collection and leak-detector polling, then fails when any (non-canary) leak has
     * been reported since the last call.
     */
    public static void assertNoLeaks() {
        pollForLeaks();
        List<String> found = drainLeaks();
        if (!found.isEmpty()) {
            throw new AssertionError(found.size() + " Netty leak report(s):\n\n" + String.join("\n\n", found));
        }
    }

    /** Forces garbage collection a few times and makes the detectors poll their reference queues. */
    public static void pollForLeaks() {
        for (int round = 0; round < 5; round++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            allocateAndRelease();
        }
    }

    private static void allocateAndRelease() {
        for (ByteBufAllocator alloc : new ByteBufAllocator[] {
            ByteBufAllocator.DEFAULT,
            PooledByteBufAllocator.DEFAULT,
            UnpooledByteBufAllocator.DEFAULT
        }) {
            for (int i = 0; i < 8; i++) {
                ByteBuf heap = alloc.heapBuffer(64);
                heap.release();
                ByteBuf direct = alloc.directBuffer(64);
                direct.release();
            }
        }
    }

    /** Returns and forgets the non-canary leaks reported so far. */
    public static List<String> drainLeaks() {
        List<String> out = new ArrayList<>(LEAKS);
        LEAKS.removeAll(out);
        return out;
    }

    /** Returns and forgets the canary leaks reported so far. */
    public static List<String> drainCanaryLeaks() {
        List<String> out = new ArrayList<>(CANARY_LEAKS);
        CANARY_LEAKS.removeAll(out);
        return out;
    }

    private static void record(String resourceType, String records) {
        String report = "LEAK of " + resourceType + (records == null || records.isEmpty() ? "" : ":" + records);
        if (report.contains(CANARY_HINT)) {
            CANARY_LEAKS.add(report);
        } else {
            LEAKS.add(report);
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            return new RecordingDetector<>(resource, samplingInterval);
        }

        @Override
        @SuppressWarnings("deprecation") // abstract in Netty, so it must be implemented

        public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                Class<T> resource, int samplingInterval, long maxActive) {
            return new RecordingDetector<>(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            record(resourceType, records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            record(resourceType, "");
            super.reportUntracedLeak(resourceType);
        }
    }
}
