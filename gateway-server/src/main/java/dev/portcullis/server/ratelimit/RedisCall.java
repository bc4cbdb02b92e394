package dev.portcullis.server.ratelimit;

import dev.portcullis.core.ratelimit.RateLimitResult;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/** One command waiting for Redis's answer: a token request (what to send again after NOSCRIPT, whom to tell), or a handshake command. */
final class RedisCall {
    private static final byte[] NONE = new byte[0];

    final CompletableFuture<RateLimitResult> answer = new CompletableFuture<>();
    final byte[] key;
    final byte[] args;
    final long startNanos;
    /** When it was written, on the store loop's ticker; set on the store's loop. */
    long sentNanos;
    /** The store's timeout for this call; set on the store's loop when it is sent, cleared once it ran. */
    @Nullable ScheduledFuture<?> timer;
    /** AUTH or SELECT of the handshake: its answer is checked, not passed on. */
    final @Nullable String handshake;

    private RedisCall(byte[] key, byte[] args, @Nullable String handshake) {
        this.key = key;
        this.args = args;
        this.startNanos = System.nanoTime();
        this.handshake = handshake;
    }

    /** A token request for the bucket {@code key} (a RESP bulk string) with the script's other arguments. */
    static RedisCall take(byte[] key, byte[] args) {
        return new RedisCall(key, args, null);
    }

    /** A handshake command named {@code name} (AUTH, SELECT). */
    static RedisCall handshake(String name) {
        return new RedisCall(NONE, NONE, name);
    }

    /** Stops the call's timer, if it has one. */
    void cancelTimer() {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
            timer = null;
        }
    }
}
