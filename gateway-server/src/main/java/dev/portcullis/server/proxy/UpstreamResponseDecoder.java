package dev.portcullis.server.proxy;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * Decodes the responses of a pooled upstream connection: knows whether the response answers a HEAD (no
 * body, whatever its headers say), and can tell whether bytes were left over after a response, which
 * makes the connection unfit for reuse (SPEC 3.7).
 */
final class UpstreamResponseDecoder extends HttpResponseDecoder {
    private boolean head;

    UpstreamResponseDecoder(HttpDecoderConfig config) {
        super(config);
    }

    /** The next response answers a request with {@code method}. */
    void expectResponseTo(HttpMethod method) {
        head = HttpMethod.HEAD.equals(method);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        if (head && msg instanceof HttpResponse response
                && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            return true;
        }
        return super.isContentAlwaysEmpty(msg);
    }

    /** True when received bytes wait in the decoder beyond the messages decoded so far. */
    boolean hasLeftover() {
        return actualReadableBytes() > 0;
    }
}
