package dev.portcullis.core.decision;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.KeyWait;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.Rule;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.RateLimiter;
import dev.portcullis.core.ratelimit.RateLimiters;
import dev.portcullis.core.ratelimit.SharedRateLimiter;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

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
    private final List<String> headersRead;

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
        this.headersRead = headersRead(policy, byRule.values().stream().map(RateLimiter::definition).toList(),
                identity);
    }

    /**
     * The request headers that decide access ({@link PolicyHeaders}, and the forwarded identity's user and roles
     * headers), lower case: a request that repeats one of them,
     * in any spelling of its name, is ambiguous and must be refused before it is decided.
     */
    public List<String> headersRead() {
        return headersRead;
    }

    /**
     * The first header that decides access ({@link #headersRead}) and that two of the request's header
     * {@code lines} (name and value, in order) are named, in any spelling: such a request is refused before any rule
     * runs. Null when there is none; {@code lines} is not iterated when no header decides access.
     */
    public @Nullable String repeatedHeader(Iterable<? extends Map.Entry<? extends CharSequence, ?>> lines) {
        return PolicyHeaders.repeated(lines, headersRead);
    }

    /**
     * {@link #headersRead} of a policy without its generation: for deciding a simulated request offline
     * ({@code test}) with the config's limiter {@code definitions}.
     */
    public static List<String> headersRead(Policy policy, List<RateLimitDefinition> definitions,
            IdentityChain identity) {
        Map<String, RateLimitDefinition> limitByName = new HashMap<>();
        definitions.forEach(definition -> limitByName.put(definition.name(), definition));
        return PolicyHeaders.readBy(policy.rules(), limitByName, identity.forwardedHeaders());
    }

    /**
     * The first of {@code headersRead} that two of the header {@code lines} are named, in any spelling; null when none
     * is: {@link #repeatedHeader(Iterable)} for a simulated request ({@code test}, {@code explain}).
     */
    public static @Nullable String repeatedHeader(Iterable<? extends Map.Entry<? extends CharSequence, ?>> lines,
            List<String> headersRead) {
        return PolicyHeaders.repeated(lines, headersRead);
    }

    /** The identity chain of this generation. */
    public IdentityChain identity() {
        return identity;
    }

    /** Decides {@code facts}, or says what to wait for first (a key fetch, or the shared rate limit store). */
    public Verdict decide(RequestFacts facts) {
        Resolution bearer = identity.verifyBearer(facts.authorization());
        KeyWait wait = identity.afterKeyFetch(facts.authorization(), bearer);
        if (wait != null) {
            if (!wait.landed().isDone()) {
                return new Verdict.AwaitingKeys(wait);
            }
            bearer = wait.settle();
        }
        return afterKeys(facts, bearer);
    }

    /**
     * Decides {@code facts} once its bearer token has resolved to {@code bearer}; a rule whose limiter is shared
     * gives {@link Verdict.AwaitingRateLimit} (answered already when the store was that fast).
     */
    public Verdict afterKeys(RequestFacts facts, Resolution bearer) {
        return decide(facts, bearer, true);
    }

    /**
     * Decides {@code facts} once its bearer token has resolved to {@code bearer}, for callers that cannot wait
     * (benchmarks, tools): a shared limiter's answer that is not there yet is settled as a store failure
     * ({@code on_error}).
     */
    public Verdict.Decided decide(RequestFacts facts, Resolution bearer) {
        return (Verdict.Decided) decide(facts, bearer, false);
    }

    private Verdict decide(RequestFacts facts, Resolution bearer, boolean mayWait) {
        RejectReason tokenRejection = bearer instanceof Resolution.Rejected rejected ? rejected.reason() : null;
        Identity who = identity.identity(bearer, facts.headers(), facts.peerIp());
        AccessRequest request = new AccessRequest(facts.method(), facts.path(), facts.host(), facts.clientIp(),
                facts.peerIp(), facts.headers(), who, tokenRejection, facts.path(), clock, geo);
        Decision decision = policy.evaluate(request);
        String country = logCountry ? request.country() : null;
        String rule = decision.rule();
        RateLimiter limiter = decision.allowed() && rule != null ? limiterByRule.get(rule) : null;
        if (limiter == null) {
            return new Verdict.Decided(decision, who, tokenRejection, 0, country);
        }
        RateLimitResult result = limiter.acquire(request);
        if (result instanceof RateLimitResult.Pending pending && limiter instanceof SharedRateLimiter shared) {
            Verdict.AwaitingRateLimit awaiting = new Verdict.AwaitingRateLimit(
                    new Verdict.Decided(decision, who, tokenRejection, 0, country), shared, pending.result());
            CompletableFuture<RateLimitResult> answer = pending.result();
            if (answer.isDone() || !mayWait) {
                return awaiting.settle(answer.isCompletedExceptionally() ? null : answer.getNow(null));
            }
            return awaiting;
        }
        if (result instanceof RateLimitResult.Limited limited) {
            return new Verdict.Decided(new Decision(Effect.DENY, rule, "rate limited by " + limiter.name(), 429,
                    decision.audit()), who, tokenRejection, limited.retryAfterSeconds(), country);
        }
        if (result instanceof RateLimitResult.Admitted) {
            return new Verdict.Decided(decision, who, tokenRejection, 0, country);
        }
        // a pending answer from a limiter that says nothing about its failures: fail closed
        return new Verdict.Decided(new Decision(Effect.DENY, rule, "rate limit of " + limiter.name() + " undecided",
                429, decision.audit()), who, tokenRejection, 1, country);
    }
}
