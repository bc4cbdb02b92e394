package dev.portcullis.server.reload;

import dev.portcullis.core.config.ConfigText;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the config file for {@code watch: true} (SPEC 3.8) and asks for a reload when its content changes:
 * an in-place write, an atomic rename over it, or a Kubernetes ConfigMap update (the {@code ..data} symlink
 * of the config's folder swapped to a new directory). A ConfigMap update reloads even when the config's own bytes
 * did not change: it may have changed only a file the config names beside it (a JWKS file, a response body).
 *
 * <p>Implementation notes. The folder of the path as configured is watched (not the symlink's target), so
 * all three show up as events there; since events can be missed or coalesced, and a symlinked file may
 * change where no event is raised, the file's metadata (file key, size, modification time, read through
 * symlinks) is also checked once a second, and its bytes are read only after an event or a metadata change. A change counts only when the
 * file's bytes (read through any symlinks) hash differently from the last ones seen, or the folder's {@code ..data}
 * link points elsewhere, and only once they have stayed the same for {@link #SETTLE_MILLIS}, so a file being written
 * is not reloaded half-way (and if it were, the reload would be rejected and the old config kept). Runs on its own
 * daemon thread.
 */
public final class ConfigWatcher {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);
    static final long SETTLE_MILLIS = 150;
    private static final long POLL_MILLIS = 1000;

    private final Path file;
    private final Runnable onChange;
    private @Nullable Thread thread;
    private volatile boolean running;
    private @Nullable WatchService service;
    /** Where {@code ..data} pointed when the watcher was made (just after the first config was loaded), or null. */
    private final @Nullable String dataAtFirstStart;
    private boolean started;

    /**
     * @param file the config file as configured (may be a symlink)
     * @param onChange called on the watcher thread when the content changed; must not block for long
     */
    public ConfigWatcher(Path file, Runnable onChange) {
        this.file = file.toAbsolutePath();
        this.onChange = onChange;
        this.dataAtFirstStart = dataLink();
    }

    /**
     * Starts watching; no-op when already watching.
     *
     * @param liveVersion the live config's version ({@code sha256:<hex>} of the bytes it was loaded from): content
     *     that differs from it, including an edit made while the gateway was starting, is a change
     */
    public synchronized void start(String liveVersion) {
        if (running) {
            return;
        }
        running = true;
        byte[] seen = liveVersion.startsWith("sha256:") ? HexFormat.of().parseHex(liveVersion.substring(7)) : digest();
        // the first start compares with where ..data pointed when the gateway loaded its config, so that a ConfigMap
        // update made while it was starting is seen; a later one (watch turned on by a reload) with where it points now
        String data = started ? dataLink() : dataAtFirstStart;
        started = true;
        Thread watcher = new Thread(() -> run(seen, data), "portcullis-watch");
        watcher.setDaemon(true);
        thread = watcher;
        watcher.start();
        LOG.info("watching {} for changes", file);
    }

    /** Stops watching. */
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        WatchService watching = service;
        if (watching != null) {
            try {
                watching.close();
            } catch (IOException e) {
                LOG.debug("closing the watch service", e);
            }
        }
        Thread watcher = thread;
        if (watcher != null) {
            watcher.interrupt();
        }
        thread = null;
        LOG.info("stopped watching {}", file);
    }

    /** Whether the watcher is running. */
    public boolean isWatching() {
        return running;
    }

    private void run(byte @Nullable [] initial, @Nullable String initialData) {
        byte[] seen = initial;
        String data = initialData;
        Path folder = file.getParent();
        try (WatchService watching = FileSystems.getDefault().newWatchService()) {
            synchronized (this) {
                service = watching;
            }
            if (folder != null) {
                folder.register(watching, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_DELETE);
            }
            Object stat = null;
            boolean missing = false;
            while (running) {
                WatchKey key = watching.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
                // the once-a-second check reads the file only when its metadata moved (through any symlinks)
                Object statNow = stat();
                if (key == null && statNow != null && statNow.equals(stat)) {
                    continue;
                }
                stat = statNow;
                byte[] now = digest();
                if (now == null) {
                    missing = missing || reportMissing();
                    continue;
                }
                if (missing) {
                    missing = false;
                    LOG.info("{} can be read again", file);
                }
                if (Arrays.equals(now, seen) && Objects.equals(dataLink(), data)) {
                    continue;
                }
                byte[] settled = settle(now);
                String dataNow = dataLink();
                if (settled == null || Arrays.equals(settled, seen) && Objects.equals(dataNow, data)) {
                    continue;
                }
                LOG.info(Arrays.equals(settled, seen) ? "{}: its ConfigMap was updated (..data swapped): reloading"
                        : "{} changed: reloading", file);
                seen = settled;
                data = dataNow;
                onChange.run();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.error("watching {} failed; changes are no longer picked up (SIGHUP and POST /reload still work)",
                    file, e);
        }
    }

    /**
     * The file could not be read: warns once it still cannot after {@link #SETTLE_MILLIS} (a rename over it or a
     * ConfigMap swap leaves it unreadable for an instant at most); returns whether it warned.
     */
    private boolean reportMissing() throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(SETTLE_MILLIS);
        if (!running || digest() != null) {
            return false;
        }
        LOG.warn("{} cannot be read (deleted or moved?): the loaded config keeps serving until it can be read again",
                file);
        return true;
    }

    /** Waits until the content stops changing; its digest, or null when it went away. */
    private byte @Nullable [] settle(byte[] first) throws InterruptedException {
        byte[] last = first;
        while (running) {
            TimeUnit.MILLISECONDS.sleep(SETTLE_MILLIS);
            byte[] again = digest();
            if (again == null || Arrays.equals(again, last)) {
                return again;
            }
            last = again;
        }
        return null;
    }

    /**
     * What identifies the file's content cheaply: its file key (inode), size and modification time, and where the
     * folder's {@code ..data} link points; null if unreadable.
     */
    private @Nullable Object stat() {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(String.valueOf(attributes.fileKey()), attributes.size(), attributes.lastModifiedTime(),
                    String.valueOf(dataLink()));
        } catch (IOException e) {
            return null;
        }
    }

    /** Where the config folder's {@code ..data} symlink points (a Kubernetes ConfigMap volume); null without one. */
    private @Nullable String dataLink() {
        Path folder = file.getParent();
        if (folder == null) {
            return null;
        }
        try {
            return Files.readSymbolicLink(folder.resolve("..data")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /**
     * The SHA-256 of the file's bytes, or null when it cannot be read right now (e.g. mid-rename). At most one byte
     * past {@link ConfigText#MAX_BYTES} is read (a file swapped for a huge or endless one changes the digest, and the
     * reload refuses it).
     */
    private byte @Nullable [] digest() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(ConfigText.readCapped(file));
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
