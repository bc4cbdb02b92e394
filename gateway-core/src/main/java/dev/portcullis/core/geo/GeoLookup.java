package dev.portcullis.core.geo;

import dev.portcullis.core.net.IpAddress;

/**
 * Where an address is: its ISO 3166 alpha-2 country and its autonomous system number (SPEC 3.2
 * {@code countries}, {@code asns}). Implementations never block on I/O: databases are opened when a
 * configuration generation is built, and a lookup reads memory.
 */
public interface GeoLookup {
    /** The country of private, reserved, loopback and unknown addresses (SPEC 3.2). */
    String UNKNOWN_COUNTRY = "ZZ";

    /** The ASN of an address no database knows. */
    long UNKNOWN_ASN = 0;

    /** A lookup that knows nothing: every address is {@link #UNKNOWN_COUNTRY} in {@link #UNKNOWN_ASN}. */
    GeoLookup NONE = new GeoLookup() {
        @Override
        public String country(IpAddress address) {
            return UNKNOWN_COUNTRY;
        }

        @Override
        public long asn(IpAddress address) {
            return UNKNOWN_ASN;
        }
    };

    /** The upper-case ISO 3166 alpha-2 code of {@code address}, or {@link #UNKNOWN_COUNTRY}. */
    String country(IpAddress address);

    /** The autonomous system number of {@code address}, or {@link #UNKNOWN_ASN}. */
    long asn(IpAddress address);
}
