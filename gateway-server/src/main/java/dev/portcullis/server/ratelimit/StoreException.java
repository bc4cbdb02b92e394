package dev.portcullis.server.ratelimit;

/**
 * A failure of a rate limit store, made for each failed request: only its message is ever read (logged once a
 * second at most), so it has no stack trace to fill in or keep.
 */
final class StoreException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    StoreException(String message) {
        super(message);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
