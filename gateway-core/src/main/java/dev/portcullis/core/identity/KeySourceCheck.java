package dev.portcullis.core.identity;

import java.util.ArrayList;
import java.util.List;

/** Tries every provider's key source on its own, to report them all: building a resolver stops at the first failure. */
public final class KeySourceCheck {

    private KeySourceCheck() {}

    /**
     * The providers from index {@code from} on whose key file, PEM or secret cannot be loaded, in provider order.
     * Nothing is fetched: a {@code jwks_url} is not tried. Blocking file I/O.
     */
    public static List<KeySourceException> failures(List<JwtProviderSettings> providers, int from,
            JwtResolverOptions options) {
        JwtResolverOptions offline = options.offline();
        List<KeySourceException> failures = new ArrayList<>();
        for (int i = from; i < providers.size(); i++) {
            try {
                KeyProviders.load(i, providers.get(i), List.of(), offline, null);
            } catch (KeySourceException e) {
                failures.add(e);
            }
        }
        return failures;
    }
}
