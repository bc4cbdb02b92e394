package dev.portcullis.server.ratelimit;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.redis.BulkStringHeaderRedisMessage;
import io.netty.handler.codec.redis.FixedRedisMessagePool;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.util.ReferenceCountUtil;

/**
 * Refuses a Redis answer larger than any the store can get, before it is gathered: the store's answers are the
 * script's two integers, {@code +OK}, the script's SHA-1 (a 40-byte bulk string) and short errors.
 */
final class ReplyBound extends ChannelInboundHandlerAdapter {

    /*
     * Implementation notes: sits between RedisDecoder, which passes a bulk string on in parts, and the
     * aggregators, which would gather up to 512 MB of one. A simple string, error or integer line is
     * bounded by the decoder itself (MAX_LINE_BYTES), an array by its aggregator (MAX_ARRAY_ELEMENTS,
     * no nesting), a bulk string here, on its header. What follows a refused answer is dropped until the
     * connection, closed at once, is gone.
     */

    /** The longest bulk string, and the longest simple string, error or integer line, an answer may hold. */
    static final int MAX_BULK_BYTES = 4_096;
    static final int MAX_LINE_BYTES = 4_096;
    /** The most elements an answer's array may have (the script answers two); nested arrays are refused. */
    static final int MAX_ARRAY_ELEMENTS = 16;

    private boolean refusing;

    /** Adds the RESP decoding of a store connection, bounded, in front of {@code replies}. */
    static void addDecoders(ChannelPipeline pipeline, ChannelInboundHandlerAdapter replies) {
        pipeline.addLast(new RedisDecoder(MAX_LINE_BYTES, FixedRedisMessagePool.INSTANCE), new ReplyBound(),
                new RedisBulkStringAggregator(), new RedisArrayAggregator(MAX_ARRAY_ELEMENTS, 1), replies);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refusing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof BulkStringHeaderRedisMessage header && header.bulkStringLength() > MAX_BULK_BYTES) {
            refusing = true;
            ctx.fireExceptionCaught(new TooLongFrameException("an answer of " + header.bulkStringLength()
                    + " bytes (expected: at most " + MAX_BULK_BYTES + ")"));
            ctx.close();
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
