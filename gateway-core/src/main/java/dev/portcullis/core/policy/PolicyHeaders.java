package dev.portcullis.core.policy;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The request headers a policy's conditions read: the names of its {@code headers} conditions, and {@code Referer}
 * when it has a {@code referrers} condition. A request that repeats one of them is ambiguous: the policy would
 * decide on one line (or on any of them) and the upstream might read another, so the gateway refuses it, as it
 * refuses a repeated {@code Authorization}.
 */
public final class PolicyHeaders {

    private PolicyHeaders() {}

    /** The names, lower case, in rule order, each once. */
    static List<String> readBy(List<Rule> rules) {
        Set<String> names = new LinkedHashSet<>();
        for (Rule rule : rules) {
            collect(rule.match(), names);
            collect(rule.require(), names);
        }
        return List.copyOf(names);
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
