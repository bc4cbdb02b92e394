package dev.portcullis.server.log;

import ch.qos.logback.core.ConsoleAppender;
import java.io.BufferedOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;

/** A console appender that collects its lines in a buffer so that one flush writes many of them at once. */
public final class BufferedConsoleAppender<E> extends ConsoleAppender<E> implements Flushable {

    /*
     * Why: a ConsoleAppender writes through System.out, a PrintStream with autoflush over a 128-byte
     * buffer, so every line is its own write(2) whatever immediateFlush says. This appender puts a
     * BufferedOutputStream of bufferSize bytes between the encoder and the console target: with
     * immediateFlush false, lines accumulate and reach System.out (and the file descriptor) when the buffer
     * fills or when flush() is called, as one write of many lines; System.out's own lock keeps that write
     * whole against other threads printing to it. DroppingAsyncAppender calls flush() after every batch it
     * drains, so a line never waits in the buffer longer than its batch; used on its own with
     * immediateFlush false, nothing would flush it, so keep immediateFlush true (the default) there.
     */

    private int bufferSize = 64 * 1024;

    /** Size of the buffer in bytes (default 65536). */
    public void setBufferSize(int bufferSize) {
        this.bufferSize = bufferSize;
    }

    public int getBufferSize() {
        return bufferSize;
    }

    @Override
    public void start() {
        if (bufferSize < 1) {
            addError("bufferSize " + bufferSize + " is not positive (expected at least 1)");
            return;
        }
        super.start();
        OutputStream console = getOutputStream();
        if (isStarted() && console != null) {
            setOutputStream(new BufferedOutputStream(console, bufferSize));
        }
    }

    /** Writes the buffered lines to the console. */
    @Override
    public void flush() throws IOException {
        streamWriteLock.lock();
        try {
            OutputStream out = getOutputStream();
            if (isStarted() && out != null) {
                out.flush();
            }
        } finally {
            streamWriteLock.unlock();
        }
    }
}
