package dev.portcullis.server.proxy;

import dev.portcullis.server.http.HeaderLines;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequestEncoder;

/** Netty's request encoder, writing the forwarded header block with {@link HeaderLines}. */
final class UpstreamRequestEncoder extends HttpRequestEncoder {
    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
        HeaderLines.write(headers, buf);
    }
}
