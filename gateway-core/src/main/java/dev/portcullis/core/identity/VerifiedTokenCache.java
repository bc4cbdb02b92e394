package dev.portcullis.core.identity;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.portcullis.core.runtime.HeapShare;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The verified-token cache of a {@link JwtIdentityResolver}: successful verifications, keyed so that a hit
 * needs the very token that was verified while no credential is kept.
 *
 * <p>Implementation notes. Keyed by the SHA-256 of the token's signature part, holding the Resolved
 * outcome with the provider, key set and key that verified it, and the token's signing input
 * (header.payload), which a hit must match exactly. Without its signature a token is worthless, so the
 * cache holds no credential. A hit is valid while the provider's current key set is that set or still
 * holds that key, and the clock is before the token's exp (or {@link #NO_EXP_TTL} after verification for
 * a token without exp). Only successes are cached.
 *
 * <p>The hot path allocates only the key. {@link #hit} copies the token into a per-thread buffer with one bulk
 * conversion (refusing any character above U+00FF), digests its signature part and compares the signing input
 * with the entry's: a hit is byte for byte a token that was scanned, verified and cached before, so it needs no
 * character-by-character check of its own. Anything else goes through {@link #scan}, the full syntax check, before
 * it is verified; {@link #put} then caches the token the calling thread scanned last. Both must be called on the
 * thread that scanned it, with no other scan in between (the resolver does so within one call).
 */
final class VerifiedTokenCache {
    /** How long a verified token without {@code exp} is served from the cache before it is verified again. */
    static final Duration NO_EXP_TTL = Duration.ofMinutes(5);

    /** The weight of an average token in bytes (the cache size in tokens is counted in these). */
    static final int AVERAGE_TOKEN_BYTES = 4 * 1024;

    private final Cache<TokenKey, CachedIdentity> cache;

    /**
     * A cache of about {@code maximumSize} tokens of average size, and never more than an eighth of the heap: it is
     * weighed in bytes (an entry holds its signing input and the identity read from it, some three times the signing
     * input), so that large tokens cannot fill the heap (10,000 tokens of 8 KB ran a 64 MiB gateway out of memory).
     */
    VerifiedTokenCache(int maximumSize) {
        this(budget(maximumSize, Runtime.getRuntime().maxMemory()));
    }

    private VerifiedTokenCache(long maximumBytes) {
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maximumBytes)
                .weigher((TokenKey key, CachedIdentity entry) -> weight(entry.signingInput().length))
                .expireAfter(Expiry.<TokenKey, CachedIdentity>creating((key, entry) -> entry.ttl()))
                .executor(Runnable::run)
                .build();
    }

    /** The cache's budget in bytes: {@code maximumSize} average tokens, at most an eighth of {@code maxHeap}. */
    static long budget(int maximumSize, long maxHeap) {
        return Math.min((long) maximumSize * AVERAGE_TOKEN_BYTES, HeapShare.of(maxHeap));
    }

    /** What an entry weighs: its signing input, the identity's claims read from it, and the objects around them. */
    static int weight(int signingInputLength) {
        return 3 * signingInputLength + 512;
    }

    /**
     * Copies a compact JWS (three base64url parts, the first two non-empty) into the calling thread's
     * buffer; false when {@code token} is not one. Tokens over {@link JwtIdentityResolver#MAX_TOKEN_LENGTH}
     * must be rejected before.
     */
    static boolean scan(String token) {
        return scan(token, 0, token.length());
    }

    /** As {@link #scan(String)}, for the token {@code text[start, end)}. */
    static boolean scan(String text, int start, int end) {
        return SCRATCH.get().copyIfCompactJws(text, start, end) >= 0;
    }

    /**
     * The cached outcome for the token {@code text[start, end)} if it is, byte for byte, a token this cache holds and
     * the entry is still valid at {@code now}; else null, and the token must be {@linkplain #scan scanned} before
     * anything else is done with it.
     */
    Resolution.@Nullable Resolved hit(String text, int start, int end, Instant now) {
        Scratch scratch = SCRATCH.get();
        if (!scratch.copyLatin1(text, start, end)) {
            return null;
        }
        TokenKey key = scratch.digestSignature();
        CachedIdentity hit = cache.getIfPresent(key);
        if (hit == null || !hit.signs(scratch.bytes, scratch.signatureStart)) {
            return null;
        }
        if (hit.isValid(now)) {
            return hit.resolution();
        }
        cache.invalidate(key);
        return null;
    }

    /** Caches the successful verification of the token this thread {@linkplain #scan scanned} last. */
    void put(Resolution.Resolved result, JwtProvider provider, KeySet keySet, VerifyingKey key, Instant now,
            Instant validUntil) {
        Scratch scratch = SCRATCH.get();
        if (!now.isBefore(validUntil)) {
            return;
        }
        TokenKey cacheKey = scratch.lastKey != null ? scratch.lastKey : scratch.digestSignature();
        cache.put(cacheKey, new CachedIdentity(result, provider, keySet, key, validUntil,
                Duration.between(now, validUntil), Arrays.copyOf(scratch.bytes, scratch.signatureStart - 1)));
    }

    /** The SHA-256 of a token's signature part: the cache key. */
    private record TokenKey(long a, long b, long c, long d) {}

    /** A verified token's outcome and what its validity depends on. */
    private record CachedIdentity(Resolution.Resolved resolution, JwtProvider provider, KeySet keySet,
            VerifyingKey key, Instant validUntil, Duration ttl, byte[] signingInput) {

        /** True when {@code token} (ASCII; its signature starts at {@code signatureStart}) has this entry's signing input. */
        boolean signs(byte[] token, int signatureStart) {
            int n = signingInput.length;
            return signatureStart == n + 1 && Arrays.equals(token, 0, n, signingInput, 0, n);
        }

        boolean isValid(Instant now) {
            if (!now.isBefore(validUntil)) {
                return false;
            }
            KeySet current = provider.keys.current();
            return current == keySet || (current != null && current.contains(key));
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread buffers for the cache-hit path, which runs for nearly every request. */
    private static final class Scratch {
        final MessageDigest sha256;
        final byte[] bytes = new byte[JwtIdentityResolver.MAX_TOKEN_LENGTH];
        /** The token's chars for {@link #copyLatin1}, and the encoder that narrows them, refusing what is not Latin-1. */
        private final char[] chars = new char[JwtIdentityResolver.MAX_TOKEN_LENGTH];
        private final CharsetEncoder latin1 = StandardCharsets.ISO_8859_1.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        /** Reused views of {@link #chars} and {@link #bytes} for the encoder: no buffer object per request. */
        private final CharBuffer charView = CharBuffer.wrap(chars);
        private final ByteBuffer byteView = ByteBuffer.wrap(bytes);
        final byte[] hash = new byte[32];
        /** Length of the token copied last. */
        int length;
        /** Where the signature part of the token copied last starts. */
        int signatureStart;
        /** The cache key of the token copied last, once digested. */
        @Nullable TokenKey lastKey;

        Scratch() {
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is required of every JDK", e);
            }
        }

        /**
         * Copies {@code token[start, end)} into {@link #bytes} unchecked but for being Latin-1 (a character above
         * U+00FF could otherwise alias a base64url byte), with two bulk conversions the JIT vectorizes, and takes the
         * signature to start after the second '.'; false when there is none or a character is not Latin-1. For the
         * cache lookup only: what it copies is trusted only when it equals a cached token byte for byte.
         */
        boolean copyLatin1(String token, int start, int end) {
            lastKey = null;
            int n = end - start;
            int firstDot = token.indexOf('.', start);
            int secondDot = firstDot < 0 || firstDot >= end ? -1 : token.indexOf('.', firstDot + 1);
            if (secondDot < 0 || secondDot >= end) {
                return false;
            }
            token.getChars(start, end, chars, 0);
            latin1.reset();
            charView.clear().limit(n);
            byteView.clear().limit(n);
            CoderResult result = latin1.encode(charView, byteView, true);
            if (result.isError() || result.isOverflow()) {
                return false;
            }
            signatureStart = secondDot + 1 - start;
            length = n;
            return true;
        }

        /** Copies the compact JWS {@code token[start, end)} into {@link #bytes}; its length, or -1. */
        @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): a plain copy of Latin-1 text
        int copyIfCompactJws(String token, int start, int end) {
            lastKey = null;
            int dots = 0;
            int partStart = 0;
            int n = end - start;
            byte[] out = bytes;
            // Copies the low byte of each char; a char above 0xFF could alias a valid byte, so the scan
            // below rejects every byte that is not base64url or '.', and the copy is checked against
            // the string only for non-Latin-1 input, which String.getBytes cannot represent.
            token.getBytes(start, end, out, 0);
            for (int i = 0; i < n; i++) {
                int c = out[i];
                if (c < 0 || !BASE64URL_OR_DOT[c] || token.charAt(start + i) != c) {
                    return -1;
                }
                if (c == '.') {
                    if (i == partStart || ++dots > 2 || !canonical(out, partStart, i)) {
                        return -1;
                    }
                    partStart = i + 1;
                }
            }
            if (!canonical(out, partStart, n)) {
                return -1;
            }
            // an empty third part (no signature) is left to the parser, which tells alg none apart
            signatureStart = partStart;
            length = n;
            return dots == 2 ? n : -1;
        }

        /**
         * True when the base64url text {@code out[start, end)} (already checked to be of the alphabet) is the one
         * encoding of its bytes: a length that leaves 2 or 3 characters in the last group must leave the last
         * character's unused low bits (4 or 2) zero. Decoders ignore those bits, so without this check anyone holding
         * a token could make other strings that verify as the same token, and a deny list or WAF matching token
         * strings would miss them (RFC 4648 3.5 lets a decoder reject them).
         */
        static boolean canonical(byte[] out, int start, int end) {
            int length = end - start;
            switch (length & 3) {
                case 0:
                    return true;
                case 1:
                    return false;
                case 2:
                    return (sextet(out[end - 1]) & 0x0F) == 0;
                default:
                    return (sextet(out[end - 1]) & 0x03) == 0;
            }
        }

        /** The 6-bit value of a base64url character. */
        private static int sextet(byte c) {
            if (c >= 'A' && c <= 'Z') {
                return c - 'A';
            }
            if (c >= 'a' && c <= 'z') {
                return c - 'a' + 26;
            }
            if (c >= '0' && c <= '9') {
                return c - '0' + 52;
            }
            return c == '-' ? 62 : 63;
        }

        private static final boolean[] BASE64URL_OR_DOT = new boolean[128];

        static {
            for (char c = 'A'; c <= 'Z'; c++) {
                BASE64URL_OR_DOT[c] = true;
                BASE64URL_OR_DOT[Character.toLowerCase(c)] = true;
            }
            for (char c = '0'; c <= '9'; c++) {
                BASE64URL_OR_DOT[c] = true;
            }
            BASE64URL_OR_DOT['-'] = true;
            BASE64URL_OR_DOT['_'] = true;
            BASE64URL_OR_DOT['.'] = true;
        }

        TokenKey digestSignature() {
            sha256.update(bytes, signatureStart, length - signatureStart);
            try {
                sha256.digest(hash, 0, hash.length);
            } catch (DigestException e) {
                throw new IllegalStateException("SHA-256 digest of 32 bytes", e);
            }
            TokenKey key = new TokenKey(longAt(0), longAt(8), longAt(16), longAt(24));
            lastKey = key;
            return key;
        }

        private long longAt(int offset) {
            long value = 0;
            for (int i = 0; i < 8; i++) {
                value = (value << 8) | (hash[offset + i] & 0xFF);
            }
            return value;
        }
    }
}
