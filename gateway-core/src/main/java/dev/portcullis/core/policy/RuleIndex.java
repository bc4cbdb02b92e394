package dev.portcullis.core.policy;

import dev.portcullis.core.identity.Roles;
import java.util.Map;

/**
 * A compile-time index over a policy's rules that gives, for a request, a superset of the rules whose {@code match}
 * can hold, as bit masks over the rule indexes, by method, first path segment, host, client IP, roles, country and
 * Referer host.
 */
final class RuleIndex {

    /*
     * Implementation notes: each dimension maps a request to a mask of "rules that could match in
     * this dimension"; Policy ANDs the masks word by word (method, path, host and client IP always;
     * roles, country and Referer host only when a remaining rule has such a condition) and evaluates
     * only the rules left, in ascending index order, so that first-match order and audit records are
     * exactly those of the linear walk. A rule is constrained in a dimension only by a condition
     * that is one of the top-level conjuncts of its match (the match itself, or a direct child of
     * its AllOf), because only then must that condition hold for the match to hold; conditions under
     * any, not or all, and those of require (a rule whose match holds decides even when its require
     * fails), constrain nothing. Every mask is precomputed; a lookup allocates nothing.
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
     * - client IP (IpRangeMasks): the boundaries of all indexed networks split the 128-bit
     *   address space into intervals, each with the mask of the rules whose networks cover it (a
     *   sweep over the networks' start and end+1 events); a request is one binary search.
     *
     * RuleIndexBuilder computes every mask and table once, here; host, path segment and Referer
     * host masks are held in RegionTables, looked up by a region of the request's string.
     */

    private final long[] all;
    private final boolean caseInsensitivePaths;
    private final Map<String, long[]> methodMasks;
    private final long[] methodOther;
    private final RegionTable segmentMasks;
    private final long[] pathOther;
    private final RegionTable exactHostMasks;
    private final RegionTable suffixHostMasks;
    private final long[] hostOther;
    private final IpRangeMasks ipRanges;
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

    /** Indexes {@code rules} (in evaluation order) for a policy whose path conditions are case-insensitive or not. */
    RuleIndex(Rule[] rules, boolean caseInsensitivePaths) {
        RuleIndexBuilder built = new RuleIndexBuilder(rules, caseInsensitivePaths);
        this.caseInsensitivePaths = caseInsensitivePaths;
        this.all = built.all;
        this.methodMasks = built.methodMasks;
        this.methodOther = built.methodOther;
        this.segmentMasks = built.segmentMasks;
        this.pathOther = built.pathOther;
        this.exactHostMasks = built.exactHostMasks;
        this.suffixHostMasks = built.suffixHostMasks;
        this.hostOther = built.hostOther;
        this.ipRanges = built.ipRanges;
        this.roleMasks = built.roleMasks;
        this.roleOther = built.roleOther;
        this.countryMasks = built.countryMasks;
        this.countryOther = built.countryOther;
        this.referrerOther = built.referrerOther;
        this.referrerAbsent = built.referrerAbsent;
        this.referrerAnyHost = built.referrerAnyHost;
        this.referrerHosts = built.referrerHosts;
        this.referrerHostsAfterFirstLabel = built.referrerHostsAfterFirstLabel;
        this.none = built.none;
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
        return ipRanges.get(request.clientIp());
    }

    /**
     * Word {@code w} of the mask of the rules whose role condition the request's identity can satisfy: those without
     * one, and those naming one of its roles (all of them for {@code all_roles}, so one is necessary).
     */
    long byRoles(AccessRequest request, int w) {
        long word = roleOther[w];
        Roles roles = request.identity().indexedRoles();
        for (int i = 0; i < roles.size(); i++) {
            long[] mask = roleMasks.get(roles.get(i));
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
}
