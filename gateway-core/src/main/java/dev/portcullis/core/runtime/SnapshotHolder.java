package dev.portcullis.core.runtime;

import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * The single place where the live {@link GatewaySnapshot} is published; readers take it once per request.
 *
 * <p>There are no locks on the read side: a snapshot is immutable once published, so a request that
 * read generation N is decided wholly by generation N even if N+1 is swapped in meanwhile.
 */
public final class SnapshotHolder {
    private final AtomicReference<@Nullable GatewaySnapshot> current = new AtomicReference<>();

    /** The live snapshot, or {@code null} before the first config has been loaded. */
    public @Nullable GatewaySnapshot current() {
        return current.get();
    }

    /** Publishes {@code next}; later {@link #current()} calls see it. */
    public void swap(GatewaySnapshot next) {
        current.set(next);
    }
}
