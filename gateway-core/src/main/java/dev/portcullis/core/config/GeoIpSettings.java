package dev.portcullis.core.config;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The compiled {@code geoip} section: the database files, resolved against the config's folder and readable
 * when the config was loaded (not checked when loaded with {@link ConfigLoader.NamedFiles#UNCHECKED}). They are
 * opened when a configuration generation is built, off the event loops.
 *
 * @param database the Country or City database; null when not configured
 * @param asnDatabase the ASN database; null when not configured
 */
public record GeoIpSettings(@Nullable Path database, @Nullable Path asnDatabase) {
    /** No GeoIP. */
    public static final GeoIpSettings NONE = new GeoIpSettings(null, null);

    /** Whether any database is configured. */
    public boolean isConfigured() {
        return database != null || asnDatabase != null;
    }
}
