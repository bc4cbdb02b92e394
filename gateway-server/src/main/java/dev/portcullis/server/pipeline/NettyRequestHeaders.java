package dev.portcullis.server.pipeline;

import dev.portcullis.core.policy.RequestHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/** Presents Netty's request headers to the policy engine without copying them. */
final class NettyRequestHeaders implements RequestHeaders {
    private final HttpHeaders headers;

    NettyRequestHeaders(HttpHeaders headers) {
        this.headers = headers;
    }

    @Override
    public @Nullable String first(String name) {
        return headers.get(name);
    }

    @Override
    public boolean contains(String name) {
        return headers.contains(name);
    }

    @Override
    public boolean containsValue(String name, String exactValue) {
        return headers.contains(name, exactValue, false);
    }
}
