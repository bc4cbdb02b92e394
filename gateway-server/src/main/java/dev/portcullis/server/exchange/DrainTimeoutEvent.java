package dev.portcullis.server.exchange;

/**
 * The user event that tells a client connection's handlers that {@code drain_timeout} ended with its exchange in
 * flight: the handler holding that exchange ends it (503 or 504 while nothing of its response was sent, else both
 * connections closed), logged {@code error: drain_timeout}.
 */
public enum DrainTimeoutEvent {
    INSTANCE
}
