package dev.portcullis.server.exchange;

import dev.portcullis.core.runtime.HeapShare;
import dev.portcullis.server.log.OccasionalWarning;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bytes of request heads that have begun and not completed, over all client connections, and their limit. A
 * head is held on the heap (its lines, parsed) until it completes or {@code limits.header_timeout} ends it; each
 * connection may hold up to {@code limits.max_header_size}, and {@code limits.max_connections} of them together far
 * more than a small heap: a few thousand connections sending 15 KB heads and never finishing them ran a 64 MiB
 * gateway out of memory. Past the limit, a connection that sends more of a head is closed ({@link
 * ConnectionState#headBytesReceived}).
 *
 * <p>Implementation notes: one per server, shared by every event loop; counted per read, released when the head
 * completes (the exchange begins) or the connection closes.
 */
public final class HeadBudget {
    private static final Logger LOG = LoggerFactory.getLogger(HeadBudget.class);

    private final long limit;
    private final AtomicLong pending = new AtomicLong();
    private final OccasionalWarning overrun = new OccasionalWarning();

    /** A budget of {@code limit} bytes. */
    public HeadBudget(long limit) {
        this.limit = limit;
    }

    /** The budget of this JVM: an eighth of its maximum heap (8 MiB in the 64 MiB default). */
    public static HeadBudget ofThisJvm() {
        return new HeadBudget(HeapShare.ofThisJvm());
    }

    /** {@code n} more bytes of unfinished heads; false when that takes the total past the limit. */
    boolean add(long n) {
        if (pending.addAndGet(n) <= limit) {
            return true;
        }
        if (overrun.due() >= 0) {
            LOG.warn("unfinished request heads hold over {} bytes (an eighth of the heap): closing the connections that"
                    + " send more of theirs (logged at most every 10 s)", limit);
        }
        return false;
    }

    /** {@code n} bytes of heads that completed or whose connection closed. */
    void release(long n) {
        pending.addAndGet(-n);
    }

    /** The bytes of unfinished heads now. */
    public long pending() {
        return pending.get();
    }

    /** One connection's share: what its unfinished head holds. Confined to the connection's event loop. */
    final class Account {
        private long held;

        /** {@code n} more bytes of this connection's head; false when the budget is exceeded. */
        boolean add(int n) {
            held += n;
            return HeadBudget.this.add(n);
        }

        /** The head completed, or the connection closed. */
        void releaseAll() {
            if (held != 0) {
                release(held);
                held = 0;
            }
        }
    }
}
