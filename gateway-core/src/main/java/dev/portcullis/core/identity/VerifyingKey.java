package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One usable verification key: its {@code kid}, the algorithms it may verify and a ready verifier.
 *
 * @param kid the key id, or null
 * @param algorithms the allowed algorithms that fit the key's type, curve and {@code alg}; never empty
 * @param verifier the thread-safe nimbus verifier, built once when the key set is loaded
 * @param id the kid and the RFC 7638 thumbprint: equal ids mean the same key under the same name
 */
record VerifyingKey(@Nullable String kid, Set<JWSAlgorithm> algorithms, JWSVerifier verifier, String id) {

    VerifyingKey {
        algorithms = Set.copyOf(algorithms);
    }

    boolean fits(JWSAlgorithm algorithm) {
        return algorithms.contains(algorithm);
    }
}
