package dev.portcullis.core.decision;

import dev.portcullis.core.http.HeaderValues;
import dev.portcullis.core.policy.AllOf;
import dev.portcullis.core.policy.AnyOf;
import dev.portcullis.core.policy.HeaderMatcher;
import dev.portcullis.core.policy.Mode;
import dev.portcullis.core.policy.Not;
import dev.portcullis.core.policy.ReferrerMatcher;
import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.Rule;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The request headers that decide access: the names of the {@code headers} conditions of enforcing rules,
 * {@code Referer} when one has a {@code referrers} condition, and the header a {@code header:<Name>} rate limiter of
 * an enforcing rule counts by, and the forwarded identity's user and roles headers (a trusted proxy that appended a
 * client's copy instead of replacing it would send two; from any other peer they are removed before this check).
 * A request that repeats one of them is ambiguous: the gateway would decide on one line
 * (or on any of them) and the upstream might read another, so it is refused, as a repeated {@code Authorization} is.
 * Audit rules never block, so what they read is not included.
 */
final class PolicyHeaders {

    private PolicyHeaders() {}

    /** The names, lower case, in rule order and then the identity's, each once. */
    static List<String> readBy(List<Rule> rules, Map<String, RateLimitDefinition> limitByName,
            List<String> forwardedIdentityHeaders) {
        Set<String> names = new LinkedHashSet<>();
        for (Rule rule : rules) {
            if (rule.mode() == Mode.AUDIT) {
                continue;
            }
            collect(rule.match(), names);
            collect(rule.require(), names);
            RateLimitDefinition limit = rule.rateLimit() == null ? null : limitByName.get(rule.rateLimit());
            String header = limit == null || limit.key() != RateLimitDefinition.KeyKind.HEADER ? null : limit.header();
            if (header != null) {
                names.add(header.toLowerCase(Locale.ROOT));
            }
        }
        for (String header : forwardedIdentityHeaders) {
            names.add(header.toLowerCase(Locale.ROOT));
        }
        return List.copyOf(names);
    }

    /**
     * The first of {@code names} that two of the request's header {@code lines} (name and value, in order) are
     * named, in any case and with {@code _} for {@code -}; null when none is repeated.
     */
    static @Nullable String repeated(Iterable<? extends Map.Entry<? extends CharSequence, ?>> lines,
            List<String> names) {
        if (names.isEmpty()) {
            return null;
        }
        int[] seen = new int[names.size()];
        for (Map.Entry<? extends CharSequence, ?> line : lines) {
            for (int i = 0; i < seen.length; i++) {
                if (HeaderValues.sameName(line.getKey(), names.get(i), false) && ++seen[i] > 1) {
                    return names.get(i);
                }
            }
        }
        return null;
    }

    private static void collect(RequestMatcher matcher, Set<String> names) {
        if (matcher instanceof HeaderMatcher header) {
            names.add(header.name().toLowerCase(Locale.ROOT));
        } else if (matcher instanceof ReferrerMatcher) {
            names.add("referer");
        } else if (matcher instanceof AllOf all) {
            all.matchers().forEach(m -> collect(m, names));
        } else if (matcher instanceof AnyOf any) {
            any.matchers().forEach(m -> collect(m, names));
        } else if (matcher instanceof Not not) {
            collect(not.matcher(), names);
        }
    }
}
