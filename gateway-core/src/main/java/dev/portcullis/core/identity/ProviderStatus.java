package dev.portcullis.core.identity;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A point-in-time view of one provider's key set, for metrics ({@code portcullis_jwks_keys}) and the admin API.
 *
 * @param index the provider's position in the resolver's list
 * @param issuer the provider's issuer, or null
 * @param keySource the key source's config key
 * @param keys usable verification keys now held; 0 before a {@code jwks_url} first answers
 * @param generation increases each time the key set changes; 0 while there is none
 * @param fetches completed JWKS fetches, successful or not (0 for sources that are not fetched)
 * @param fetchFailures failed JWKS fetches (transport error, non-200 status, unusable document)
 * @param lastSuccess when the key set was last loaded or fetched successfully, or null
 */
public record ProviderStatus(
        int index,
        @Nullable String issuer,
        String keySource,
        int keys,
        long generation,
        long fetches,
        long fetchFailures,
        @Nullable Instant lastSuccess) {}
