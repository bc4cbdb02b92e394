package dev.portcullis.server.it.support;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;

/**
 * Reads at most {@code rate} bytes per second on average, in reads of at most 16 KiB: a slow but steady reader (it
 * never pauses longer than one read's worth), for clients and for the test upstream.
 */
public final class PacedInputStream extends FilterInputStream {
    private static final int MAX_READ = 16 * 1024;

    private final long rate;
    private final long start = System.nanoTime();
    private long count;

    public PacedInputStream(InputStream in, long rate) {
        super(in);
        this.rate = rate;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            account(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int k = super.read(b, off, Math.min(len, MAX_READ));
        if (k > 0) {
            account(k);
        }
        return k;
    }

    private void account(int k) throws IOException {
        count += k;
        long ahead = start + count * 1_000_000_000L / rate - System.nanoTime();
        if (ahead > 1_000_000L) {
            try {
                TimeUnit.NANOSECONDS.sleep(ahead);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
        }
    }
}
