package dev.portcullis.core.decision;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Policy;
import java.util.concurrent.CompletableFuture;

/**
 * Decides a screened request: identity (SPEC 3.5), then the first-match policy. One step per
 * configuration generation; pure apart from the token verifier's caches and key fetches, and it never
 * blocks: a token whose key is being fetched gives {@link Verdict.AwaitingKeys}.
 */
public final class DecisionStep {
    private final IdentityChain identity;
    private final Policy policy;

    public DecisionStep(IdentityChain identity, Policy policy) {
        this.identity = identity;
        this.policy = policy;
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
        Decision decision = policy.evaluate(new AccessRequest(facts.method(), facts.path(), facts.host(),
                facts.clientIp(), facts.peerIp(), facts.headers(), who, tokenRejection));
        return new Verdict.Decided(decision, who, tokenRejection);
    }
}
