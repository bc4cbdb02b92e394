package dev.portcullis.core.geo;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * What a loaded GeoIP database is, for metrics ({@code portcullis_geoip_database_info}) and logs.
 *
 * @param database which lookup it serves: {@code country} or {@code asn}
 * @param type the database type from its metadata, e.g. {@code GeoLite2-Country}
 * @param path the file it was opened from
 * @param buildDate when the database was built (its metadata's {@code build_epoch})
 */
public record GeoDatabaseInfo(String database, String type, Path path, Instant buildDate) {

    /** The {@link #database} of a country (Country or City) database. */
    public static final String COUNTRY = "country";

    /** The {@link #database} of an ASN database. */
    public static final String ASN = "asn";

    public GeoDatabaseInfo {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(buildDate, "buildDate");
    }
}
