package dev.portcullis.core.decision;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.policy.Decision;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/** What the decision step made of a request: decided now, or waiting for the key fetch its token started. */
public sealed interface Verdict permits Verdict.Decided, Verdict.AwaitingKeys {

    /**
     * The request is decided.
     *
     * @param decision the policy's decision: proxy (200) or the status to answer
     * @param identity who the request is; {@link Identity#ANONYMOUS} when none or the token was rejected
     * @param tokenRejection why a presented token was rejected (the 401 then says {@code invalid_token}), or null
     * @param retryAfterSeconds for a 429, the whole seconds until the rate limit admits the request again; else 0
     * @param country the client's GeoIP country when GeoIP is configured (for the log), else null
     */
    record Decided(Decision decision, Identity identity, @Nullable RejectReason tokenRejection, int retryAfterSeconds,
            @Nullable String country) implements Verdict {
        /** Rejects null components. */
        public Decided {
            Objects.requireNonNull(decision, "decision");
            Objects.requireNonNull(identity, "identity");
        }
    }

    /**
     * The token's key is not known yet and a fetch is on its way: once {@code keys} completes (or the
     * caller stops waiting, with {@code meanwhile}), pass the resolution to {@link DecisionStep#decide(RequestFacts,
     * Resolution)}.
     *
     * @param keys the token's verification once the fetch has landed; may complete on a background thread
     * @param meanwhile the resolution to decide with if the caller stops waiting first
     */
    record AwaitingKeys(CompletableFuture<Resolution> keys, Resolution meanwhile) implements Verdict {}
}
