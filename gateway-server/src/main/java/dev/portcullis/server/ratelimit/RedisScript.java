package dev.portcullis.server.ratelimit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua script that takes one token from a shared bucket in Redis, atomically and on Redis's clock: the same
 * arithmetic as the in-process bucket ({@code dev.portcullis.core.ratelimit.BucketRate}).
 */
final class RedisScript {

    /*
     * The bucket is a hash {m, t}: the scaled units missing from a full bucket at time t (in the
     * rate's units, from TIME). Elapsed time refills it evenly (refill units per time unit) until
     * none are missing; taking a token adds cost, allowed while the result is at most capacity.
     * TIME is Redis's wall clock, which may step back behind a stored t: a negative elapsed time
     * counts as none (never as a deficit), and an admitted take restamps t on the clock's time.
     * A limited take changes nothing and answers the wait in microseconds. Every number stays
     * below 2^53, so Lua's doubles are exact (BucketRate.forStore keeps the capacity below 2^52,
     * a microsecond clock is near 2^51 today); numbers are written with %.0f, never %.14g.
     *
     * KEYS[1] bucket; ARGV: unit (microseconds per time unit), refill, cost, capacity, ttl (ms).
     * Returns {1, 0} when admitted, {0, wait in microseconds} when limited.
     */
    static final String SOURCE = String.join("\n",
            "local unit = tonumber(ARGV[1])",
            "local refill = tonumber(ARGV[2])",
            "local cost = tonumber(ARGV[3])",
            "local capacity = tonumber(ARGV[4])",
            "local time = redis.call('TIME')",
            "local now = math.floor((tonumber(time[1]) * 1000000 + tonumber(time[2])) / unit)",
            "local state = redis.call('HMGET', KEYS[1], 'm', 't')",
            "local missing = 0",
            "if state[1] and state[2] then",
            "  local m = tonumber(state[1])",
            "  local elapsed = now - tonumber(state[2])",
            "  if elapsed < 0 then elapsed = 0 end",
            "  if elapsed < math.ceil(m / refill) then missing = m - elapsed * refill end",
            "end",
            "local after = missing + cost",
            "if after > capacity then",
            "  return {0, math.ceil((after - capacity) / refill) * unit}",
            "end",
            "redis.call('HSET', KEYS[1], 'm', string.format('%.0f', after), 't', string.format('%.0f', now))",
            "redis.call('PEXPIRE', KEYS[1], ARGV[5])",
            "return {1, 0}",
            "");

    /** The script's SHA-1, as {@code EVALSHA} names it. */
    static final String SHA1 = sha1(SOURCE);

    /** {@link #SOURCE} as a RESP bulk string, as {@code EVAL} and {@code SCRIPT LOAD} send it. */
    static final byte[] SOURCE_BULK = Resp.bulk(SOURCE);

    /** {@link #SHA1} as a RESP bulk string, as {@code EVALSHA} sends it. */
    static final byte[] SHA1_BULK = Resp.bulk(SHA1);

    private RedisScript() {}

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-1", e);
        }
    }
}
