package dev.portcullis.bench.embedded;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * An upstream connection answered in memory: the gateway's upstream pool creates it through its {@code Bootstrap}
 * (a {@code Transport} whose socket channel class is this one), and every request head it is sent (a bodiless
 * request: the bytes written end with an empty line) is answered {@link #ANSWER_DELAY_NANOS} later on the loop's
 * clock with {@link #RESPONSE}, read from a pooled buffer as a socket read would deliver it.
 */
public final class InMemoryUpstreamChannel extends EmbeddedSocketChannel {

    /** The upstream's answer to every request: a small keep-alive 200 with a body. */
    public static final String RESPONSE =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, bench\n";

    /**
     * How long after a request the answer is read. With the embedded loop's time frozen, the answer is delivered when
     * the driver advances time, after the client's read was processed: an embedded channel runs its loop's due
     * tasks inside every write, so an answer due at once would arrive while the request is still being forwarded,
     * which a real event loop never does.
     */
    public static final long ANSWER_DELAY_NANOS = 1;

    private static final byte[] RESPONSE_BYTES = RESPONSE.getBytes(StandardCharsets.US_ASCII);

    private final Runnable answer = this::answer;
    private long requests;

    /** What the upstream pool's {@code Bootstrap} instantiates. */
    public InMemoryUpstreamChannel() {
    }

    /** Requests answered so far. */
    public long requests() {
        return requests;
    }

    @Override
    protected void handleOutboundMessage(Object msg) {
        try {
            if (msg instanceof ByteBuf bytes && endsWithEmptyLine(bytes)) {
                requests++;
                eventLoop().schedule(answer, ANSWER_DELAY_NANOS, TimeUnit.NANOSECONDS);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private static boolean endsWithEmptyLine(ByteBuf bytes) {
        int end = bytes.writerIndex();
        return bytes.readableBytes() >= 4
                && bytes.getByte(end - 4) == '\r' && bytes.getByte(end - 3) == '\n'
                && bytes.getByte(end - 2) == '\r' && bytes.getByte(end - 1) == '\n';
    }

    private void answer() {
        if (!isActive()) {
            return;
        }
        ByteBuf response = alloc().ioBuffer(RESPONSE_BYTES.length);
        response.writeBytes(RESPONSE_BYTES);
        pipeline().fireChannelRead(response);
        pipeline().fireChannelReadComplete();
    }
}
