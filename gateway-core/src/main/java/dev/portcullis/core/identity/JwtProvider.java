package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSAlgorithm;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** One provider compiled for the request path: its settings in the form verification needs, and its keys. */
final class JwtProvider {

    final int index;
    final JwtProviderSettings settings;
    final @Nullable String issuer;
    final Set<JWSAlgorithm> algorithms;
    /** The checks made after the signature, and the identity they make. */
    final TokenClaimsCheck claims;
    final KeyProvider keys;

    JwtProvider(int index, JwtProviderSettings settings, KeyProvider keys) {
        this.index = index;
        this.settings = settings;
        this.issuer = settings.issuer();
        this.algorithms = jws(settings.algorithms());
        this.claims = new TokenClaimsCheck(settings);
        this.keys = keys;
    }

    static Set<JWSAlgorithm> jws(Set<SigningAlgorithm> algorithms) {
        Set<JWSAlgorithm> jws = new HashSet<>();
        for (SigningAlgorithm algorithm : algorithms) {
            jws.add(algorithm.jws());
        }
        return Set.copyOf(jws);
    }

    ProviderStatus status() {
        KeySet set = keys.current();
        return new ProviderStatus(index, issuer, settings.keySource().configKey(), set == null ? 0 : set.size(),
                set == null ? 0 : set.generation(), keys.fetches(), keys.fetchFailures(), keys.lastSuccess());
    }
}
