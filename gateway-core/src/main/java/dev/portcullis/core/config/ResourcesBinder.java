package dev.portcullis.core.config;

import dev.portcullis.core.ratelimit.SharedStoreSettings;
import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Binds the named resources the gateway draws on: {@code geoip} databases, {@code rate_limits}, {@code rate_limit_store}
 * and {@code responses}.
 */
final class ResourcesBinder {

    private static final List<String> GEOIP_KEYS = List.of("database", "asn_database");
    private static final List<String> RATE_LIMIT_KEYS = List.of("key", "limit", "per", "burst", "scope");
    private static final List<String> STORE_KEYS = List.of("redis");
    private static final List<String> REDIS_KEYS = List.of("url", "password_env", "timeout", "on_error");
    private static final Map<String, OnError> ON_ERRORS = onErrors();
    private static final List<String> RESPONSE_KEYS = List.of("content_type", "body", "body_file");

    private final YamlValues read;
    private final Problems problems;

    ResourcesBinder(YamlValues read) {
        this.read = read;
        this.problems = read.problems();
    }

    /** {@code geoip} in the root section; no databases when not written. */
    GeoIpConfig geoip(YamlSection root) {
        YamlSection geoip = root.section("geoip", GEOIP_KEYS);
        return new GeoIpConfig(geoip.optionalString("database"), geoip.optionalString("asn_database"));
    }

    /** {@code rate_limits}: a map of limiter name to its settings, in file order. */
    List<RateLimitConfig> rateLimits(YamlSection root) {
        List<RateLimitConfig> limiters = new ArrayList<>();
        YamlNode node = root.node("rate_limits");
        if (node == null || YamlValues.isNull(node)) {
            return limiters;
        }
        if (!(node instanceof YamlNode.Mapping mapping)) {
            read.typeProblem(node, "rate_limits", "a map of limiter names to {key, limit, per, burst}");
            return limiters;
        }
        for (YamlNode.Entry entry : mapping.entries()) {
            String path = KeyPaths.key("rate_limits", entry.key());
            problems.remember(path, entry.keyLocation());
            if (!(entry.value() instanceof YamlNode.Mapping settings)) {
                read.typeProblem(entry.value(), path, "a limiter, e.g. { key: subject, limit: 100, per: 1m }");
                continue;
            }
            YamlSection limiter = new YamlSection(read, settings, path, RATE_LIMIT_KEYS, Set.of());
            Integer limit = limiter.node("limit") == null ? null : limiter.optionalInteger("limit", 1);
            if (limiter.node("limit") == null) {
                problems.add(path, "required key limit is missing (expected: the number of requests per `per`, e.g. 100)");
            }
            if (limiter.node("per") == null) {
                problems.add(path, "required key per is missing (expected: the refill period, e.g. 1m)");
            }
            limiters.add(new RateLimitConfig(entry.key(),
                    limiter.requiredString("key", "subject, client_ip or header:<Name>"),
                    limit == null ? null : limit.longValue(),
                    limiter.optionalDuration("per", false),
                    limiter.integer("burst", 0, 0),
                    limiter.string("scope", "local")));
        }
        return limiters;
    }

    /** {@code rate_limit_store}; null when not written. */
    @Nullable RateLimitStoreConfig rateLimitStore(YamlSection root) {
        YamlNode node = root.node("rate_limit_store");
        if (node == null || YamlValues.isNull(node)) {
            return null;
        }
        YamlSection store = root.section("rate_limit_store", STORE_KEYS);
        YamlNode redisNode = store.node("redis");
        if (redisNode == null || YamlValues.isNull(redisNode)) {
            if (node instanceof YamlNode.Mapping) {
                problems.add(node.location(), "rate_limit_store",
                        "required key redis is missing (expected: redis: { url: \"redis://host:6379/0\" })");
            }
            return null;
        }
        YamlSection redis = store.section("redis", REDIS_KEYS);
        String url = redis.requiredString("url", "the Redis URL, e.g. redis://127.0.0.1:6379/0");
        return new RateLimitStoreConfig(url, redis.optionalString("password_env"),
                redis.duration("timeout", SharedStoreSettings.DEFAULT_TIMEOUT, false),
                redis.oneOf("on_error", "on_error", ON_ERRORS, OnError.ALLOW));
    }

    private static Map<String, OnError> onErrors() {
        Map<String, OnError> options = new LinkedHashMap<>();
        for (OnError onError : OnError.values()) {
            options.put(onError.code(), onError);
        }
        return Collections.unmodifiableMap(options);
    }

    /** {@code responses}: a map of status to the body that replaces the gateway's, in file order. */
    List<ResponseConfig> responses(YamlSection root) {
        List<ResponseConfig> responses = new ArrayList<>();
        YamlNode node = root.node("responses");
        if (node == null || YamlValues.isNull(node)) {
            return responses;
        }
        if (!(node instanceof YamlNode.Mapping mapping)) {
            read.typeProblem(node, "responses", "a map of statuses to { body | body_file, content_type }");
            return responses;
        }
        for (YamlNode.Entry entry : mapping.entries()) {
            String path = KeyPaths.key("responses", entry.key());
            problems.remember(path, entry.keyLocation());
            Integer status = ConfigValues.status(entry.key());
            if (status == null) {
                problems.add(entry.keyLocation(), path, ConfigValues.quote(entry.key())
                        + " is not a status (expected: a status the gateway answers, e.g. 403)");
                continue;
            }
            if (!(entry.value() instanceof YamlNode.Mapping settings)) {
                read.typeProblem(entry.value(), path, "a response, e.g. { body: '...', content_type: text/plain }");
                continue;
            }
            YamlSection response = new YamlSection(read, settings, path, RESPONSE_KEYS, Set.of());
            responses.add(new ResponseConfig(status, response.optionalString("content_type"),
                    response.optionalString("body"), response.optionalString("body_file")));
        }
        return responses;
    }
}
