package dev.portcullis.core.identity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One configuration generation's compiled providers, each picked by the issuer a token names. */
final class JwtProviders {

    private final List<JwtProvider> all;
    private final Map<String, JwtProvider> byIssuer;
    private final @Nullable JwtProvider withoutIssuer;

    private JwtProviders(List<JwtProvider> all, Map<String, JwtProvider> byIssuer,
            @Nullable JwtProvider withoutIssuer) {
        this.all = List.copyOf(all);
        this.byIssuer = Map.copyOf(byIssuer);
        this.withoutIssuer = withoutIssuer;
    }

    /**
     * Throws unless the token's {@code iss} can pick one provider: at least one, one per issuer, at most one
     * without issuer.
     *
     * @throws IllegalArgumentException when no provider is given, two share an issuer, or two have none
     */
    static void checkIssuers(List<JwtProviderSettings> settings) {
        if (settings.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid provider list (expected: at least one provider)");
        }
        Map<String, Integer> seen = new HashMap<>();
        int withoutIssuer = -1;
        for (int i = 0; i < settings.size(); i++) {
            String issuer = settings.get(i).issuer();
            if (issuer == null) {
                if (withoutIssuer >= 0) {
                    throw new IllegalArgumentException("providers " + withoutIssuer + " and " + i + " both have no"
                            + " issuer (expected: at most one provider without issuer; the token's iss picks the"
                            + " provider)");
                }
                withoutIssuer = i;
            } else {
                Integer first = seen.putIfAbsent(issuer, i);
                if (first != null) {
                    throw new IllegalArgumentException("\"" + issuer + "\" is the issuer of providers " + first
                            + " and " + i + " (expected: one provider per issuer)");
                }
            }
        }
    }

    /**
     * Compiles {@code settings}, which passed {@link #checkIssuers}, loading each provider's keys.
     *
     * @param previous the providers of the generation being replaced; empty on first load
     * @param http the client for {@code jwks_url} providers; null when none is configured
     * @throws KeySourceException when a file, PEM or secret cannot be loaded
     */
    static JwtProviders load(List<JwtProviderSettings> settings, List<JwtProvider> previous,
            JwtResolverOptions options, @Nullable JwksHttp http) throws KeySourceException {
        List<JwtProvider> built = new ArrayList<>(settings.size());
        Map<String, JwtProvider> issuers = new HashMap<>();
        JwtProvider fallback = null;
        for (int i = 0; i < settings.size(); i++) {
            JwtProviderSettings provider = settings.get(i);
            JwtProvider compiled =
                    new JwtProvider(i, provider, KeyProviders.load(i, provider, previous, options, http));
            built.add(compiled);
            String issuer = provider.issuer();
            if (issuer == null) {
                fallback = compiled;
            } else {
                issuers.put(issuer, compiled);
            }
        }
        return new JwtProviders(built, issuers, fallback);
    }

    /** Every provider, in configuration order. */
    List<JwtProvider> all() {
        return all;
    }

    /** The provider whose issuer is {@code issuer}, else the one without issuer; null when there is neither. */
    @Nullable JwtProvider forIssuer(@Nullable String issuer) {
        if (issuer != null) {
            JwtProvider named = byIssuer.get(issuer);
            if (named != null) {
                return named;
            }
        }
        return withoutIssuer;
    }
}
