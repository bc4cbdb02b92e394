package dev.portcullis.core.geo;

import com.maxmind.db.MaxMindDbConstructor;
import com.maxmind.db.MaxMindDbParameter;
import org.jspecify.annotations.Nullable;

/**
 * The few fields {@link MaxMindGeoLookup} reads from a MaxMind DB record, decoded by {@code com.maxmind.db.Reader}
 * into these small models so that a lookup skips everything else (names, subdivisions, traits, organisations).
 */
final class MmdbRecords {

    /*
     * The reader instantiates these through reflection from another package, without setAccessible: the
     * records and their constructors must be public (the enclosing class need not be). A key the record does
     * not hold is decoded as null; a value of another type fails the lookup, which answers unknown.
     */

    private MmdbRecords() {
    }

    /** A Country, City or Enterprise record: the country the network is in and the one it is registered to. */
    public record CountryRecord(@Nullable IsoCode country, @Nullable IsoCode registeredCountry) {

        /** The constructor the reader decodes with. */
        @MaxMindDbConstructor
        public CountryRecord(@MaxMindDbParameter(name = "country") @Nullable IsoCode country,
                @MaxMindDbParameter(name = "registered_country") @Nullable IsoCode registeredCountry) {
            this.country = country;
            this.registeredCountry = registeredCountry;
        }
    }

    /** A {@code country} or {@code registered_country} map, of which only the ISO code is read. */
    public record IsoCode(@Nullable String isoCode) {

        /** The constructor the reader decodes with. */
        @MaxMindDbConstructor
        public IsoCode(@MaxMindDbParameter(name = "iso_code") @Nullable String isoCode) {
            this.isoCode = isoCode;
        }
    }

    /** An ASN record, of which only the number is read (not the organisation). */
    public record AsnRecord(@Nullable Long autonomousSystemNumber) {

        /** The constructor the reader decodes with. */
        @MaxMindDbConstructor
        public AsnRecord(@MaxMindDbParameter(name = "autonomous_system_number") @Nullable Long autonomousSystemNumber) {
            this.autonomousSystemNumber = autonomousSystemNumber;
        }
    }
}
