package dev.portcullis.core.explain;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Mode;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.PolicyTrace;
import dev.portcullis.core.policy.RequestHeaders;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What {@code portcullis explain} reports for one hypothetical request: the request as the gateway understands it,
 * each rule evaluated with each condition's outcome, and the answer; as text for people or as a JSON-ready map.
 *
 * @param method the method
 * @param target the request target as given
 * @param path the canonical path; null when the gateway would reject the target
 * @param host the host as policies see it (lower case, no port); "" when none
 * @param clientIp the client address the rules see
 * @param peerIp the TCP peer (whose forwarded-identity headers are believed only from a trusted proxy)
 * @param country the client's GeoIP country when a country database is configured, else null
 * @param asn the client's ASN when an ASN database is configured, else null
 * @param identity who the request is, as resolved
 * @param tokenRejection why a presented bearer token was rejected, or null
 * @param at the time the request is decided at
 * @param rejection why the gateway would answer before any rule runs (400, 405), or null
 * @param trace the rules evaluated and the decision; null when {@code rejection} is not
 */
public record Explanation(
        String method,
        String target,
        @Nullable String path,
        String host,
        IpAddress clientIp,
        IpAddress peerIp,
        @Nullable String country,
        @Nullable Long asn,
        Identity identity,
        @Nullable RejectReason tokenRejection,
        Instant at,
        TargetResult.@Nullable Rejected rejection,
        @Nullable PolicyTrace trace) {

    /**
     * Explains a request as the gateway would decide it.
     *
     * @param policy the compiled policy
     * @param method the method
     * @param target the request target (path and optional query)
     * @param hostHeader the Host header, or null
     * @param clientIp the client address after the trusted-proxy walk
     * @param peerIp the TCP peer
     * @param headers the request headers as the policy sees them
     * @param identity the resolved identity
     * @param tokenRejection why a presented token was rejected, or null
     * @param clock the time of the decision
     * @param geo the GeoIP lookup
     * @param showCountry whether a country database is configured (the country is shown)
     * @param showAsn whether an ASN database is configured (the ASN is shown)
     */
    public static Explanation of(Policy policy, String method, String target, @Nullable String hostHeader,
            IpAddress clientIp, IpAddress peerIp, RequestHeaders headers, Identity identity,
            @Nullable RejectReason tokenRejection, Clock clock, GeoLookup geo, boolean showCountry, boolean showAsn) {
        String host = SimulatedRequests.policyHost(hostHeader);
        String country = showCountry ? geo.country(clientIp) : null;
        Long asn = showAsn ? geo.asn(clientIp) : null;
        Instant at = clock.instant();
        TargetResult screened = SimulatedRequests.screen(method, target, hostHeader, policy.caseInsensitivePaths());
        if (screened instanceof TargetResult.Rejected rejected) {
            return new Explanation(method, target, null, host, clientIp, peerIp, country, asn, identity,
                    tokenRejection, at, rejected, null);
        }
        String path = ((TargetResult.Accepted) screened).path();
        AccessRequest request = new AccessRequest(method, path, host, clientIp, peerIp, headers, identity,
                tokenRejection, path, Clock.fixed(at, clock.getZone()), geo);
        return new Explanation(method, target, path, host, clientIp, peerIp, country, asn, identity,
                tokenRejection, at, null, PolicyTrace.of(policy, request));
    }

    /**
     * This request as the gateway would refuse it before any rule runs, for {@code reason}: e.g. 400
     * {@code ambiguous_header} when it repeats a header that decides access.
     */
    public Explanation refused(TargetResult.Rejected reason) {
        return new Explanation(method, target, path, host, clientIp, peerIp, country, asn, identity, tokenRejection,
                at, reason, null);
    }

    /** The status the gateway would answer: 200 when it would proxy the request. */
    public int status() {
        if (rejection != null) {
            return rejection.status();
        }
        return trace == null ? 500 : trace.decision().status();
    }

    /** The explanation for people, one fact per line. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append("request   ").append(method).append(' ').append(target);
        if (path != null && !path.equals(target)) {
            sb.append("  (canonical path ").append(path).append(')');
        }
        sb.append('\n');
        sb.append("host      ").append(host.isEmpty() ? "(none)" : host).append('\n');
        sb.append("client    ").append(clientIp);
        if (!peerIp.equals(clientIp)) {
            sb.append(" (TCP peer ").append(peerIp).append(')');
        }
        if (country != null) {
            sb.append(", country ").append(country);
        }
        if (asn != null) {
            sb.append(", ASN ").append(asn == GeoLookup.UNKNOWN_ASN ? "unknown" : "AS" + asn);
        }
        sb.append('\n');
        sb.append("identity  ").append(identityText()).append('\n');
        sb.append("time      ").append(at).append('\n');
        if (rejection != null) {
            sb.append('\n').append("decision  ").append(rejection.status()).append(": the gateway would answer ")
                    .append(rejection.status()).append(": ").append(rejection.reason())
                    .append(" (before any rule runs)\n");
            return sb.toString();
        }
        PolicyTrace traced = trace;
        if (traced == null) {
            return sb.toString();
        }
        sb.append('\n').append("rules\n");
        if (traced.rules().isEmpty()) {
            sb.append("  (none)\n");
        }
        int number = 1;
        for (PolicyTrace.RuleTrace rule : traced.rules()) {
            sb.append(String.format(Locale.ROOT, "  %d. %s (%s, %s): %s%n", number++, rule.name(),
                    rule.action().name().toLowerCase(Locale.ROOT), rule.mode().name().toLowerCase(Locale.ROOT),
                    rule.matched() ? "matched" : "not matched"));
            if (rule.match().isEmpty()) {
                sb.append("       match: every request\n");
            }
            appendConditions(sb, "match", rule.match());
            if (rule.matched() && rule.decision() != null) {
                if (rule.action() == Effect.ALLOW) {
                    if (rule.require().isEmpty()) {
                        sb.append("       require: none\n");
                    }
                    appendConditions(sb, "require", rule.require());
                }
                Decision decided = rule.decision();
                sb.append("       -> ").append(statusText(decided.status())).append(": ").append(decided.reason());
                sb.append(rule.mode() == Mode.AUDIT ? " (audit only: evaluation goes on)\n"
                        : "\n");
            }
        }
        Decision decision = traced.decision();
        sb.append('\n').append("decision  ").append(statusText(decision.status())).append(", ")
                .append(decision.rule() == null ? "no rule matched (default " + decision.effect().name()
                        .toLowerCase(Locale.ROOT) + ")" : "rule " + decision.rule())
                .append(": ").append(withoutRulePrefix(decision.rule(), decision.reason())).append('\n');
        for (AuditOutcome audit : decision.audit()) {
            sb.append("audit     rule ").append(audit.rule()).append(" would answer ")
                    .append(statusText(audit.status())).append(": ")
                    .append(withoutRulePrefix(audit.rule(), audit.reason())).append('\n');
        }
        String limiter = rateLimit(traced);
        if (limiter != null) {
            sb.append("rate limit rule ").append(decision.rule()).append(" applies limiter ").append(limiter)
                    .append(", which is not simulated: the gateway answers 429 once it is exhausted\n");
        }
        return sb.toString();
    }

    /**
     * A denial's reason names its rule ("rule admin: role admin missing", as the access log has it); the line that
     * already says "rule admin" shows the rest, instead of "rule admin: rule admin: role admin missing".
     */
    private static String withoutRulePrefix(@Nullable String rule, String reason) {
        if (rule != null && reason.startsWith("rule ") && reason.startsWith(": ", 5 + rule.length())
                && reason.startsWith(rule, 5)) {
            return reason.substring(7 + rule.length());
        }
        return reason;
    }

    /** The explanation as nested maps and lists, for a JSON encoder. */
    public Map<String, Object> toMap() {
        return ExplanationMap.of(this);
    }

    /**
     * The limiter the deciding rule applies to the request, which explain does not simulate: null when the request is
     * denied, decided by the default, or its rule has no {@code rate_limit}.
     */
    static @Nullable String rateLimit(PolicyTrace traced) {
        Decision decision = traced.decision();
        if (!decision.allowed() || decision.rule() == null) {
            return null;
        }
        for (PolicyTrace.RuleTrace rule : traced.rules()) {
            if (rule.name().equals(decision.rule()) && rule.mode() == Mode.ENFORCE) {
                return rule.rateLimit();
            }
        }
        return null;
    }

    private String identityText() {
        if (!identity.isAnonymous()) {
            return identity.source().code() + " " + identity.subject() + ", roles "
                    + (identity.roles().isEmpty() ? "(none)" : new TreeSet<>(identity.roles()).toString());
        }
        return tokenRejection == null ? "anonymous" : "anonymous (token rejected: " + tokenRejection.code() + ")";
    }

    private static void appendConditions(StringBuilder sb, String label, List<PolicyTrace.ConditionOutcome> outcomes) {
        for (PolicyTrace.ConditionOutcome outcome : outcomes) {
            sb.append("       ").append(label).append(' ').append(outcome.holds() ? "holds: " : "fails: ")
                    .append(outcome.condition()).append(" -- ").append(outcome.explanation()).append('\n');
        }
    }

    /** {@code 200 proxied}, {@code 401 challenge}, {@code 403 forbidden}, ... */
    static String statusText(int status) {
        return switch (status) {
            case 200 -> "200 proxied";
            case 401 -> "401 unauthorized";
            case 403 -> "403 forbidden";
            case 404 -> "404 not found";
            case 429 -> "429 too many requests";
            default -> Integer.toString(status);
        };
    }
}
