package dev.portcullis.server.proxy;

/** No upstream connection became free within {@code connect_timeout} while the pool was at its bound. */
final class UpstreamPoolExhaustedException extends Exception {
    UpstreamPoolExhaustedException(int max) {
        super("all " + max + " upstream connections are busy", null, false, false);
    }
}
