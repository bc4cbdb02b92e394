package dev.portcullis.server.exchange;

/**
 * Told of every exchange once it has finished (response written, or the connection gone): the access
 * log and the metrics are listeners.
 *
 * <p>Called on the client channel's event loop: an implementation must not block, and must read what it
 * needs from the exchange before it returns (the exchange is not touched again afterwards).
 */
public interface ExchangeListener {
    void exchangeFinished(Exchange exchange);
}
