package dev.portcullis.core.identity;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** One provider compiled for the request path: its settings in the form verification needs, and its keys. */
final class JwtProvider {

    final int index;
    final JwtProviderSettings settings;
    final @Nullable String issuer;
    final Set<String> audiences;
    final Set<JWSAlgorithm> algorithms;
    final Duration clockSkew;
    final ClaimPath subjectClaim;
    final ClaimPath rolesClaim;
    final boolean requireExp;
    /** The {@code typ} allow-list in lower case; empty skips the check. */
    final Set<String> types;
    final KeyProvider keys;

    JwtProvider(int index, JwtProviderSettings settings, KeyProvider keys) {
        this.index = index;
        this.settings = settings;
        this.issuer = settings.issuer();
        this.audiences = Set.copyOf(settings.audiences());
        this.algorithms = jws(settings.algorithms());
        this.clockSkew = settings.clockSkew();
        this.subjectClaim = ClaimPath.compile(settings.subjectClaim());
        this.rolesClaim = ClaimPath.compile(settings.rolesClaim());
        this.requireExp = settings.requireExp();
        Set<String> lower = new HashSet<>();
        for (String type : settings.types()) {
            String name = type.toLowerCase(Locale.ROOT);
            lower.add(name.startsWith(APPLICATION) ? name.substring(APPLICATION.length()) : name);
        }
        this.types = Set.copyOf(lower);
        this.keys = keys;
    }

    static Set<JWSAlgorithm> jws(Set<SigningAlgorithm> algorithms) {
        Set<JWSAlgorithm> jws = new HashSet<>();
        for (SigningAlgorithm algorithm : algorithms) {
            jws.add(algorithm.jws());
        }
        return Set.copyOf(jws);
    }

    /** Whether a token whose header has this {@code typ} (null when absent) passes the {@code types} allow-list. */
    /**
     * Whether the token's {@code typ} is allowed: compared case-insensitively, and, as RFC 7515 4.1.9 allows
     * {@code typ} to omit it, with a leading {@code application/} ignored ({@code application/at+jwt} is {@code at+jwt}).
     */
    boolean acceptsType(@Nullable JOSEObjectType type) {
        if (types.isEmpty()) {
            return true;
        }
        if (type == null) {
            return false;
        }
        String name = type.getType().toLowerCase(Locale.ROOT);
        return types.contains(name.startsWith(APPLICATION) ? name.substring(APPLICATION.length()) : name);
    }

    private static final String APPLICATION = "application/";

    ProviderStatus status() {
        KeySet set = keys.current();
        return new ProviderStatus(index, issuer, settings.keySource().configKey(), set == null ? 0 : set.size(),
                set == null ? 0 : set.generation(), keys.fetches(), keys.fetchFailures(), keys.lastSuccess());
    }
}
