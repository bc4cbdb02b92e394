package dev.portcullis.core.geo;

import dev.portcullis.core.config.ConfigResourceException;
import java.nio.file.Path;

/** A GeoIP database that cannot be used: missing, unreadable, not a MaxMind DB, or of the wrong type. */
public final class GeoDatabaseException extends ConfigResourceException {

    private static final long serialVersionUID = 1L;

    private final String keyPath;
    private final Path path;

    /**
     * @param keyPath the config key that names the file: {@code geoip.database} or {@code geoip.asn_database}
     * @param path the database file
     * @param problem what is wrong with it, completing a sentence that starts with the quoted path, e.g.
     *     {@code "is a GeoLite2-ASN database (expected: a Country or City database)"}
     */
    public GeoDatabaseException(String keyPath, Path path, String problem) {
        super("\"" + path + "\" " + problem);
        this.keyPath = keyPath;
        this.path = path;
    }

    /** The database file the problem is about. */
    public Path path() {
        return path;
    }

    @Override
    public String keyPath() {
        return keyPath;
    }
}
