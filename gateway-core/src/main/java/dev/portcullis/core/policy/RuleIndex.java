package dev.portcullis.core.policy;

import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A compile-time index over a policy's rules that gives, for a request, a superset of the rules whose {@code match}
 * can hold, as bit masks over the rule indexes, by method, first path segment, host, client IP, roles, country and
 * Referer host.
 */
final class RuleIndex {

    /*
     * Implementation notes: each dimension maps a request to a mask of "rules that could match
     * in this dimension"; Policy ANDs the four masks word by word and evaluates only the rules
     * left, in ascending index order, so that first-match order and audit records are exactly
     * those of the linear walk. A rule is constrained in a dimension only by a condition that is
     * one of the top-level conjuncts of its match (the match itself, or a direct child of its
     * AllOf), because only then must that condition hold for the match to hold; conditions
     * under any, not or all, and those of require (a rule whose match holds decides even when
     * its require fails), constrain nothing. Every mask is precomputed; a lookup allocates
     * nothing.
     *
     * - method: the methods of the rule's first MethodMatcher, compared exactly as it does.
     * - path: the first segment of each glob of the rule's first PathMatcher, when every glob's
     *   first segment is literal; a glob with a literal first segment only matches paths whose
     *   first segment (read as PathGlob reads it, after dropping one trailing "/") is that
     *   literal. The string is the one the matcher reads: the folded matchPath of a
     *   case-insensitive policy, else the path; a matcher whose case sensitivity differs from
     *   the policy's constrains nothing.
     * - host: exact patterns by their lower-case host, wildcards by their ".suffix"; an exact
     *   entry's mask also holds the wildcard rules matching that host, and a suffix entry's mask
     *   the rules of every shorter suffix of it, so that one hit (exact, else the longest suffix
     *   that starts at a "." after the first character) gives every rule that can match. Hosts
     *   with a non-ASCII character are looked up as unconstrained: case-insensitive comparison
     *   folds some of them onto ASCII letters (the Kelvin sign is a "k").
     * - roles: the roles named by the rule's first RoleMatcher (roles or all_roles: either needs
     *   one of them); a request's word is the OR over its identity's roles, computed per word
     *   (words x roles lookups) so that nothing is allocated.
     * - country: the codes of the rule's first CountryMatcher. The country is looked up (once per
     *   request, AccessRequest.country) only when a rule left by the other dimensions has one,
     *   which is also when the linear walk could need it.
     * - referrers: the rule's first ReferrerMatcher. Without a Referer, the rules whose patterns
     *   include none; with one that does not parse, no rule with the condition; with one that
     *   parses, the rules with a pattern whose host has no "*" and equals the Referer's (as
     *   UrlGlob compares hosts: ASCII case-insensitively, one trailing "." dropped), those with a
     *   pattern whose "*" are all in its first label and whose other labels equal the Referer
     *   host after its first label ("*" never crosses a "."), and those with any other pattern.
     *   Scheme, port and path are left to the matcher. The Referer is read (and parsed, once per
     *   request, AccessRequest.refererParts) only when a rule left by the other dimensions has
     *   the condition.
     * - client IP: the boundaries of all indexed networks split the 128-bit address space into
     *   intervals, each with the mask of the rules whose networks cover it (a sweep over the
     *   networks' start and end+1 events); a request is one binary search.
     */

    private final int words;
    private final long[] all;
    private final boolean caseInsensitivePaths;
    private final Map<String, long[]> methodMasks;
    private final long[] methodOther;
    private final RegionTable segmentMasks;
    private final long[] pathOther;
    private final RegionTable exactHostMasks;
    private final RegionTable suffixHostMasks;
    private final long[] hostOther;
    private final long[] ipHigh;
    private final long[] ipLow;
    private final long[][] ipMasks;
    private final long[] ipOther;
    private final Map<String, long[]> roleMasks;
    private final long[] roleOther;
    private final Map<String, long[]> countryMasks;
    private final long[] countryOther;
    private final long[] referrerOther;
    private final long[] referrerAbsent;
    private final long[] referrerAnyHost;
    private final RegionTable referrerHosts;
    private final RegionTable referrerHostsAfterFirstLabel;
    private final long[] none;

    RuleIndex(Rule[] rules, boolean caseInsensitivePaths) {
        int n = rules.length;
        this.words = (n + 63) >>> 6;
        this.caseInsensitivePaths = caseInsensitivePaths;
        this.all = new long[words];
        for (int i = 0; i < n; i++) {
            set(all, i);
        }
        List<List<RequestMatcher>> conjuncts = new ArrayList<>(n);
        for (Rule rule : rules) {
            RequestMatcher match = rule.match();
            conjuncts.add(match instanceof AllOf allOf ? allOf.matchers() : List.of(match));
        }

        this.methodOther = new long[words];
        Map<String, List<Integer>> byMethod = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            MethodMatcher methods = first(conjuncts.get(i), MethodMatcher.class);
            if (methods == null) {
                set(methodOther, i);
            } else {
                for (String method : methods.methods()) {
                    byMethod.computeIfAbsent(method, m -> new ArrayList<>()).add(i);
                }
            }
        }
        this.methodMasks = new HashMap<>();
        byMethod.forEach((method, indexes) -> methodMasks.put(method, with(methodOther, indexes)));

        this.pathOther = new long[words];
        Map<String, List<Integer>> bySegment = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
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
        this.segmentMasks = new RegionTable(segmentMap, false);

        this.hostOther = new long[words];
        Map<String, List<Integer>> byExactHost = new LinkedHashMap<>();
        Map<String, List<Integer>> bySuffix = new LinkedHashMap<>();
        List<HostPattern> wildcards = new ArrayList<>();
        List<Integer> wildcardRules = new ArrayList<>();
        for (int i = 0; i < n; i++) {
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
        this.exactHostMasks = new RegionTable(exactMap, true);
        this.suffixHostMasks = new RegionTable(suffixMap, true);

        this.ipOther = new long[words];
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            IpMatcher ip = first(conjuncts.get(i), IpMatcher.class);
            if (ip == null) {
                set(ipOther, i);
                continue;
            }
            for (Cidr cidr : ip.cidrs().cidrs()) {
                events.add(new Event(cidr.network().high(), cidr.network().low(), i, 1));
                long endLow = cidr.lastLow() + 1;
                long endHigh = endLow == 0 ? cidr.lastHigh() + 1 : cidr.lastHigh();
                if (!(cidr.lastHigh() == -1L && cidr.lastLow() == -1L)) {
                    events.add(new Event(endHigh, endLow, i, -1));
                }
            }
        }
        events.sort(Comparator.<Event>comparingLong(e -> e.high ^ Long.MIN_VALUE)
                .thenComparingLong(e -> e.low ^ Long.MIN_VALUE));
        List<long[]> bounds = new ArrayList<>();
        List<long[]> masks = new ArrayList<>();
        Map<List<Long>, long[]> distinct = new HashMap<>();
        int[] cover = new int[n];
        long[] current = ipOther.clone();
        for (int e = 0; e < events.size(); ) {
            Event at = events.get(e);
            while (e < events.size() && events.get(e).high == at.high && events.get(e).low == at.low) {
                Event event = events.get(e++);
                cover[event.rule] += event.delta;
                if (cover[event.rule] > 0) {
                    set(current, event.rule);
                } else {
                    current[event.rule >>> 6] &= ~(1L << event.rule);
                }
            }
            if (!masks.isEmpty() && Arrays.equals(masks.get(masks.size() - 1), current)) {
                continue;
            }
            if (masks.isEmpty() && Arrays.equals(ipOther, current)) {
                continue;
            }
            long[] mask = distinct.computeIfAbsent(key(current), k -> current.clone());
            bounds.add(new long[] {at.high, at.low});
            masks.add(mask);
        }
        this.ipHigh = new long[bounds.size()];
        this.ipLow = new long[bounds.size()];
        for (int b = 0; b < bounds.size(); b++) {
            ipHigh[b] = bounds.get(b)[0];
            ipLow[b] = bounds.get(b)[1];
        }
        this.ipMasks = masks.toArray(long[][]::new);

        this.roleOther = new long[words];
        this.roleMasks = new HashMap<>();
        for (int i = 0; i < n; i++) {
            RoleMatcher roles = first(conjuncts.get(i), RoleMatcher.class);
            if (roles == null) {
                set(roleOther, i);
                continue;
            }
            for (String role : roles.roles()) {
                set(roleMasks.computeIfAbsent(role, r -> new long[words]), i);
            }
        }

        this.countryOther = new long[words];
        Map<String, List<Integer>> byCountry = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            CountryMatcher countries = first(conjuncts.get(i), CountryMatcher.class);
            if (countries == null) {
                set(countryOther, i);
            } else {
                for (String code : countries.codes()) {
                    byCountry.computeIfAbsent(code, c -> new ArrayList<>()).add(i);
                }
            }
        }
        this.countryMasks = new HashMap<>();
        byCountry.forEach((code, indexes) -> countryMasks.put(code, with(countryOther, indexes)));

        this.none = new long[words];
        this.referrerOther = new long[words];
        this.referrerAbsent = new long[words];
        this.referrerAnyHost = new long[words];
        Map<String, List<Integer>> byReferrerHost = new LinkedHashMap<>();
        Map<String, List<Integer>> byReferrerHostAfterFirstLabel = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
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
        this.referrerHosts = new RegionTable(referrerHostMap, true);
        Map<String, long[]> afterFirstLabelMap = new LinkedHashMap<>();
        byReferrerHostAfterFirstLabel.forEach((host, indexes) -> afterFirstLabelMap.put(host, with(none, indexes)));
        this.referrerHostsAfterFirstLabel = new RegionTable(afterFirstLabelMap, true);
    }

    private record Event(long high, long low, int rule, int delta) {}

    private static List<Long> key(long[] mask) {
        List<Long> key = new ArrayList<>(mask.length);
        for (long word : mask) {
            key.add(word);
        }
        return key;
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

    private long[] with(long[] base, List<Integer> indexes) {
        long[] mask = base.clone();
        for (int index : indexes) {
            set(mask, index);
        }
        return mask;
    }

    private static void set(long[] mask, int index) {
        mask[index >>> 6] |= 1L << index;
    }

    /** The rules whose method condition admits the request's method. */
    long[] byMethod(AccessRequest request) {
        long[] mask = methodMasks.get(request.method());
        return mask == null ? methodOther : mask;
    }

    /** The rules whose path condition admits the first segment of the path the request's path conditions read. */
    long[] byPath(AccessRequest request) {
        String path = caseInsensitivePaths ? request.matchPath() : request.path();
        int n = path.length();
        if (n == 0 || path.charAt(0) != '/') {
            return pathOther;
        }
        if (n > 1 && path.charAt(n - 1) == '/') {
            n--;
        }
        int end = path.indexOf('/', 1);
        if (end < 0 || end > n) {
            end = n;
        }
        long[] mask = segmentMasks.get(path, 1, end);
        return mask == null ? pathOther : mask;
    }

    /** The rules whose host condition admits the request's host. */
    long[] byHost(AccessRequest request) {
        String host = request.host();
        int n = host.length();
        for (int i = 0; i < n; i++) {
            if (host.charAt(i) >= 0x80) {
                return all;
            }
        }
        if (n > 0 && host.charAt(n - 1) == '.') {
            n--;
        }
        long[] exact = exactHostMasks.get(host, 0, n);
        if (exact != null) {
            return exact;
        }
        for (int i = 1; i < n; i++) {
            if (host.charAt(i) == '.') {
                long[] suffix = suffixHostMasks.get(host, i, n);
                if (suffix != null) {
                    return suffix;
                }
            }
        }
        return hostOther;
    }

    /** The rules whose ip condition admits the request's client IP. */
    long[] byClientIp(AccessRequest request) {
        IpAddress address = request.clientIp();
        long high = address.high();
        long low = address.low();
        int lo = 0;
        int hi = ipHigh.length - 1;
        int candidate = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(ipHigh[mid], high);
            if (c < 0 || c == 0 && Long.compareUnsigned(ipLow[mid], low) <= 0) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return candidate < 0 ? ipOther : ipMasks[candidate];
    }

    /**
     * Word {@code w} of the mask of the rules whose role condition the request's identity can satisfy: those without
     * one, and those naming one of its roles (all of them for {@code all_roles}, so one is necessary).
     */
    long byRoles(AccessRequest request, int w) {
        long word = roleOther[w];
        for (String role : request.identity().roles()) {
            long[] mask = roleMasks.get(role);
            if (mask != null) {
                word |= mask[w];
            }
        }
        return word;
    }

    /** Word {@code w} of the mask of the rules without a role condition. */
    long rolesUnconstrained(int w) {
        return roleOther[w];
    }

    /** Word {@code w} of the mask of the rules without a country condition. */
    long countryUnconstrained(int w) {
        return countryOther[w];
    }

    /** The rules whose country condition admits the request's country (which this looks up). */
    long[] byCountry(AccessRequest request) {
        long[] mask = countryMasks.get(request.country());
        return mask == null ? countryOther : mask;
    }

    /** Word {@code w} of the mask of the rules without a referrers condition. */
    long referrerUnconstrained(int w) {
        return referrerOther[w];
    }

    /**
     * The rules whose referrers condition admits the request's Referer by its host, or that have none: this mask and
     * {@link #byRefererHostAfterFirstLabel} (which reads the Referer, parsed once per request).
     */
    long[] byRefererHost(AccessRequest request) {
        String referer = request.referer();
        if (referer == null) {
            return referrerAbsent;
        }
        long parts = request.refererParts();
        if (parts == RefererParts.INVALID) {
            return referrerOther;
        }
        int start = RefererParts.isHttps(referer) ? 8 : 7;
        long[] exact = referrerHosts.get(referer, start, RefererParts.hostEnd(parts));
        return exact == null ? referrerAnyHost : exact;
    }

    /**
     * The rules with a pattern whose {@code *} are in the first label of its host and whose other labels are the
     * Referer host's after its first label; an empty mask without a parsed Referer.
     */
    long[] byRefererHostAfterFirstLabel(AccessRequest request) {
        String referer = request.referer();
        long parts = request.refererParts();
        if (referer == null || parts == RefererParts.INVALID) {
            return none;
        }
        int start = RefererParts.isHttps(referer) ? 8 : 7;
        int end = RefererParts.hostEnd(parts);
        if (referer.charAt(start) == '[') {
            return none;
        }
        int dot = referer.indexOf('.', start);
        if (dot < 0 || dot >= end) {
            return none;
        }
        long[] mask = referrerHostsAfterFirstLabel.get(referer, dot + 1, end);
        return mask == null ? none : mask;
    }

    /** An open-addressing table from strings to masks, looked up by a region of another string without allocating. */
    private static final class RegionTable {
        private final String[] keys;
        private final long[][] values;
        private final int mask;
        private final boolean ignoreCase;

        RegionTable(Map<String, long[]> entries, boolean ignoreCase) {
            int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2)) * 2;
            this.keys = new String[capacity];
            this.values = new long[capacity][];
            this.mask = capacity - 1;
            this.ignoreCase = ignoreCase;
            entries.forEach((key, value) -> {
                int slot = hash(key, 0, key.length(), ignoreCase) & mask;
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = key;
                values[slot] = value;
            });
        }

        private static int hash(String s, int start, int end, boolean ignoreCase) {
            int h = 0;
            for (int i = start; i < end; i++) {
                char c = s.charAt(i);
                if (ignoreCase && c >= 'A' && c <= 'Z') {
                    c = (char) (c + ('a' - 'A'));
                }
                h = 31 * h + c;
            }
            return h ^ (h >>> 16);
        }

        long @Nullable [] get(String s, int start, int end) {
            int length = end - start;
            int slot = hash(s, start, end, ignoreCase) & mask;
            for (String key = keys[slot]; key != null; key = keys[slot]) {
                if (key.length() == length && s.regionMatches(ignoreCase, start, key, 0, length)) {
                    return values[slot];
                }
                slot = (slot + 1) & mask;
            }
            return null;
        }
    }
}
