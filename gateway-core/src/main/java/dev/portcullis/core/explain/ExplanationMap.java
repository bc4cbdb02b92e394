package dev.portcullis.core.explain;

import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.PolicyTrace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/** An {@link Explanation} as nested maps and lists, for a JSON encoder ({@code explain --json}). */
final class ExplanationMap {

    private ExplanationMap() {}

    static Map<String, Object> of(Explanation e) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("request", request(e));
        root.put("identity", identity(e));
        root.put("status", e.status());
        TargetResult.Rejected rejection = e.rejection();
        if (rejection != null) {
            root.put("rejected", rejection.reason());
            root.put("rules", List.of());
            root.put("decision", null);
            return root;
        }
        root.put("rejected", null);
        PolicyTrace traced = e.trace();
        if (traced != null) {
            root.put("rules", rules(traced));
            root.put("decision", decided(traced));
        }
        return root;
    }

    private static Map<String, Object> request(Explanation e) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("method", e.method());
        request.put("target", e.target());
        request.put("path", e.path());
        request.put("host", e.host());
        request.put("client_ip", e.clientIp().toString());
        request.put("peer_ip", e.peerIp().toString());
        request.put("country", e.country());
        request.put("asn", e.asn());
        request.put("at", e.at().toString());
        return request;
    }

    private static Map<String, Object> identity(Explanation e) {
        Identity identity = e.identity();
        RejectReason rejected = e.tokenRejection();
        Map<String, Object> who = new LinkedHashMap<>();
        who.put("source", identity.source().code());
        who.put("subject", identity.isAnonymous() ? null : identity.subject());
        who.put("roles", List.copyOf(new TreeSet<>(identity.roles())));
        who.put("token_rejected", rejected == null ? null : rejected.code());
        return who;
    }

    private static List<Object> rules(PolicyTrace traced) {
        List<Object> rules = new ArrayList<>();
        for (PolicyTrace.RuleTrace rule : traced.rules()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", rule.name());
            r.put("action", rule.action().name().toLowerCase(Locale.ROOT));
            r.put("mode", rule.mode().name().toLowerCase(Locale.ROOT));
            r.put("matched", rule.matched());
            r.put("match", conditions(rule.match()));
            r.put("require", conditions(rule.require()));
            r.put("require_held", rule.matched() ? rule.requireHeld() : null);
            Decision decision = rule.decision();
            r.put("decision", decision == null ? null : decision(decision));
            r.put("rate_limit", rule.rateLimit());
            rules.add(r);
        }
        return rules;
    }

    /** The decision, with the limiter its rule applies, which explain does not simulate. */
    private static Map<String, Object> decided(PolicyTrace traced) {
        Map<String, Object> decided = decision(traced.decision());
        String limiter = Explanation.rateLimit(traced);
        if (limiter == null) {
            decided.put("rate_limit", null);
        } else {
            Map<String, Object> limit = new LinkedHashMap<>();
            limit.put("limiter", limiter);
            limit.put("simulated", false);
            decided.put("rate_limit", limit);
        }
        return decided;
    }

    private static List<Object> conditions(List<PolicyTrace.ConditionOutcome> outcomes) {
        List<Object> list = new ArrayList<>();
        for (PolicyTrace.ConditionOutcome outcome : outcomes) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("condition", outcome.condition());
            c.put("holds", outcome.holds());
            c.put("explanation", outcome.explanation());
            list.add(c);
        }
        return list;
    }

    private static Map<String, Object> decision(Decision decision) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("effect", decision.effect().name().toLowerCase(Locale.ROOT));
        d.put("status", decision.status());
        d.put("rule", decision.rule());
        d.put("reason", decision.reason());
        List<Object> audit = new ArrayList<>();
        for (AuditOutcome outcome : decision.audit()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("rule", outcome.rule());
            a.put("effect", outcome.decision().name().toLowerCase(Locale.ROOT));
            a.put("status", outcome.status());
            a.put("reason", outcome.reason());
            audit.add(a);
        }
        d.put("audit", audit);
        return d;
    }
}
