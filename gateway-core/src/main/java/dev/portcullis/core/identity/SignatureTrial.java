package dev.portcullis.core.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.SignedJWT;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * One token's signature tried against a provider's key set: the keys its {@code kid} names (or all keys when it
 * names none), then the keys without a {@code kid}, each only if it fits the token's alg.
 */
final class SignatureTrial {

    private int candidates;
    private boolean kidUnknown;
    private @Nullable VerifyingKey verifiedBy;

    private SignatureTrial() {}

    /**
     * Tries the candidate keys of {@code keySet} until one verifies {@code jwt}'s signature.
     *
     * @param kid the token's {@code kid}, or null
     * @param verifications counts each signature verification performed
     */
    static SignatureTrial run(SignedJWT jwt, JWSAlgorithm algorithm, @Nullable String kid, KeySet keySet,
            LongAdder verifications) {
        SignatureTrial trial = new SignatureTrial();
        if (kid == null) {
            trial.tryKeys(jwt, algorithm, keySet.all(), verifications);
        } else {
            List<VerifyingKey> named = keySet.withKid(kid);
            trial.kidUnknown = named.isEmpty();
            trial.tryKeys(jwt, algorithm, named, verifications);
            if (trial.verifiedBy == null) {
                trial.tryKeys(jwt, algorithm, keySet.withoutKid(), verifications);
            }
        }
        return trial;
    }

    /** The key that verified the signature, or null when none did. */
    @Nullable VerifyingKey verifiedBy() {
        return verifiedBy;
    }

    /** True when no key verified the signature and none has the token's {@code kid}: a refetch may bring it. */
    boolean kidUnknown() {
        return verifiedBy == null && kidUnknown;
    }

    /** Why no key verified the signature: {@code unknown_kid}, {@code no_suitable_key} or {@code bad_signature}. */
    RejectReason failure() {
        return kidUnknown ? RejectReason.UNKNOWN_KID
                : candidates == 0 ? RejectReason.NO_SUITABLE_KEY
                : RejectReason.BAD_SIGNATURE;
    }

    private void tryKeys(SignedJWT jwt, JWSAlgorithm algorithm, List<VerifyingKey> keys, LongAdder verifications) {
        for (VerifyingKey key : keys) {
            if (!key.fits(algorithm)) {
                continue;
            }
            candidates++;
            verifications.increment();
            try {
                if (jwt.verify(key.verifier())) {
                    verifiedBy = key;
                    return;
                }
            } catch (JOSEException | RuntimeException e) {
                // A signature the verifier cannot even process (wrong length, bad encoding) is a bad signature.
            }
        }
    }
}
