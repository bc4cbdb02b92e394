package dev.portcullis.core.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The compile-time construction of a {@link RuleIndex}'s masks from a policy's rules, one dimension at a time; the
 * index copies the results and the builder is discarded.
 */
final class RuleIndexBuilder {

    /*
     * Implementation notes: each dimension reads, per rule, only the first condition of its kind
     * among the top-level conjuncts of the rule's match (the match itself, or the direct children
     * of its AllOf); see RuleIndex for what each dimension indexes and why. A rule without such a
     * condition is set in the dimension's "other" mask.
     */

    private final int words;
    final long[] all;
    final long[] none;
    final long[] methodOther;
    final Map<String, long[]> methodMasks = new HashMap<>();
    final long[] pathOther;
    final RegionTable segmentMasks;
    final long[] hostOther;
    final RegionTable exactHostMasks;
    final RegionTable suffixHostMasks;
    final IpRangeMasks ipRanges;
    final long[] roleOther;
    final Map<String, long[]> roleMasks = new HashMap<>();
    final long[] countryOther;
    final Map<String, long[]> countryMasks = new HashMap<>();
    final long[] referrerOther;
    final long[] referrerAbsent;
    final long[] referrerAnyHost;
    final RegionTable referrerHosts;
    final RegionTable referrerHostsAfterFirstLabel;

    private final List<List<RequestMatcher>> conjuncts;

    RuleIndexBuilder(Rule[] rules, boolean caseInsensitivePaths) {
        int n = rules.length;
        this.words = (n + 63) >>> 6;
        this.all = new long[words];
        for (int i = 0; i < n; i++) {
            set(all, i);
        }
        this.conjuncts = new ArrayList<>(n);
        for (Rule rule : rules) {
            RequestMatcher match = rule.match();
            conjuncts.add(match instanceof AllOf allOf ? allOf.matchers() : List.of(match));
        }
        this.none = new long[words];
        this.methodOther = new long[words];
        this.pathOther = new long[words];
        this.hostOther = new long[words];
        this.roleOther = new long[words];
        this.countryOther = new long[words];
        this.referrerOther = new long[words];
        this.referrerAbsent = new long[words];
        this.referrerAnyHost = new long[words];
        buildMethods();
        this.segmentMasks = buildPaths(caseInsensitivePaths);
        HostTables hosts = buildHosts();
        this.exactHostMasks = hosts.exact();
        this.suffixHostMasks = hosts.suffix();
        this.ipRanges = IpRangeMasks.of(firstOfEach(IpMatcher.class), words);
        buildRoles();
        buildCountries();
        ReferrerTables referrers = buildReferrers();
        this.referrerHosts = referrers.hosts();
        this.referrerHostsAfterFirstLabel = referrers.hostsAfterFirstLabel();
    }

    private record HostTables(RegionTable exact, RegionTable suffix) {}

    private record ReferrerTables(RegionTable hosts, RegionTable hostsAfterFirstLabel) {}

    private void buildMethods() {
        Map<String, List<Integer>> byMethod = new LinkedHashMap<>();
        for (int i = 0; i < conjuncts.size(); i++) {
            MethodMatcher methods = first(conjuncts.get(i), MethodMatcher.class);
            if (methods == null) {
                set(methodOther, i);
            } else {
                for (String method : methods.methods()) {
                    byMethod.computeIfAbsent(method, m -> new ArrayList<>()).add(i);
                }
            }
        }
        byMethod.forEach((method, indexes) -> methodMasks.put(method, with(methodOther, indexes)));
    }

    private RegionTable buildPaths(boolean caseInsensitivePaths) {
        Map<String, List<Integer>> bySegment = new LinkedHashMap<>();
        for (int i = 0; i < conjuncts.size(); i++) {
            List<String> segments = firstSegments(conjuncts.get(i), caseInsensitivePaths);
            if (segments == null) {
                set(pathOther, i);
            } else {
                for (String segment : segments) {
                    bySegment.computeIfAbsent(segment, s -> new ArrayList<>()).add(i);
                }
            }
        }
        Map<String, long[]> segmentMap = new LinkedHashMap<>();
        bySegment.forEach((segment, indexes) -> segmentMap.put(segment, with(pathOther, indexes)));
        return new RegionTable(segmentMap, false);
    }

    private HostTables buildHosts() {
        Map<String, List<Integer>> byExactHost = new LinkedHashMap<>();
        Map<String, List<Integer>> bySuffix = new LinkedHashMap<>();
        List<HostPattern> wildcards = new ArrayList<>();
        List<Integer> wildcardRules = new ArrayList<>();
        for (int i = 0; i < conjuncts.size(); i++) {
            HostMatcher hosts = first(conjuncts.get(i), HostMatcher.class);
            if (hosts == null) {
                set(hostOther, i);
                continue;
            }
            for (HostPattern pattern : hosts.patterns()) {
                if (pattern.wildcard()) {
                    bySuffix.computeIfAbsent(pattern.key(), s -> new ArrayList<>()).add(i);
                    wildcards.add(pattern);
                    wildcardRules.add(i);
                } else {
                    byExactHost.computeIfAbsent(pattern.key(), s -> new ArrayList<>()).add(i);
                }
            }
        }
        Map<String, long[]> exactMap = new LinkedHashMap<>();
        byExactHost.forEach((host, indexes) -> {
            long[] mask = with(hostOther, indexes);
            for (int w = 0; w < wildcards.size(); w++) {
                if (wildcards.get(w).matches(host)) {
                    set(mask, wildcardRules.get(w));
                }
            }
            exactMap.put(host, mask);
        });
        return new HostTables(new RegionTable(exactMap, true), new RegionTable(suffixMasks(bySuffix), true));
    }

    /** Each wildcard's ".suffix" with the rules of every wildcard whose suffix it ends with (its own included). */
    private Map<String, long[]> suffixMasks(Map<String, List<Integer>> bySuffix) {
        Map<String, long[]> suffixMap = new LinkedHashMap<>();
        for (String suffix : bySuffix.keySet()) {
            long[] mask = hostOther.clone();
            bySuffix.forEach((shorter, indexes) -> {
                if (suffix.endsWith(shorter)) {
                    for (int index : indexes) {
                        set(mask, index);
                    }
                }
            });
            suffixMap.put(suffix, mask);
        }
        return suffixMap;
    }

    private void buildRoles() {
        for (int i = 0; i < conjuncts.size(); i++) {
            RoleMatcher roles = first(conjuncts.get(i), RoleMatcher.class);
            if (roles == null) {
                set(roleOther, i);
                continue;
            }
            for (String role : roles.roles()) {
                set(roleMasks.computeIfAbsent(role, r -> new long[words]), i);
            }
        }
    }

    private void buildCountries() {
        Map<String, List<Integer>> byCountry = new LinkedHashMap<>();
        for (int i = 0; i < conjuncts.size(); i++) {
            CountryMatcher countries = first(conjuncts.get(i), CountryMatcher.class);
            if (countries == null) {
                set(countryOther, i);
            } else {
                for (String code : countries.codes()) {
                    byCountry.computeIfAbsent(code, c -> new ArrayList<>()).add(i);
                }
            }
        }
        byCountry.forEach((code, indexes) -> countryMasks.put(code, with(countryOther, indexes)));
    }

    private ReferrerTables buildReferrers() {
        Map<String, List<Integer>> byReferrerHost = new LinkedHashMap<>();
        Map<String, List<Integer>> byReferrerHostAfterFirstLabel = new LinkedHashMap<>();
        for (int i = 0; i < conjuncts.size(); i++) {
            ReferrerMatcher referrers = first(conjuncts.get(i), ReferrerMatcher.class);
            if (referrers == null) {
                set(referrerOther, i);
                continue;
            }
            if (referrers.matchesNone()) {
                set(referrerAbsent, i);
            }
            for (UrlGlob glob : referrers.globs()) {
                String exact = glob.exactHost();
                String afterFirstLabel = glob.hostAfterFirstLabel();
                if (exact != null) {
                    byReferrerHost.computeIfAbsent(exact, h -> new ArrayList<>()).add(i);
                } else if (afterFirstLabel != null) {
                    byReferrerHostAfterFirstLabel.computeIfAbsent(afterFirstLabel, h -> new ArrayList<>()).add(i);
                } else {
                    set(referrerAnyHost, i);
                }
            }
        }
        for (int w = 0; w < words; w++) {
            referrerAbsent[w] |= referrerOther[w];
            referrerAnyHost[w] |= referrerOther[w];
        }
        Map<String, long[]> referrerHostMap = new LinkedHashMap<>();
        byReferrerHost.forEach((host, indexes) -> referrerHostMap.put(host, with(referrerAnyHost, indexes)));
        Map<String, long[]> afterFirstLabelMap = new LinkedHashMap<>();
        byReferrerHostAfterFirstLabel.forEach((host, indexes) -> afterFirstLabelMap.put(host, with(none, indexes)));
        return new ReferrerTables(new RegionTable(referrerHostMap, true), new RegionTable(afterFirstLabelMap, true));
    }

    /** Each rule's first top-level condition of {@code type}, or null, in rule order. */
    private <T extends RequestMatcher> List<@Nullable T> firstOfEach(Class<T> type) {
        List<@Nullable T> firsts = new ArrayList<>(conjuncts.size());
        for (List<RequestMatcher> ruleConjuncts : conjuncts) {
            firsts.add(first(ruleConjuncts, type));
        }
        return firsts;
    }

    private static <T extends RequestMatcher> @Nullable T first(List<RequestMatcher> conjuncts, Class<T> type) {
        for (RequestMatcher conjunct : conjuncts) {
            if (type.isInstance(conjunct)) {
                return type.cast(conjunct);
            }
        }
        return null;
    }

    /** The literal first segments of the rule's path globs, or null when its paths do not constrain the first one. */
    private static @Nullable List<String> firstSegments(List<RequestMatcher> conjuncts, boolean caseInsensitivePaths) {
        for (RequestMatcher conjunct : conjuncts) {
            if (conjunct instanceof PathMatcher paths && paths.caseInsensitive() == caseInsensitivePaths) {
                List<String> segments = new ArrayList<>();
                for (PathGlob glob : paths.globs()) {
                    String segment = glob.firstLiteralSegment();
                    if (segment == null) {
                        return null;
                    }
                    segments.add(segment);
                }
                return segments;
            }
        }
        return null;
    }

    private static long[] with(long[] base, List<Integer> indexes) {
        long[] mask = base.clone();
        for (int index : indexes) {
            set(mask, index);
        }
        return mask;
    }

    static void set(long[] mask, int index) {
        mask[index >>> 6] |= 1L << index;
    }
}
