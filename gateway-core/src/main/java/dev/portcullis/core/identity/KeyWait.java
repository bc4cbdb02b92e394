package dev.portcullis.core.identity;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A bearer token refused only because its key is not known yet, while the key fetch it started is on its way: its
 * request waits for {@link #landed()} or stops waiting, and is decided with what {@link #settle()} returns.
 *
 * <p>{@code portcullis_jwt_verifications_total} counts one result per presented token, the one its request was
 * settled with: the first of {@link #settle()} and {@link #abandon()} counts it, and nothing counts again, so a
 * verification that lands after its request stopped waiting (header_timeout, client gone) counts nothing.
 *
 * <p>Thread-safe: the fetch lands on a background thread, the request is settled on its event loop.
 */
public final class KeyWait {
    private final CompletableFuture<Resolution> landed;
    /** What the token resolved to before the fetch ({@code unknown_kid} or {@code no_key_source}). */
    private final Resolution meanwhile;
    private final JwtCounters counters;
    private final AtomicReference<@Nullable Resolution> settled = new AtomicReference<>();

    KeyWait(CompletableFuture<Resolution> landed, Resolution meanwhile, JwtCounters counters) {
        this.landed = landed;
        this.meanwhile = meanwhile;
        this.counters = counters;
    }

    /**
     * The token verified again once the fetch has landed (or failed), counting nothing; it never completes
     * exceptionally and may complete on a background thread.
     */
    public CompletableFuture<Resolution> landed() {
        return landed;
    }

    /**
     * Settles the request: with the verification after the fetch when it has landed, else (the wait ended first)
     * with {@link #meanwhile}; counts that outcome. Once settled, returns the outcome settled with and counts
     * nothing.
     */
    public Resolution settle() {
        Resolution now = landed.isDone() && !landed.isCompletedExceptionally() ? landed.join() : meanwhile;
        return settleWith(now);
    }

    /**
     * The request stops waiting without being decided (its client left, its connection closed): counts
     * {@link #meanwhile}, the rejection it waited with, unless it was settled already.
     */
    public void abandon() {
        settleWith(meanwhile);
    }

    private Resolution settleWith(Resolution outcome) {
        if (settled.compareAndSet(null, outcome)) {
            return counters.count(outcome);
        }
        Resolution first = settled.get();
        return first != null ? first : outcome;
    }
}
