package dev.portcullis.server.pipeline;

import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * An event executor that the test drives: the thread that created it is its event loop, tasks handed to it from any
 * thread wait until {@link #runPending}, and its clock moves only when {@link #advance}d. A handler added to an
 * {@code EmbeddedChannel} with it sees a background completion arrive as a task the test can wait for, without the
 * data race of handing tasks to the embedded loop from another thread.
 */
final class ManualEventExecutor extends AbstractScheduledEventExecutor {
    private final Thread owner = Thread.currentThread();
    private final MockTicker ticker = Ticker.newMockTicker();
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Future<?> termination = new DefaultPromise<Void>(GlobalEventExecutor.INSTANCE);

    @Override
    public Ticker ticker() {
        return ticker;
    }

    @Override
    public boolean inEventLoop(Thread thread) {
        return thread == owner;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    /** Moves this executor's clock. */
    void advance(long amount, TimeUnit unit) {
        ticker.advance(amount, unit);
    }

    /** Runs the queued tasks and the scheduled ones that are due, until none is left; returns how many ran. */
    int runPending() {
        int ran = 0;
        while (true) {
            Runnable task = tasks.poll();
            if (task == null) {
                task = pollScheduledTask();
            }
            if (task == null) {
                return ran;
            }
            task.run();
            ran++;
        }
    }

    /** Waits until another thread has handed this executor a task (without running it). */
    void awaitTask(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (tasks.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no task was handed to the event loop within " + within);
            }
            Thread.sleep(2);
        }
    }

    @Override
    public boolean isShuttingDown() {
        return false;
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        return termination;
    }

    @Override
    public Future<?> terminationFuture() {
        return termination;
    }

    @Override
    @Deprecated
    public void shutdown() {
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return false;
    }
}
