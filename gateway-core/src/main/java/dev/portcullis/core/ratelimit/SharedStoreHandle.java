package dev.portcullis.core.ratelimit;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A shared store and the settings it was opened with, counted by the configuration generations that use it: a
 * reload with the same settings keeps the connection, and the store is closed when its last generation is.
 */
public final class SharedStoreHandle {
    private final SharedStoreSettings settings;
    private final SharedBucketStore store;
    private final AtomicInteger users = new AtomicInteger(1);

    /** A handle with one user, the generation that opened it. */
    SharedStoreHandle(SharedStoreSettings settings, SharedBucketStore store) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = Objects.requireNonNull(store, "store");
    }

    /** The settings the store was opened with. */
    public SharedStoreSettings settings() {
        return settings;
    }

    /** The store. */
    public SharedBucketStore store() {
        return store;
    }

    /** Another generation uses the store; false when it was closed already (then open a new one). */
    boolean retain() {
        for (;;) {
            int n = users.get();
            if (n <= 0) {
                return false;
            }
            if (users.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** A generation that used the store is closed: the last one closes the store. */
    void release() {
        if (users.decrementAndGet() == 0) {
            store.close();
        }
    }

    /** Whether the store was closed. */
    boolean isClosed() {
        return users.get() <= 0;
    }
}
