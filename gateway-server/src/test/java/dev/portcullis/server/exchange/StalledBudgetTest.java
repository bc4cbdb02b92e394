package dev.portcullis.server.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/**
 * Bytes queued for clients that do not take them have a budget (a few hundred connections that never read their
 * responses filled Netty's direct memory): past it the connection stalled longest is closed, unless its client took
 * some of its bytes since, and every connection's share is given back when it is writable again or closes.
 */
class StalledBudgetTest {
    private final StalledBudget budget = new StalledBudget(1_000);
    /** The connections' event loops: tasks a sweep submits run when the test says so. */
    private final Queue<Runnable> loop = new ArrayDeque<>();
    private final List<Connection> connections = new ArrayList<>();

    @Test
    void theConnectionStalledLongestIsClosedPastTheBudgetAndOthersAreKept() throws Exception {
        Connection oldest = new Connection();
        Connection middle = new Connection();
        Connection newest = new Connection();
        oldest.stall(400);
        middle.stall(400);
        assertThat(budget.held()).isEqualTo(800);
        assertThat(loop).as("within the budget nothing is looked at").isEmpty();

        newest.stall(400);
        runLoop();

        assertThat(oldest.closed).as("stalled longest").isTrue();
        assertThat(middle.closed).as("its share is not needed: 800 is an eighth below 1000").isFalse();
        assertThat(newest.closed).isFalse();
        assertThat(budget.held()).isEqualTo(800);
    }

    @Test
    void aClientThatTookSomeOfItsBytesSinceItStalledIsKeptAndTheNextOldestGoesInstead() throws Exception {
        Connection reading = new Connection();
        Connection notReading = new Connection();
        reading.stall(400);
        notReading.stall(400);
        reading.queued = 300; // its client took 100 bytes meanwhile, with no event the gateway hears of
        Connection third = new Connection();
        third.stall(400);
        runLoop();

        assertThat(reading.closed).as("steady reader, stalled again from now").isFalse();
        assertThat(notReading.closed).as("the next oldest, the total being still over the budget").isTrue();
        assertThat(third.closed).isFalse();
        assertThat(budget.held()).as("the reader's share is what it still has").isEqualTo(700);
    }

    @Test
    void theOldestOnTheSweepingLoopIsClosedAtOnceBeforeOlderOnesElsewhere() throws Exception {
        Connection elsewhere = new Connection();
        elsewhere.stall(400);
        Connection here = new Connection();
        here.onThisLoop = true;
        here.stall(400);
        Connection growing = new Connection();
        growing.onThisLoop = true;
        growing.stall(400);

        assertThat(here.closed).as("its memory freed before this loop reads again").isTrue();
        assertThat(elsewhere.closed).isFalse();
        assertThat(loop).as("nothing left to look at on the other loop").isEmpty();
        assertThat(budget.held()).isEqualTo(800);
    }

    @Test
    void aShareThatIsStaleBecauseTheQueueEmptiedIsGivenBackWithoutClosing() throws Exception {
        Connection drained = new Connection();
        drained.stall(600);
        drained.queued = 0; // took everything without becoming unwritable: no event said so
        Connection other = new Connection();
        other.stall(600);
        runLoop();

        assertThat(drained.closed).isFalse();
        assertThat(other.closed).isFalse();
        assertThat(budget.held()).isEqualTo(600);
    }

    @Test
    void sharesAreGivenBackWhenWritableOrClosedAndNothingLeaks() throws Exception {
        Connection a = new Connection();
        Connection b = new Connection();
        a.stall(300);
        b.stall(200);
        a.stall(350); // more queued while stalled: the share grows
        assertThat(budget.held()).isEqualTo(550);
        a.account.unstalled();
        a.account.unstalled();
        assertThat(budget.held()).isEqualTo(200);
        b.account.close();
        b.account.close();
        b.stall(500); // after close nothing is accounted
        assertThat(budget.held()).isZero();

        // a flood: every connection chosen is either closed or given back, and the count ends at zero
        for (int i = 0; i < 200; i++) {
            new Connection().stall(100);
            runLoop();
        }
        assertThat(budget.held()).isLessThanOrEqualTo(1_000);
        a.account.close();
        for (Connection c : connections) {
            c.account.close();
        }
        assertThat(budget.held()).isZero();
    }

    @Test
    void aConnectionChosenAndClosedMeanwhileIsNotClosedAgain() throws Exception {
        Connection gone = new Connection();
        gone.stall(900);
        Connection next = new Connection();
        next.stall(300);
        gone.account.close(); // the client went away before the chosen connection was looked at
        runLoop();
        assertThat(gone.closed).isFalse();
        assertThat(budget.held()).isEqualTo(300);
    }

    @Test
    void aShareIsTheMemoryTheQueuedBytesHoldNotJustTheBytes() throws Exception {
        Connection small = new Connection();
        small.queued = 200;
        small.account.stalled(200, 500); // 200 bytes in slices of buffers of 500
        assertThat(budget.held()).isEqualTo(500);
        Connection other = new Connection();
        other.stall(600);
        runLoop();
        assertThat(small.closed).as("1100 held by the footprints, though 800 bytes are queued").isTrue();
        assertThat(budget.held()).isEqualTo(600);
    }

    @Test
    void aConnectionOnTheSweepingLoopIsClosedAtOnceButNotTheOneWhoseGrowthStartedIt() throws Exception {
        Connection oldest = new Connection();
        oldest.onThisLoop = true;
        oldest.stall(900);
        Connection growing = new Connection();
        growing.onThisLoop = true;
        growing.stall(200);
        assertThat(oldest.closed).as("closed before the next read can fill memory").isTrue();
        assertThat(loop).isEmpty();
        assertThat(budget.held()).isEqualTo(200);

        growing.stall(1_100); // alone past the budget: it is in the middle of a write, so looked at later
        assertThat(growing.closed).isFalse();
        runLoop();
        assertThat(growing.closed).isTrue();
        assertThat(budget.held()).isZero();
    }

    /**
     * Over the budget with clients that all read a little, a look keeps each one (it took some bytes) and would start
     * another sweep choosing the next: the looks cycled through the stalled connections without end. A look sweeps again
     * at most every 100 ms; growth still sweeps at once.
     */
    @Test
    void looksAtClientsThatAllReadALittleDoNotCycleWithoutEnd() throws Exception {
        for (int i = 0; i < 3; i++) {
            Connection slow = new Connection();
            slow.progressing = true;
            slow.stall(400);
        }
        int looks = 0;
        for (Runnable task; looks < 1_000 && (task = loop.poll()) != null; looks++) {
            task.run();
        }
        assertThat(looks).as("looks after one burst over the budget").isLessThan(10);
        assertThat(connections).noneMatch(c -> c.closed);
    }

    private void runLoop() {
        for (Runnable task; (task = loop.poll()) != null; ) {
            task.run();
        }
    }

    private final class Connection implements StalledBudget.Owner {
        final StalledBudget.Account account = budget.open(this);
        long queued;
        boolean closed;
        boolean onThisLoop;
        /** Its client takes a byte between any two looks. */
        boolean progressing;

        Connection() {
            connections.add(this);
        }

        void stall(long bytes) throws InterruptedException {
            queued = bytes;
            account.stalled(bytes, bytes);
            Thread.sleep(2); // stalled at distinct times
        }

        @Override
        public boolean inEventLoop() {
            return onThisLoop;
        }

        @Override
        public void execute(Runnable task) {
            loop.add(task);
        }

        @Override
        public long queuedBytes() {
            return progressing ? --queued : queued;
        }

        @Override
        public long footprint() {
            return queued;
        }

        @Override
        public void closeStalled() {
            closed = true;
        }
    }
}
