package dev.portcullis.server.proxy;

import io.netty.handler.codec.http.HttpObject;

/** Receives what an upstream connection reads while it is lent to one exchange. */
interface UpstreamListener {
    /** A response head or body part; ownership passes to the listener. */
    void onUpstreamMessage(HttpObject message);

    /** The upstream read burst ended: flush what was written to the client. */
    void onUpstreamReadComplete();

    /** The upstream can take more request body again, or cannot. */
    void onUpstreamWritabilityChanged(boolean writable);

    /** The upstream connection closed or failed. */
    void onUpstreamClosed(@org.jspecify.annotations.Nullable Throwable cause);
}
