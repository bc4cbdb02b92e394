package dev.portcullis.core.identity;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/** The current key set of one provider, and how to ask for a fresh one; never blocks. */
interface KeyProvider extends AutoCloseable {

    /** The key set now in force, or null while none has been loaded (a cold {@code jwks_url}). */
    @Nullable KeySet current();

    /**
     * A token needed a key the set lacks (unknown {@code kid}, or no set yet): start a refetch if the
     * source allows one now. Returns the fetch a caller may wait for, or null when none is running.
     */
    @Nullable CompletableFuture<Void> keyMissing();

    /** Fetch now (joining a running fetch); completes when it has landed or failed. */
    CompletableFuture<Void> refresh();

    /** The last key set document, for a reload's successor to start warm; null for sources that are not fetched. */
    @Nullable String document();

    long fetches();

    long fetchFailures();

    @Nullable Instant lastSuccess();

    @Override
    void close();

    /**
     * Keys loaded once, when the resolver was built: a JWKS file, a PEM file or a secret; or none ({@link #NONE}) for
     * a {@code jwks_url} that an {@linkplain JwtResolverOptions#offline() offline} resolver never fetches.
     */
    final class Static implements KeyProvider {
        /** No keys, never fetched. */
        static final Static NONE = new Static(null, null);

        private final @Nullable KeySet keys;
        private final @Nullable Instant loadedAt;

        Static(@Nullable KeySet keys, @Nullable Instant loadedAt) {
            this.keys = keys;
            this.loadedAt = loadedAt;
        }

        @Override
        public @Nullable KeySet current() {
            return keys;
        }

        @Override
        public @Nullable CompletableFuture<Void> keyMissing() {
            return null;
        }

        @Override
        public CompletableFuture<Void> refresh() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public @Nullable String document() {
            return null;
        }

        @Override
        public long fetches() {
            return 0;
        }

        @Override
        public long fetchFailures() {
            return 0;
        }

        @Override
        public @Nullable Instant lastSuccess() {
            return loadedAt;
        }

        @Override
        public void close() {}
    }
}
