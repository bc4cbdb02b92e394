package dev.portcullis.core.policy;

import dev.portcullis.core.identity.RejectReason;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An immutable, ordered list of rules and a default effect, evaluated first-match (SPEC 3.1).
 */
public final class Policy {

    /*
     * Implementation notes: the first enforce-mode rule whose match holds decides; an allow rule
     * whose require fails denies, it does not fall through. Audit-mode rules whose match holds
     * are decided as if enforced, recorded, and skipped. Decisions that allow, and the default
     * decision, are built once here, so that evaluating a request that is allowed with no audit
     * outcome allocates nothing; denials and audit records build their reasons on demand.
     *
     * A failed require is answered 401 instead of the rule's deny status 403 (never instead of
     * 404, which hides the resource) when the request is anonymous and the failure is for want of an
     * identity (RequestMatcher's rules). The reason of a 401 names a predicate that needs the
     * identity, even when a key written before it (ip, countries, schedule) failed too, so that the
     * log agrees with the status; other denials name the first failing key. Deny rules never
     * challenge: authenticating cannot change an action deny, and the default decision has no
     * predicate that failed.
     *
     * With case-insensitive paths (upstream.case_insensitive_paths; the compiler then compiles
     * every glob case-insensitively), the request path is folded once, here, before any rule
     * runs, so that path conditions do not each fold it again.
     *
     * A RuleIndex, built here, narrows each request to the rules whose match can hold by its
     * method, first path segment, host, client IP, roles, country and Referer host; evaluate
     * walks only those, in order, which decides exactly as the linear walk over every rule
     * (evaluateLinear, kept as the oracle of the tests) does.
     *
     * evaluate also reads each rule's match as its top-level conjuncts, and remembers, for one
     * request, the outcome of the conditions that several rules share (equal paths, hosts, ip,
     * roles, referrers or schedule conditions; up to 64 of them, the most shared first) in two
     * longs, so that a path glob written in a hundred rules is matched once. Conditions are
     * pure, so their outcome for one request does not change; conditions that read the lazily
     * looked-up country or ASN are not shared, so that they are read exactly when the linear walk
     * reads them.
     */

    private final List<Rule> rules;
    private final Rule[] ruleArray;
    private final Decision[] allowDecisions;
    private final Effect defaultEffect;
    private final Decision defaultDecision;
    private final boolean caseInsensitivePaths;
    private final RuleIndex index;
    private final RequestMatcher[][] conjuncts;
    private final int[][] memoSlots;

    /** A policy of {@code rules}, in order, whose names must be unique, matching paths case-sensitively. */
    public Policy(List<Rule> rules, Effect defaultEffect) {
        this(rules, defaultEffect, false);
    }

    /**
     * A policy of {@code rules}, in order, whose names must be unique; with {@code caseInsensitivePaths} it folds each
     * request's path once for the rules' case-insensitive path globs.
     */
    public Policy(List<Rule> rules, Effect defaultEffect, boolean caseInsensitivePaths) {
        this.caseInsensitivePaths = caseInsensitivePaths;
        this.rules = List.copyOf(rules);
        this.defaultEffect = Objects.requireNonNull(defaultEffect, "defaultEffect");
        this.ruleArray = this.rules.toArray(Rule[]::new);
        this.allowDecisions = new Decision[ruleArray.length];
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < ruleArray.length; i++) {
            String name = ruleArray[i].name();
            Integer previous = seen.putIfAbsent(name, i);
            if (previous != null) {
                throw new IllegalArgumentException("\"" + name + "\" is not a valid rule name (expected: unique, "
                        + "already used by rules[" + previous + "])");
            }
            allowDecisions[i] = new Decision(Effect.ALLOW, name, "allowed by rule " + name, 200, List.of());
        }
        this.defaultDecision = new Decision(defaultEffect, null, "no rule matched, default " + defaultEffect,
                defaultEffect == Effect.ALLOW ? 200 : 403, List.of());
        this.index = new RuleIndex(ruleArray, caseInsensitivePaths);
        this.conjuncts = new RequestMatcher[ruleArray.length][];
        this.memoSlots = new int[ruleArray.length][];
        assignMemoSlots();
    }

    /** Splits each rule's match into its conjuncts and gives the most shared conditions a memo slot each. */
    private void assignMemoSlots() {
        Map<Object, Integer> occurrences = new HashMap<>();
        for (int i = 0; i < ruleArray.length; i++) {
            RequestMatcher match = ruleArray[i].match();
            conjuncts[i] = (match instanceof AllOf allOf ? allOf.matchers() : List.of(match))
                    .toArray(RequestMatcher[]::new);
            for (RequestMatcher conjunct : conjuncts[i]) {
                Object key = memoKey(conjunct);
                if (key != null) {
                    occurrences.merge(key, 1, Integer::sum);
                }
            }
        }
        List<Object> shared = new ArrayList<>();
        occurrences.forEach((key, count) -> {
            if (count > 1) {
                shared.add(key);
            }
        });
        shared.sort((a, b) -> Integer.compare(occurrences.get(b), occurrences.get(a)));
        Map<Object, Integer> slots = new HashMap<>();
        for (int slot = 0; slot < Math.min(64, shared.size()); slot++) {
            slots.put(shared.get(slot), slot);
        }
        for (int i = 0; i < ruleArray.length; i++) {
            memoSlots[i] = new int[conjuncts[i].length];
            for (int c = 0; c < conjuncts[i].length; c++) {
                Object key = memoKey(conjuncts[i][c]);
                Integer slot = key == null ? null : slots.get(key);
                memoSlots[i][c] = slot == null ? -1 : slot;
            }
        }
    }

    /** What makes two conditions hold for the same requests, for the conditions worth remembering; else null. */
    private static @Nullable Object memoKey(RequestMatcher matcher) {
        if (matcher instanceof PathMatcher paths) {
            return List.of("paths", paths.caseInsensitive(), paths.globs());
        }
        if (matcher instanceof HostMatcher hosts) {
            return List.of("hosts", hosts.patterns());
        }
        if (matcher instanceof IpMatcher ip) {
            return List.of("ip", ip.cidrs().cidrs());
        }
        if (matcher instanceof RoleMatcher roles) {
            return List.of("roles", roles.requireAll(), roles.roles());
        }
        if (matcher instanceof ReferrerMatcher referrers) {
            return List.of("referrers", referrers.patterns());
        }
        if (matcher instanceof ScheduleMatcher schedule) {
            return List.of("schedule", schedule.days(), schedule.from(), schedule.to(), schedule.zone());
        }
        return null;
    }

    /** The rules, in evaluation order. */
    public List<Rule> rules() {
        return rules;
    }

    /** The effect when no enforce-mode rule matches. */
    public Effect defaultEffect() {
        return defaultEffect;
    }

    /** Whether request paths are folded for case-insensitive matching ({@code upstream.case_insensitive_paths}). */
    public boolean caseInsensitivePaths() {
        return caseInsensitivePaths;
    }

    /**
     * Decides {@code request}; allocation-free when it is allowed, no audit-mode rule matched and paths are matched
     * case-sensitively.
     */
    public Decision evaluate(AccessRequest request) {
        if (caseInsensitivePaths) {
            request = request.withFoldedPath();
        }
        long[] byMethod = index.byMethod(request);
        long[] byPath = index.byPath(request);
        long[] byHost = index.byHost(request);
        long[] byClientIp = index.byClientIp(request);
        long[] byCountry = null;
        long[] byRefererHost = null;
        long[] byRefererSuffix = null;
        List<AuditOutcome> audit = null;
        long known = 0;
        long held = 0;
        for (int w = 0; w < byMethod.length; w++) {
            long candidates = byMethod[w] & byPath[w] & byHost[w] & byClientIp[w];
            if ((candidates & ~index.rolesUnconstrained(w)) != 0) {
                candidates &= index.byRoles(request, w);
            }
            if ((candidates & ~index.referrerUnconstrained(w)) != 0) {
                if (byRefererHost == null) {
                    byRefererHost = index.byRefererHost(request);
                    byRefererSuffix = index.byRefererHostAfterFirstLabel(request);
                }
                candidates &= byRefererHost[w] | byRefererSuffix[w];
            }
            if ((candidates & ~index.countryUnconstrained(w)) != 0) {
                if (byCountry == null) {
                    byCountry = index.byCountry(request);
                }
                candidates &= byCountry[w];
            }
            candidates:
            while (candidates != 0) {
                int i = (w << 6) + Long.numberOfTrailingZeros(candidates);
                candidates &= candidates - 1;
                RequestMatcher[] ruleConjuncts = conjuncts[i];
                int[] slots = memoSlots[i];
                for (int c = 0; c < ruleConjuncts.length; c++) {
                    int slot = slots[c];
                    boolean holds;
                    if (slot < 0) {
                        holds = ruleConjuncts[c].matches(request);
                    } else if ((known & 1L << slot) != 0) {
                        holds = (held & 1L << slot) != 0;
                    } else {
                        holds = ruleConjuncts[c].matches(request);
                        known |= 1L << slot;
                        held |= holds ? 1L << slot : 0;
                    }
                    if (!holds) {
                        continue candidates;
                    }
                }
                Rule rule = ruleArray[i];
                if (rule.mode() == Mode.ENFORCE) {
                    return decide(i, request, audit);
                }
                audit = audited(audit, rule, decide(i, request, null));
            }
        }
        return byDefault(audit);
    }

    /** Decides {@code request} by walking every rule in order, without the index: the oracle {@link #evaluate} meets. */
    Decision evaluateLinear(AccessRequest request) {
        if (caseInsensitivePaths) {
            request = request.withFoldedPath();
        }
        List<AuditOutcome> audit = null;
        for (int i = 0; i < ruleArray.length; i++) {
            Rule rule = ruleArray[i];
            if (!rule.match().matches(request)) {
                continue;
            }
            if (rule.mode() == Mode.ENFORCE) {
                return decide(i, request, audit);
            }
            audit = audited(audit, rule, decide(i, request, null));
        }
        return byDefault(audit);
    }

    private static List<AuditOutcome> audited(@Nullable List<AuditOutcome> audit, Rule rule, Decision wouldBe) {
        List<AuditOutcome> outcomes = audit == null ? new ArrayList<>(2) : audit;
        outcomes.add(new AuditOutcome(rule.name(), wouldBe.effect(), wouldBe.reason(), wouldBe.status()));
        return outcomes;
    }

    private Decision byDefault(@Nullable List<AuditOutcome> audit) {
        if (audit == null) {
            return defaultDecision;
        }
        return new Decision(defaultEffect, null, defaultDecision.reason(), defaultDecision.status(), audit);
    }

    /** The decision of rule {@code index} for a request its match holds for: what {@link PolicyTrace} shows. */
    Decision decide(int index, AccessRequest request, @Nullable List<AuditOutcome> audit) {
        Rule rule = ruleArray[index];
        List<AuditOutcome> outcomes = audit == null ? List.of() : audit;
        if (rule.action() == Effect.DENY) {
            return new Decision(Effect.DENY, rule.name(),
                    "rule " + rule.name() + ": " + rule.match().explainMatch(request), rule.denyStatus(), outcomes);
        }
        RequestMatcher require = rule.require();
        if (!require.matches(request)) {
            // deny_status 404 hides the resource, from anonymous clients too: no 401 that would reveal it
            if (rule.denyStatus() != 404 && request.identity().isAnonymous() && require.failsForWantOfIdentity(request)) {
                String reason = "rule " + rule.name() + ": " + require.explainFailureForWantOfIdentity(request);
                RejectReason rejection = request.tokenRejection();
                return new Decision(Effect.DENY, rule.name(),
                        rejection == null ? reason : reason + " (token rejected: " + rejection.code() + ")",
                        401, outcomes);
            }
            return new Decision(Effect.DENY, rule.name(),
                    "rule " + rule.name() + ": " + require.explainFailure(request), rule.denyStatus(), outcomes);
        }
        Decision allowed = allowDecisions[index];
        return audit == null ? allowed
                : new Decision(Effect.ALLOW, rule.name(), allowed.reason(), 200, outcomes);
    }

    @Override
    public String toString() {
        return "Policy[" + rules.size() + " rules, default " + defaultEffect
                + (caseInsensitivePaths ? ", case-insensitive paths]" : "]");
    }
}
