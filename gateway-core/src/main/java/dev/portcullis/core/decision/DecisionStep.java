package dev.portcullis.core.decision;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.Rule;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.RateLimiter;
import dev.portcullis.core.ratelimit.RateLimiters;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Decides a screened request: identity (SPEC 3.5), then the first-match policy, then the deciding rule's
 * rate limit (SPEC 3.1: only when the rule allows). One step per configuration generation; it never blocks:
 * a token whose key is being fetched gives {@link Verdict.AwaitingKeys}.
 */
public final class DecisionStep {
    private final IdentityChain identity;
    private final Policy policy;
    private final Map<String, RateLimiter> limiterByRule;
    private final Clock clock;
    private final GeoLookup geo;
    private final boolean logCountry;

    /**
     * @param limiters the generation's rate limiters, by the names rules refer to
     * @param clock where a request's "now" comes from
     * @param geo the generation's GeoIP lookup
     * @param logCountry whether each verdict carries the client's country (when a country database is configured)
     */
    public DecisionStep(IdentityChain identity, Policy policy, RateLimiters limiters, Clock clock, GeoLookup geo,
            boolean logCountry) {
        this.identity = identity;
        this.policy = policy;
        this.clock = clock;
        this.geo = geo;
        this.logCountry = logCountry;
        Map<String, RateLimiter> byRule = new HashMap<>();
        for (Rule rule : policy.rules()) {
            String name = rule.rateLimit();
            RateLimiter limiter = name == null ? null : limiters.get(name);
            if (name != null && limiter == null) {
                throw new IllegalArgumentException("rule \"" + rule.name() + "\" refers to rate limiter \"" + name
                        + "\" (expected: one of the configured limiters)");
            }
            if (limiter != null) {
                byRule.put(rule.name(), limiter);
            }
        }
        this.limiterByRule = Map.copyOf(byRule);
    }

    /** The identity chain of this generation. */
    public IdentityChain identity() {
        return identity;
    }

    /** Decides {@code facts}, or says what to wait for first. */
    public Verdict decide(RequestFacts facts) {
        Resolution bearer = identity.verifyBearer(facts.authorization());
        CompletableFuture<Resolution> later = identity.afterKeyFetch(facts.authorization(), bearer);
        if (later != null) {
            if (!later.isDone()) {
                return new Verdict.AwaitingKeys(later, bearer);
            }
            bearer = later.getNow(bearer);
        }
        return decide(facts, bearer);
    }

    /** Decides {@code facts} once its bearer token has resolved to {@code bearer}. */
    public Verdict.Decided decide(RequestFacts facts, Resolution bearer) {
        RejectReason tokenRejection = bearer instanceof Resolution.Rejected rejected ? rejected.reason() : null;
        Identity who = identity.identity(bearer, facts.headers(), facts.peerIp());
        AccessRequest request = new AccessRequest(facts.method(), facts.path(), facts.host(), facts.clientIp(),
                facts.peerIp(), facts.headers(), who, tokenRejection, facts.path(), clock, geo);
        Decision decision = policy.evaluate(request);
        int retryAfterSeconds = 0;
        String rule = decision.rule();
        if (decision.allowed() && rule != null) {
            RateLimiter limiter = limiterByRule.get(rule);
            if (limiter != null) {
                RateLimitResult result = limiter.acquire(request);
                if (result instanceof RateLimitResult.Limited limited) {
                    decision = new Decision(Effect.DENY, rule, "rate limited by " + limiter.name(), 429,
                            decision.audit());
                    retryAfterSeconds = limited.retryAfterSeconds();
                } else if (!(result instanceof RateLimitResult.Admitted)) {
                    // an answer that arrives later needs a shared store, which has no limiter here yet: fail closed
                    decision = new Decision(Effect.DENY, rule, "rate limit of " + limiter.name()
                            + " undecided", 429, decision.audit());
                    retryAfterSeconds = 1;
                }
            }
        }
        return new Verdict.Decided(decision, who, tokenRejection, retryAfterSeconds,
                logCountry ? request.country() : null);
    }
}
