package dev.portcullis.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A {@code match} or {@code require} condition as written: each key present must hold (SPEC 3.2).
 *
 * <p>A {@code null} component is a key that was not written (or was invalid, and reported);
 * a condition with no keys holds for every request.
 *
 * @param paths path globs, any of which must match
 * @param methods upper-case methods, any of which must be the request's
 * @param hosts host names or {@code *.domain} patterns, any of which must match
 * @param ip CIDRs, any of which must contain the client IP
 * @param authenticated whether the request must have an identity ({@code true}) or must have none ({@code false})
 * @param roles roles, any of which the identity must have
 * @param allRoles roles, all of which the identity must have
 * @param claims dotted claim path to accepted values, in file order; YAML numbers and booleans are already in the
 *     text form claims compare by ({@code 3}, {@code true})
 * @param headers header name to accepted exact values, in file order; an empty list accepts any value
 * @param any conditions, any of which must hold
 * @param all conditions, all of which must hold
 * @param not a condition that must not hold
 */
public record ConditionConfig(
        @Nullable List<String> paths,
        @Nullable List<String> methods,
        @Nullable List<String> hosts,
        @Nullable List<String> ip,
        @Nullable Boolean authenticated,
        @Nullable List<String> roles,
        @Nullable List<String> allRoles,
        @Nullable Map<String, List<String>> claims,
        @Nullable Map<String, List<String>> headers,
        @Nullable List<ConditionConfig> any,
        @Nullable List<ConditionConfig> all,
        @Nullable ConditionConfig not) {

    /** The condition with no keys, which holds for every request. */
    public static final ConditionConfig ALWAYS =
            new ConditionConfig(null, null, null, null, null, null, null, null, null, null, null, null);

    public ConditionConfig {
        paths = copy(paths);
        methods = copy(methods);
        hosts = copy(hosts);
        ip = copy(ip);
        roles = copy(roles);
        allRoles = copy(allRoles);
        claims = copy(claims);
        headers = copy(headers);
        any = copy(any);
        all = copy(all);
    }

    /** Whether no key was written. */
    public boolean isEmpty() {
        return equals(ALWAYS);
    }

    private static <T> @Nullable List<T> copy(@Nullable List<T> list) {
        return list == null ? null : List.copyOf(list);
    }

    private static @Nullable Map<String, List<String>> copy(@Nullable Map<String, List<String>> map) {
        if (map == null) {
            return null;
        }
        Map<String, List<String>> copy = new LinkedHashMap<>();
        map.forEach((name, values) -> copy.put(name, List.copyOf(values)));
        return Collections.unmodifiableMap(copy);
    }
}
