package dev.portcullis.core.runtime;

/**
 * The share of the heap one thing that grows with its input may take (a policy's rule index, the verified-token
 * cache, unfinished request heads): an eighth each, so that together with the live config and the traffic they fit
 * the image's 64 MiB heap, where running out of memory ends the process.
 */
public final class HeapShare {
    /** Each such thing may take one part in this many of the maximum heap. */
    public static final int DIVISOR = 8;

    private HeapShare() {}

    /** An eighth of {@code maxHeap} bytes. */
    public static long of(long maxHeap) {
        return maxHeap / DIVISOR;
    }

    /** An eighth of this JVM's maximum heap. */
    public static long ofThisJvm() {
        return of(Runtime.getRuntime().maxMemory());
    }
}
