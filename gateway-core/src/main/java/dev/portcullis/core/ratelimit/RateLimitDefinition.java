package dev.portcullis.core.ratelimit;

import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.HeaderMatcher;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code rate_limits}, validated: a token bucket per key with capacity {@code limit + burst}, refilled
 * evenly at {@code limit} tokens per {@code per}.
 *
 * @param name the limiter's name, which rules refer to
 * @param key what the requests are counted by
 * @param header the header whose first value is the key when {@code key} is {@link KeyKind#HEADER}; null otherwise
 * @param limit tokens added per {@code per}; at least 1
 * @param per the refill period; positive
 * @param burst tokens the bucket holds beyond {@code limit}; at least 0
 * @param scope where the buckets live
 */
public record RateLimitDefinition(
        String name, KeyKind key, @Nullable String header, long limit, Duration per, long burst, Scope scope) {

    private static final String HEADER_PREFIX = "header:";

    /** What a limiter counts requests by ({@code key}). */
    public enum KeyKind {
        /** The identity's subject; anonymous requests share one bucket. */
        SUBJECT("subject"),
        /** The client IP after trusted-proxy resolution (SPEC 3.3). */
        CLIENT_IP("client_ip"),
        /** The first value of a header; requests without it share one bucket. */
        HEADER("header:<Name>");

        private final String code;

        KeyKind(String code) {
            this.code = code;
        }

        /** The spelling in the config ({@code header:<Name>} for {@link #HEADER}). */
        public String code() {
            return code;
        }
    }

    /** Where a limiter's buckets live ({@code scope}). */
    public enum Scope {
        /** In this process. */
        LOCAL("local"),
        /** In {@code rate_limit_store}, drawn on by every replica. */
        SHARED("shared");

        private final String code;

        Scope(String code) {
            this.code = code;
        }

        /** The spelling in the config. */
        public String code() {
            return code;
        }

        /** Parses {@code local} or {@code shared}. */
        public static Scope parse(String text) {
            for (Scope scope : values()) {
                if (scope.code.equals(text)) {
                    return scope;
                }
            }
            throw new IllegalArgumentException("\"" + text + "\" is not a rate limit scope (expected: local or shared)");
        }
    }

    /** Checks every field; messages show the value and what was expected. */
    public RateLimitDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(per, "per");
        Objects.requireNonNull(scope, "scope");
        if (name.isBlank()) {
            throw new IllegalArgumentException(
                    "\"" + name + "\" is not a valid rate limiter name (expected: a non-empty name)");
        }
        if (key == KeyKind.HEADER) {
            if (header == null) {
                throw new IllegalArgumentException("key header has no header name (expected: header:<Name>)");
            }
            HeaderMatcher.checkName(header);
        } else if (header != null) {
            throw new IllegalArgumentException("key " + key.code() + " has a header name \"" + header
                    + "\" (expected: a header name only with header:<Name>)");
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit " + limit + " is out of range (expected: 1 or more)");
        }
        if (per.isNegative() || per.isZero()) {
            throw new IllegalArgumentException("per " + per + " is out of range (expected: a positive duration)");
        }
        if (burst < 0) {
            throw new IllegalArgumentException("burst " + burst + " is out of range (expected: 0 or more)");
        }
        BucketRate.of(limit, burst, per);
        if (scope == Scope.SHARED) {
            BucketRate.forStore(limit, burst, per);
        }
    }

    /**
     * A definition whose key is given as in the config: {@code subject}, {@code client_ip} or {@code header:<Name>}
     * (the name an HTTP token).
     */
    public static RateLimitDefinition parseKey(
            String name, String key, long limit, Duration per, long burst, Scope scope) {
        checkKey(key);
        if (key.equals(KeyKind.SUBJECT.code())) {
            return new RateLimitDefinition(name, KeyKind.SUBJECT, null, limit, per, burst, scope);
        }
        if (key.equals(KeyKind.CLIENT_IP.code())) {
            return new RateLimitDefinition(name, KeyKind.CLIENT_IP, null, limit, per, burst, scope);
        }
        return new RateLimitDefinition(name, KeyKind.HEADER, key.substring(HEADER_PREFIX.length()), limit, per, burst,
                scope);
    }

    /**
     * Checks a key as written in the config, on its own (so that a config check can report it beside the limiter's
     * other problems): {@code subject}, {@code client_ip} or {@code header:<Name>} with an HTTP token as the name.
     *
     * @throws IllegalArgumentException with a message showing the key and what was expected
     */
    public static void checkKey(String key) {
        if (key.equals(KeyKind.SUBJECT.code()) || key.equals(KeyKind.CLIENT_IP.code())) {
            return;
        }
        if (!key.startsWith(HEADER_PREFIX)) {
            throw new IllegalArgumentException("\"" + key
                    + "\" is not a valid rate limit key (expected: subject, client_ip or header:<Name>)");
        }
        String header = key.substring(HEADER_PREFIX.length());
        if (!HeaderMatcher.isValidName(header)) {
            throw new IllegalArgumentException("\"" + key + "\" is not a valid rate limit key: \"" + header
                    + "\" is not a valid header name (expected: an HTTP token, e.g. header:X-Tenant)");
        }
    }

    /** The key as written in the config: {@code subject}, {@code client_ip} or {@code header:<Name>}. */
    public String keyText() {
        return key == KeyKind.HEADER ? HEADER_PREFIX + header : key.code();
    }

    /** How many tokens a bucket holds when full: {@code limit + burst}. */
    public long capacity() {
        return limit + burst;
    }

    /**
     * The request's value of {@link #key()}: its subject, its client IP, or the header's first value ({@code ""}
     * without it). Requests without the key share one bucket; the value is never logged.
     */
    public Object keyOf(AccessRequest request) {
        return switch (key) {
            case SUBJECT -> request.identity().subject();
            case CLIENT_IP -> request.clientIp();
            case HEADER -> {
                String value = request.headers().firstAnySpelling(Objects.requireNonNull(header, "header"));
                yield value == null ? "" : value;
            }
        };
    }

    /** {@code <name> key=<key> limit=<limit> per=<per> burst=<burst>}, for a limiter's {@code toString}. */
    String summary() {
        return name + " key=" + keyText() + " limit=" + limit + " per=" + per + " burst=" + burst;
    }
}
