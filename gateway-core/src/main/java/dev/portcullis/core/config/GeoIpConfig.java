package dev.portcullis.core.config;

import org.jspecify.annotations.Nullable;

/**
 * The {@code geoip} section as written (SPEC 3).
 *
 * @param database the MaxMind Country or City database; null when not configured
 * @param asnDatabase the MaxMind ASN database; null when not configured
 */
public record GeoIpConfig(@Nullable String database, @Nullable String asnDatabase) {
    /** No {@code geoip} section. */
    public static final GeoIpConfig NONE = new GeoIpConfig(null, null);
}
