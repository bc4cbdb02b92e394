package dev.portcullis.server.exchange;

import dev.portcullis.server.log.OccasionalWarning;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bytes written to client connections that their clients have not taken, over all connections, and their limit.
 * They are held in Netty's direct memory until the client reads them, and a client that requests large responses and
 * never reads holds some 56-100 KB per connection until {@code limits.idle_timeout}: about 500 such connections filled
 * the image's 48 MiB (1 MiB responses), and every other request then waited or failed. Past the limit, the connections stalled longest are closed
 * (an attacker's never read, so they are the oldest), unless they took some of their bytes since they stalled.
 *
 * <p>Implementation notes: one per server, shared by every event loop. A connection is accounted, on its own event
 * loop, when it stalls: its channel becomes unwritable, or an exchange ends with bytes still queued (a response below
 * the high water mark); it gives its share back when it becomes writable again, its next exchange begins with
 * nothing queued, or it closes. Netty does not tell when a queue empties without going past the high water mark, so
 * a share can be stale (too high) for a client that took its bytes meanwhile; a connection chosen to be closed is
 * therefore looked at again on its own event loop first ({@link Account#check}): emptied, its share is given back;
 * taken from since it stalled, it counts as stalled from now; else it is closed. Only one sweep runs at a time,
 * started by a connection whose share grew past the limit, and again after each look that left the total over it. It
 * chooses the oldest stalled connections of its own event loop first, then the oldest of the others, until their
 * shares leave the total an eighth below the limit: a flood of stalling connections costs one scan per few dozen
 * closed, and the memory it takes on a loop is freed on that loop at once, not after that loop's next round of reads
 * (looks on another loop wait for it, and a burst of large responses fills memory within one round: when direct
 * memory runs out, the JDK makes the allocating loop wait, and a look queued behind it waits too). The connection
 * whose growth started the sweep is looked at later, never in the middle of its own write.
 */
public final class StalledBudget {
    private static final Logger LOG = LoggerFactory.getLogger(StalledBudget.class);
    private static final long LOOK_SWEEP_EVERY_NANOS = 100_000_000L;

    /** The connection behind an {@link Account}. */
    interface Owner {
        /** True on the connection's event loop. */
        boolean inEventLoop();

        /** Runs {@code task} on the connection's event loop. */
        void execute(Runnable task);

        /** The bytes written to the connection that its client has not taken yet (on its event loop). */
        long queuedBytes();

        /** The direct memory those bytes hold: at least them, with the unused rest of the buffers they are in. */
        long footprint();

        /** Closes the connection, its client stalled past the budget (on its event loop). */
        void closeStalled();
    }

    private final long limit;
    private final long target;
    private final AtomicLong held = new AtomicLong();
    /** The shares of the accounts a sweep chose and that have not been looked at again yet. */
    private final AtomicLong chosen = new AtomicLong();
    private final AtomicBoolean sweeping = new AtomicBoolean();
    /** When a look may next start a sweep ({@link #sweepAfterLook}). */
    private final AtomicLong nextLookSweep = new AtomicLong(System.nanoTime());
    private final Set<Account> accounts = ConcurrentHashMap.newKeySet();
    private final OccasionalWarning overrun = new OccasionalWarning();

    /** A budget of {@code limit} bytes. */
    public StalledBudget(long limit) {
        this.limit = limit;
        this.target = limit - limit / 8;
    }

    /** The budget of this JVM: half of the direct memory Netty may use (24 MiB of the image's 48 MiB). */
    public static StalledBudget ofThisJvm() {
        return new StalledBudget(PlatformDependent.maxDirectMemory() / 2);
    }

    /** The bytes stalled connections hold now, as last accounted. */
    public long held() {
        return held.get();
    }

    /** Opens the account of one connection; {@link Account#close} ends it. */
    Account open(Owner owner) {
        Account account = new Account(owner);
        accounts.add(account);
        return account;
    }

    /**
     * After a look: sweeps again when still over the limit, at most every 100 ms. Over the limit with clients that all
     * read a little, each look would otherwise start a sweep that chooses the next oldest, and the looks would cycle
     * through every stalled connection without end; growth still sweeps at once ({@link Account#stalled}).
     */
    private void sweepAfterLook() {
        long now = System.nanoTime();
        long next = nextLookSweep.get();
        if (now - next >= 0 && held.get() - chosen.get() > limit
                && nextLookSweep.compareAndSet(next, now + LOOK_SWEEP_EVERY_NANOS)) {
            sweepIfOver(null);
        }
    }

    /** Sweeps when over the limit, not counting the shares already chosen; {@code grown} (or null) is mid-write. */
    private void sweepIfOver(@Nullable Account grown) {
        if (held.get() - chosen.get() > limit && sweeping.compareAndSet(false, true)) {
            try {
                sweep(grown);
            } finally {
                sweeping.set(false);
            }
        }
    }

    private void sweep(@Nullable Account grown) {
        long now = System.nanoTime();
        if (overrun.due() >= 0) {
            LOG.warn("clients that do not read hold over {} bytes of responses (half of the direct memory): closing"
                    + " the connections stalled longest (logged at most every 10 s)", limit);
        }
        // each account's since is read once: its connection may change it while the sweep runs
        List<Candidate> stalled = new ArrayList<>();
        for (Account account : accounts) {
            if (account.share > 0 && !account.chosen.get()) {
                stalled.add(new Candidate(account, account.owner.inEventLoop() && account != grown,
                        account.since - now));
            }
        }
        stalled.sort(Comparator.comparing(Candidate::here).reversed().thenComparingLong(Candidate::since));
        // a look here frees what it closes, or gives back a stale share, at once; one elsewhere is counted as chosen
        for (int i = 0; i < stalled.size() && held.get() - chosen.get() > target; i++) {
            Candidate oldest = stalled.get(i);
            oldest.account().choose(oldest.here());
        }
    }

    /**
     * A stalled account as a sweep saw it: {@code here} when it can be looked at (and closed) at once, on the sweeping
     * loop; {@code since} is when it stalled, relative to the sweep (the oldest most negative).
     */
    private record Candidate(Account account, boolean here, long since) {}

    /**
     * One connection's share: the memory that what is queued for its client held when it last stalled. Changed on the
     * connection's event loop; read by sweeps on any.
     */
    final class Account {
        private final Owner owner;
        private final AtomicBoolean chosen = new AtomicBoolean();
        private volatile long share;
        private volatile long since;
        /** The bytes queued when the share was taken: fewer later means the client took some. */
        private long queuedThen;
        private long chosenShare;
        private boolean closed;

        private Account(Owner owner) {
            this.owner = owner;
        }

        /** True while a share is accounted. */
        boolean isStalled() {
            return share > 0;
        }

        /**
         * The client has {@code queued} bytes it has not taken, held in {@code footprint} bytes of memory, and the
         * gateway waits for it: the share becomes the footprint; the connection counts as stalled from now unless it
         * already was and took none of its bytes since.
         */
        void stalled(long queued, long footprint) {
            if (closed || queued <= 0) {
                return;
            }
            long before = share;
            if (before == 0 || queued < queuedThen) {
                since = System.nanoTime();
            }
            queuedThen = queued;
            long after = Math.max(queued, footprint);
            share = after;
            held.addAndGet(after - before);
            if (after > before) {
                sweepIfOver(this);
            }
        }

        /** The client took what was queued for it (or enough of it): the share is given back. */
        void unstalled() {
            long before = share;
            if (before != 0) {
                share = 0;
                held.addAndGet(-before);
            }
        }

        /** The connection closed: its share is given back, and it is accounted no more. */
        void close() {
            closed = true;
            unstalled();
            accounts.remove(this);
        }

        /** Chosen by a sweep (any thread): looked at again at once when {@code here}, else as soon as its loop can. */
        private void choose(boolean here) {
            if (!chosen.compareAndSet(false, true)) {
                return;
            }
            long taken = share;
            chosenShare = taken;
            StalledBudget.this.chosen.addAndGet(taken);
            if (here) {
                check();
                return;
            }
            try {
                owner.execute(this::check);
            } catch (RejectedExecutionException e) {
                // its event loop is stopping, and the connection with it
                StalledBudget.this.chosen.addAndGet(-taken);
                chosen.set(false);
            }
        }

        /** Chosen: looked at again on the connection's event loop, and closed if it still has not read. */
        private void check() {
            StalledBudget.this.chosen.addAndGet(-chosenShare);
            chosen.set(false);
            long before = share;
            if (closed || before == 0) {
                return;
            }
            long queued = owner.queuedBytes();
            if (queued == 0) {
                unstalled();
            } else if (queued < queuedThen) {
                stalled(queued, owner.footprint());
            } else {
                close();
                owner.closeStalled();
            }
            // this one's share was not (all) needed, or others grew while it waited: no growth may come to sweep again
            sweepAfterLook();
        }
    }
}
