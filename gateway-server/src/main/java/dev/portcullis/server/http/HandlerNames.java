package dev.portcullis.server.http;

/** Names of the handlers in a client connection's pipeline. */
public final class HandlerNames {
    public static final String HEAD_TIMEOUT = "head-timeout";
    public static final String CODEC = "http-codec";
    public static final String SERIALIZER = "exchange-serializer";
    public static final String ACCESS_CONTROL = "access-control";
    public static final String PROXY = "proxy";
    public static final String LINGERING_CLOSE = "lingering-close";

    private HandlerNames() {}
}
