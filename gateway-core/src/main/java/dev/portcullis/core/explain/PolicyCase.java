package dev.portcullis.core.explain;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.http.TargetResult;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestHeaders;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One policy test case (SPEC 3.10): a simulated request, already resolved (client IP, identity, country, ASN,
 * time), and the expected status and, optionally, deciding rule.
 *
 * @param name the case's name
 * @param line the line the case starts at in its file
 * @param method the method
 * @param target the request target
 * @param hostHeader the Host header, or null
 * @param clientIp the client address the rules see
 * @param identity the simulated identity ({@link Identity#ANONYMOUS} when the case gives none)
 * @param headers the request headers
 * @param country the client's country ({@link GeoLookup#UNKNOWN_COUNTRY} when not given)
 * @param asn the client's ASN ({@link GeoLookup#UNKNOWN_ASN} when not given)
 * @param at the time of the request; null for the time the test runs
 * @param expectStatus the expected status: 200 means "would be proxied"
 * @param expectRule the expected deciding rule; null when any rule (or the default) will do
 */
public record PolicyCase(
        String name,
        int line,
        String method,
        String target,
        @Nullable String hostHeader,
        IpAddress clientIp,
        Identity identity,
        Map<String, List<String>> headers,
        String country,
        long asn,
        @Nullable Instant at,
        int expectStatus,
        @Nullable String expectRule) {

    /**
     * What the policy made of a case's request.
     *
     * @param status the status the gateway would answer; 200 when it would proxy the request
     * @param rule the deciding rule; null when the default applied or the request was rejected before any rule
     * @param reason why, as the decision log says
     * @param beforeRules true when the request was rejected before any rule ran (a 400 for its target), so that
     *     no rule and no default decided it
     */
    public record Outcome(int status, @Nullable String rule, String reason, boolean beforeRules) {
        /** An outcome the policy decided: a rule, or the default. */
        public Outcome(int status, @Nullable String rule, String reason) {
            this(status, rule, reason, false);
        }
    }

    /** Copies the headers. */
    public PolicyCase {
        Objects.requireNonNull(name, "name");
        headers = Map.copyOf(headers);
    }

    /**
     * Decides the case's request as the server would with {@code context}: its target and Host screened, its headers
     * screened and cleaned as from a TCP peer at the case's {@code ip} ({@link SimulatedHeaders}), then the policy;
     * rate limits are not simulated.
     */
    public Outcome run(CaseContext context) {
        Policy policy = context.policy();
        SimulatedAdmission.Admitted admitted = SimulatedAdmission.admit(method, target, hostHeader, headers,
                context.identity(), clientIp, context.clients().isTrusted(clientIp), context.headersRead(),
                policy.caseInsensitivePaths(), context.limits());
        if (admitted.rejected() != null) {
            return rejectedBeforeRules(admitted.rejected());
        }
        String path = admitted.path();
        Clock clock = at == null ? Clock.systemUTC() : Clock.fixed(at, ZoneOffset.UTC);
        GeoLookup geo = new GeoLookup() {
            @Override
            public String country(IpAddress address) {
                return country;
            }

            @Override
            public long asn(IpAddress address) {
                return asn;
            }
        };
        AccessRequest request = new AccessRequest(method, path, SimulatedRequests.policyHost(admitted.host()),
                clientIp, clientIp, RequestHeaders.of(admitted.headers()), identity, null, path, clock, geo);
        Decision decision = policy.evaluate(request);
        return new Outcome(decision.status(), decision.rule(), decision.reason());
    }

    private static Outcome rejectedBeforeRules(TargetResult.Rejected rejected) {
        return new Outcome(rejected.status(), null, "rejected before any rule: " + rejected.reason(), true);
    }

    /** Whether {@code outcome} is what the case expects. */
    public boolean passes(Outcome outcome) {
        return outcome.status() == expectStatus && (expectRule == null || expectRule.equals(outcome.rule()));
    }
}
