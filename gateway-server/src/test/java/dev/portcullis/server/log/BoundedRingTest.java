package dev.portcullis.server.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The access log's lock-free queue: bounded, FIFO, nothing lost or duplicated under concurrent producers. */
class BoundedRingTest {

    @Test
    void roundsTheCapacityUpToAPowerOfTwoOfAtLeastTwo() {
        assertThat(new BoundedRing<String>(1).capacity()).isEqualTo(2);
        assertThat(new BoundedRing<String>(2).capacity()).isEqualTo(2);
        assertThat(new BoundedRing<String>(3).capacity()).isEqualTo(4);
        assertThat(new BoundedRing<String>(4).capacity()).isEqualTo(4);
        assertThat(new BoundedRing<String>(65536).capacity()).isEqualTo(65536);
        assertThat(new BoundedRing<String>(65537).capacity()).isEqualTo(131072);
        assertThatThrownBy(() -> new BoundedRing<String>(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity 0 out of range (expected 1..1073741824)");
    }

    @Test
    void refusesWhenFullAndHandsOutInOrderAcrossLaps() {
        BoundedRing<Integer> ring = new BoundedRing<>(4);
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.poll()).isNull();
        int next = 0;
        int expected = 0;
        for (int lap = 0; lap < 5; lap++) {
            while (ring.offer(next)) {
                next++;
            }
            assertThat(next - expected).isEqualTo(4);
            assertThat(ring.isEmpty()).isFalse();
            assertThat(ring.poll()).isEqualTo(expected++);
            assertThat(ring.offer(next++)).isTrue();
            assertThat(ring.offer(next)).isFalse();
            for (Integer e; (e = ring.poll()) != null; ) {
                assertThat(e).isEqualTo(expected++);
            }
            assertThat(ring.isEmpty()).isTrue();
        }
        assertThat(expected).isEqualTo(next);
    }

    @Test
    void concurrentProducersLoseNothingAndKeepEachProducersOrder() throws Exception {
        int producers = 4;
        int perProducer = 50_000;
        BoundedRing<long[]> ring = new BoundedRing<>(256);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            long id = p;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (long i = 0; i < perProducer; i++) {
                    while (!ring.offer(new long[] {id, i})) {
                        Thread.yield();
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        long[] nextOf = new long[producers];
        long received = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        go.countDown();
        while (received < (long) producers * perProducer && System.nanoTime() - deadline < 0) {
            long[] e = ring.poll();
            if (e == null) {
                Thread.yield();
                continue;
            }
            if (e[1] != nextOf[(int) e[0]]) {
                throw new AssertionError("producer " + e[0] + ": got " + e[1] + ", expected " + nextOf[(int) e[0]]);
            }
            nextOf[(int) e[0]]++;
            received++;
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        assertThat(received).isEqualTo((long) producers * perProducer);
        assertThat(nextOf).containsOnly(perProducer);
        assertThat(ring.poll()).isNull();
    }
}
