package dev.portcullis.core.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Binds the named resources the gateway draws on: {@code geoip} databases, {@code rate_limits} and {@code responses}. */
final class ResourcesBinder {

    private static final List<String> GEOIP_KEYS = List.of("database", "asn_database");
    private static final List<String> RATE_LIMIT_KEYS = List.of("key", "limit", "per", "burst", "scope");
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
