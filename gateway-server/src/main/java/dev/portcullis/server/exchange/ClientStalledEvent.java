package dev.portcullis.server.exchange;

/**
 * The user event that tells a client connection's handlers that its client has taken none of what was written to it
 * while stalled clients held more than their budget ({@link StalledBudget}): the handler holding an exchange in flight
 * ends it, logged {@code error: client_stalled}; the connection is closed right after.
 */
public enum ClientStalledEvent {
    INSTANCE
}
