package dev.portcullis.core.config;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.policy.AllOf;
import dev.portcullis.core.policy.AnyOf;
import dev.portcullis.core.policy.AsnMatcher;
import dev.portcullis.core.policy.AuthenticatedMatcher;
import dev.portcullis.core.policy.ClaimMatcher;
import dev.portcullis.core.policy.CountryMatcher;
import dev.portcullis.core.policy.HeaderMatcher;
import dev.portcullis.core.policy.HostMatcher;
import dev.portcullis.core.policy.HostPattern;
import dev.portcullis.core.policy.IpMatcher;
import dev.portcullis.core.policy.MethodMatcher;
import dev.portcullis.core.policy.Not;
import dev.portcullis.core.policy.PathGlob;
import dev.portcullis.core.policy.PathMatcher;
import dev.portcullis.core.policy.ReferrerMatcher;
import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.RoleMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Every condition key of SPEC 3.2, in the order their matchers are ANDed: the one table a new condition is
 * added to, each entry saying how the key is read, checked and compiled.
 */
final class ConditionKeys {
    private ConditionKeys() {}

    /** Every key name SPEC 3.2 defines, in its order: what an unknown key's message lists. */
    static final List<String> NAMES = List.of("paths", "methods", "hosts", "ip", "countries", "asns", "authenticated",
            "roles", "all_roles", "claims", "headers", "referrers", "schedule", "any", "all", "not");

    /** Keys that are part of the contract but not built yet: reported as "not supported yet". */
    static final Set<String> NOT_YET = Set.of();

    /** {@code methods}, which the policy compiler also reads as written, to warn of GET without HEAD. */
    static final ConditionKey<List<String>> METHODS =
            strings("methods", "a list of methods", "method, e.g. GET", (methods, c, path) -> {
                List<String> checked = c.each(methods, path, method -> {
                    MethodMatcher.checkMethod(method);
                    return method;
                });
                return checked == null ? null : c.build(path, () -> MethodMatcher.of(checked));
            });

    /** The condition keys, in SPEC order (which is also the order their matchers are ANDed in). */
    static final List<ConditionKey<?>> ALL = List.of(
            strings("paths", "a list of path globs", "path glob, e.g. \"/api/**\"", (globs, c, path) -> {
                List<PathGlob> compiled = c.each(globs, path, glob -> PathGlob.compile(glob, c.caseInsensitivePaths()));
                if (compiled != null) {
                    warnOfEncodableCharacters(globs, c, path);
                }
                return compiled == null ? null : c.build(path, () -> PathMatcher.of(compiled));
            }),
            METHODS,
            strings("hosts", "a list of host names", "host name, e.g. api.example.com", (hosts, c, path) -> {
                List<HostPattern> patterns = c.each(hosts, path, HostPattern::compile);
                return patterns == null ? null : c.build(path, () -> HostMatcher.of(patterns));
            }),
            strings("ip", "a list of CIDRs", "CIDR, e.g. 10.0.0.0/8", (texts, c, path) -> {
                List<Cidr> cidrs = c.each(texts, path, Cidr::parse);
                for (int i = 0; cidrs != null && i < texts.size(); i++) {
                    CidrLists.warnOfHostBits(texts.get(i), cidrs.get(i), KeyPaths.index(path, i), c::warning);
                }
                return cidrs == null ? null : c.build(path, () -> IpMatcher.of(CidrSet.of(cidrs), texts));
            }),
            strings("countries", "a list of country codes", "country code, e.g. DE", (codes, c, path) -> {
                // the values are checked with or without a database, so that both problems are reported at once
                List<String> checked = c.each(codes, path, CountryMatcher::checkCountry);
                if (!c.hasCountryDatabase()) {
                    c.problem(path, "countries needs a GeoIP country database (expected: geoip.database, a MaxMind "
                            + "Country or City database)");
                    return null;
                }
                return checked == null ? null : c.build(path, () -> CountryMatcher.of(checked));
            }),
            strings("asns", "a list of AS numbers", "AS number, e.g. 64500", (numbers, c, path) -> {
                List<Long> checked = c.each(numbers, path, AsnMatcher::checkAsn);
                if (!c.hasAsnDatabase()) {
                    c.problem(path, "asns needs a GeoIP ASN database (expected: geoip.asn_database, a MaxMind ASN "
                            + "database)");
                    return null;
                }
                return checked == null ? null : c.build(path, () -> AsnMatcher.of(checked));
            }),
            flag("authenticated", AuthenticatedMatcher::of),
            strings("roles", "a list of roles", "role, e.g. admin", (roles, c, path) -> {
                List<String> checked = c.each(roles, path, RoleMatcher::checkRole);
                return checked == null ? null : c.build(path, () -> RoleMatcher.any(checked, c.roleBits()));
            }),
            strings("all_roles", "a list of roles", "role, e.g. admin", (roles, c, path) -> {
                List<String> checked = c.each(roles, path, RoleMatcher::checkRole);
                return checked == null ? null : c.build(path, () -> RoleMatcher.all(checked, c.roleBits()));
            }),
            new MapKey("claims", "a map of claim paths to lists of values", "claim path, e.g. tenant") {
                @Override
                ConditionKey.@Nullable ListReader values(ConditionKey.Reader reader) {
                    return reader.claimValues();
                }

                @Override
                @Nullable RequestMatcher entry(String claim, List<String> values, String path, Compiler c) {
                    if (values.isEmpty()) {
                        c.problem(path, "empty list (expected: at least one claim value, e.g. [acme])");
                        return null;
                    }
                    return c.build(path, () -> ClaimMatcher.of(ClaimPath.compile(claim), values));
                }
            },
            new MapKey("headers", "a map of header names to lists of values", "header name") {
                @Override
                ConditionKey.@Nullable ListReader values(ConditionKey.Reader reader) {
                    return (node, path) -> reader.strings(node, path, "a list of header values ([] for any value)");
                }

                @Override
                @Nullable RequestMatcher entry(String name, List<String> values, String path, Compiler c) {
                    return c.build(path, () -> HeaderMatcher.of(name, values));
                }
            },
            strings("referrers", "a list of referrer patterns", "referrer pattern, e.g. none or \"https://app.example.com/**\"",
                    (patterns, c, path) -> {
                        List<String> checked = c.each(patterns, path, pattern -> {
                            ReferrerMatcher.of(List.of(pattern));
                            return pattern;
                        });
                        return checked == null ? null : c.build(path, () -> ReferrerMatcher.of(checked));
                    }),
            new ScheduleConditionKey(),
            nested("any", AnyOf::of),
            nested("all", AllOf::of),
            new ConditionKey<>("not", ConditionConfig.class) {
                @Override
                @Nullable ConditionConfig bind(YamlNode node, String path, Reader reader) {
                    ConditionConfig negated = reader.condition(node, path);
                    // keys written but none usable (each reported): no condition, so that only "not: {}" as
                    // written is called empty below
                    boolean written = node instanceof YamlNode.Mapping mapping && !mapping.entries().isEmpty();
                    return negated != null && negated.isEmpty() && written ? null : negated;
                }

                @Override
                @Nullable RequestMatcher compile(ConditionConfig value, String path, Compiler c) {
                    if (value.isEmpty()) {
                        // the empty condition holds for every request, so its negation would never hold
                        c.problem(path, "empty map (expected: at least one condition, as for any and all)");
                        return null;
                    }
                    RequestMatcher negated = c.condition(value, path);
                    return c.build(path, () -> Not.of(negated));
                }
            });

    /** Compiles a non-empty list of strings. */
    interface ListCompiler {
        @Nullable RequestMatcher compile(List<String> values, ConditionKey.Compiler compiler, String path);
    }

    /** A key whose value is a non-empty list of strings. */
    @SuppressWarnings("unchecked")
    static ConditionKey<List<String>> strings(String name, String expected, String element, ListCompiler compiler) {
        return new ConditionKey<>(name, (Class<List<String>>) (Class<?>) List.class) {
            @Override
            @Nullable List<String> bind(YamlNode node, String path, Reader reader) {
                return reader.strings(node, path, expected);
            }

            @Override
            @Nullable RequestMatcher compile(List<String> values, String path, Compiler c) {
                if (values.isEmpty()) {
                    c.problem(path, "empty list (expected: at least one " + element + ")");
                    return null;
                }
                return compiler.compile(values, c, path);
            }
        };
    }

    private static ConditionKey<Boolean> flag(String name, Function<Boolean, RequestMatcher> factory) {
        return new ConditionKey<>(name, Boolean.class) {
            @Override
            @Nullable Boolean bind(YamlNode node, String path, Reader reader) {
                return reader.bool(node, path);
            }

            @Override
            RequestMatcher compile(Boolean value, String path, Compiler c) {
                return factory.apply(value);
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static ConditionKey<List<ConditionConfig>> nested(
            String name, Function<List<RequestMatcher>, RequestMatcher> factory) {
        return new ConditionKey<>(name, (Class<List<ConditionConfig>>) (Class<?>) List.class) {
            @Override
            @Nullable List<ConditionConfig> bind(YamlNode node, String path, Reader reader) {
                return reader.conditions(node, path);
            }

            @Override
            @Nullable RequestMatcher compile(List<ConditionConfig> conditions, String path, Compiler c) {
                if (conditions.isEmpty()) {
                    c.problem(path, "empty list (expected: at least one condition)");
                    return null;
                }
                List<RequestMatcher> matchers = new ArrayList<>(conditions.size());
                for (int i = 0; i < conditions.size(); i++) {
                    matchers.add(c.condition(conditions.get(i), KeyPaths.index(path, i)));
                }
                return c.build(path, () -> factory.apply(matchers));
            }
        };
    }


    /** A key whose value maps names (claim paths, header names) to lists; one matcher per entry, ANDed. */
    private abstract static class MapKey extends ConditionKey<Map<String, List<String>>> {
        private final String expected;
        private final String entryName;

        @SuppressWarnings("unchecked")
        MapKey(String name, String expected, String entryName) {
            super(name, (Class<Map<String, List<String>>>) (Class<?>) Map.class);
            this.expected = expected;
            this.entryName = entryName;
        }

        abstract @Nullable ListReader values(Reader reader);

        abstract @Nullable RequestMatcher entry(String name, List<String> values, String path, Compiler c);

        @Override
        @Nullable Map<String, List<String>> bind(YamlNode node, String path, Reader reader) {
            ListReader values = values(reader);
            return values == null ? null : reader.stringLists(node, path, expected, values);
        }

        @Override
        @Nullable RequestMatcher compile(Map<String, List<String>> entries, String path, Compiler c) {
            List<RequestMatcher> parts = new ArrayList<>(entries.size());
            compileInto(entries, path, c, parts);
            return parts.isEmpty() ? null : parts.size() == 1 ? parts.get(0) : AllOf.of(parts);
        }

        /** One matcher per entry, each ANDed into the condition as a key of its own. */
        @Override
        void compileInto(Map<String, List<String>> entries, String path, Compiler c, List<RequestMatcher> parts) {
            if (entries.isEmpty()) {
                c.problem(path, "empty map (expected: at least one " + entryName + ")");
                return;
            }
            entries.forEach((name, values) -> {
                RequestMatcher part = entry(name, values, KeyPaths.key(path, name), c);
                if (part != null) {
                    parts.add(part);
                }
            });
        }
    }

    /** Reserved characters a path may hold literally, which a client may also send percent-encoded. */
    private static final String ENCODABLE = ":@!$&'(),+=";

    /*
     * SPEC 3.4 decodes only unreserved characters, so "/v1/x%3Adelete" stays as sent and does not match a glob
     * written "/v1/*:delete"; an upstream that decodes %3A routes it as "/v1/x:delete". The operator is warned,
     * with the other spelling to add to the list.
     */
    private static void warnOfEncodableCharacters(List<String> globs, ConditionKey.Compiler c, String path) {
        for (int i = 0; i < globs.size(); i++) {
            String glob = globs.get(i);
            StringBuilder encoded = new StringBuilder(glob.length() + 8);
            StringBuilder found = new StringBuilder();
            for (int j = 0; j < glob.length(); j++) {
                char ch = glob.charAt(j);
                if (ENCODABLE.indexOf(ch) >= 0) {
                    encoded.append(String.format("%%%02X", (int) ch));
                    if (found.indexOf(String.valueOf(ch)) < 0) {
                        found.append(found.length() == 0 ? "" : " ").append(ch);
                    }
                } else {
                    encoded.append(ch);
                }
            }
            if (found.length() > 0 && !globs.contains(encoded.toString())) {
                c.warning(KeyPaths.index(path, i), ConfigValues.quote(glob) + " has " + found + ", which a request"
                        + " may also send percent-encoded: that spelling does not match this pattern, and an upstream"
                        + " that decodes it sees the same path (add " + ConfigValues.quote(encoded.toString())
                        + " to the list)");
            }
        }
    }
}
