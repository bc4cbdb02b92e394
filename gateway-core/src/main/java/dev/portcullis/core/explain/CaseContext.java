package dev.portcullis.core.explain;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.Limits;
import dev.portcullis.core.decision.DecisionStep;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.policy.Policy;
import java.util.List;

/**
 * What a policy test case (SPEC 3.10) is decided with, taken from a loaded config without starting anything (no key
 * fetch, no GeoIP file, no rate limit store): the policy, and what the server's header screening before the rules
 * depends on ({@link SimulatedHeaders}).
 *
 * @param policy the compiled policy
 * @param identity the identity chain, without a token verifier (cases give their identity; tokens are not verified)
 * @param clients the trusted proxies: a case's {@code ip} is also its TCP peer
 * @param headersRead the headers that decide access ({@link DecisionStep#headersRead})
 * @param limits the limits the server checks a request head against before any rule runs
 */
public record CaseContext(Policy policy, IdentityChain identity, ClientIpResolver clients, List<String> headersRead,
        Limits limits) {

    /** Copies the header names. */
    public CaseContext {
        headersRead = List.copyOf(headersRead);
    }

    /** The context of {@code config}. */
    public static CaseContext of(CompiledConfig config) {
        IdentityChain identity = new IdentityChain(null, config.identity());
        return new CaseContext(config.policy(), identity, config.clientIps(),
                DecisionStep.headersRead(config.policy(), config.rateLimits(), identity), config.limits());
    }
}
