package dev.portcullis.server.log;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jspecify.annotations.Nullable;

/** A bounded lock-free queue for many producers and one consumer: an array ring with a sequence per slot. */
final class BoundedRing<E> {

    /*
     * D. Vyukov's bounded queue, with the consumer side simplified for a single consumer. Slot i holds a
     * sequence number: equal to p when the slot is free for the producer that claims position p, p + 1 once
     * that producer has stored its element, and c + capacity once the consumer has taken the element of
     * position c (free for the producer of the next lap). A producer claims a position with one CAS on
     * tail, stores the element, then publishes the slot by storing its sequence; the consumer reads the
     * sequence of its next position (acquire), takes the element and frees the slot (release). No lock, no
     * allocation per element, no signal; elements come out in the order their positions were claimed.
     *
     * offer publishes with a volatile store (not just a release) so that DroppingAsyncAppender's producer,
     * which reads the writer's sleeping flag right after, cannot have that read reordered before the
     * publication (the store-load half of the Dekker handshake with the writer).
     *
     * Capacity is rounded up to a power of two, at least 2 (with one slot, "full from the previous lap" and
     * "free for this position" would be the same sequence), so that a position maps to its slot with a
     * mask. A position
     * claimed by a producer that has not yet published makes poll() return null until it does: the consumer
     * waits for it rather than skip it, which keeps the order.
     */

    static final int MAX_CAPACITY = 1 << 30;

    private final int mask;
    private final Object[] elements;
    private final AtomicLongArray sequences;
    private final AtomicLong tail = new AtomicLong();
    private long head;

    BoundedRing(int requestedCapacity) {
        if (requestedCapacity < 1 || requestedCapacity > MAX_CAPACITY) {
            throw new IllegalArgumentException(
                    "capacity " + requestedCapacity + " out of range (expected 1.." + MAX_CAPACITY + ")");
        }
        int capacity = requestedCapacity <= 2 ? 2 : Integer.highestOneBit(requestedCapacity - 1) << 1;
        mask = capacity - 1;
        elements = new Object[capacity];
        sequences = new AtomicLongArray(capacity);
        for (int i = 0; i < capacity; i++) {
            sequences.setPlain(i, i);
        }
    }

    int capacity() {
        return mask + 1;
    }

    /** Adds {@code e} at the tail, from any thread; false (and nothing added) when the ring is full. */
    boolean offer(E e) {
        long position = tail.get();
        for (;;) {
            int slot = (int) position & mask;
            long difference = sequences.getAcquire(slot) - position;
            if (difference == 0) {
                if (tail.weakCompareAndSetVolatile(position, position + 1)) {
                    elements[slot] = e;
                    sequences.set(slot, position + 1);
                    return true;
                }
                position = tail.get();
            } else if (difference < 0) {
                return false;
            } else {
                position = tail.get();
            }
        }
    }

    /** Takes the head element, from the one consumer thread only; null when there is none (yet). */
    @Nullable E poll() {
        int slot = (int) head & mask;
        if (sequences.getAcquire(slot) != head + 1) {
            return null;
        }
        @SuppressWarnings("unchecked")
        E e = (E) elements[slot];
        elements[slot] = null;
        sequences.setRelease(slot, head + mask + 1);
        head++;
        return e;
    }

    /** Whether the head position holds no published element, from the consumer thread only. */
    boolean isEmpty() {
        return sequences.get((int) head & mask) != head + 1;
    }
}
