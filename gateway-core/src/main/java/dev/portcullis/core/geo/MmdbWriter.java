package dev.portcullis.core.geo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small writer of MaxMind DB files (the public MaxMind DB File Format Specification, version 2.0), for tests that
 * must never download a GeoIP database: it writes Country, City and ASN databases from CIDR to record maps.
 *
 * <p>Values in a record map are written as: {@code String} a UTF-8 string, {@code Long} a uint32 (uint64 when
 * larger), {@code Integer} a uint16 (uint32 when larger), {@code BigInteger} a uint128, {@code Boolean} a boolean,
 * {@code Double} a double, {@code Map<String, ?>} a map and {@code List<?>} an array.
 */
public final class MmdbWriter {

    /*
     * Implementation notes: the file is the search tree (MmdbSearchTree), 16 zero bytes, the data section
     * (MmdbDataEncoder) and the metadata section: a marker and the metadata map, encoded as the data section
     * encodes values but without pointers. Equal records are written once in the data section, and within
     * records a repeated key, string or map is a pointer to its first copy, as in MaxMind's own files.
     */

    private static final byte[] METADATA_MARKER = {(byte) 0xAB, (byte) 0xCD, (byte) 0xEF,
            'M', 'a', 'x', 'M', 'i', 'n', 'd', '.', 'c', 'o', 'm'};

    private final String databaseType;
    private final Map<String, Map<String, ?>> networks = new LinkedHashMap<>();
    private int recordSize = 24;
    private Instant buildEpoch = Instant.parse("2024-05-01T00:00:00Z");
    private List<String> languages = List.of("en");
    private Map<String, String> description = Map.of("en", "Portcullis test database");

    private MmdbWriter(String databaseType) {
        this.databaseType = databaseType;
    }

    /** A writer of a database of type {@code databaseType}, e.g. {@code GeoLite2-Country}. */
    public static MmdbWriter create(String databaseType) {
        return new MmdbWriter(databaseType);
    }

    /** A {@code GeoLite2-Country} database of CIDR to ISO country code. */
    public static MmdbWriter countries(Map<String, String> cidrToCountry) {
        MmdbWriter writer = create("GeoLite2-Country");
        cidrToCountry.forEach((cidr, code) -> writer.insert(cidr, countryRecord(code)));
        return writer;
    }

    /** A {@code GeoLite2-City} database of CIDR to ISO country code, with a city in each. */
    public static MmdbWriter cities(Map<String, String> cidrToCountry) {
        MmdbWriter writer = create("GeoLite2-City");
        cidrToCountry.forEach((cidr, code) -> {
            Map<String, Object> record = new LinkedHashMap<>(countryRecord(code));
            record.put("city", Map.of("geoname_id", 2_950_159L, "names", Map.of("en", "City of " + code)));
            record.put("location", Map.of("latitude", 52.5, "longitude", 13.4, "time_zone", "Europe/Berlin"));
            writer.insert(cidr, record);
        });
        return writer;
    }

    /** A {@code GeoLite2-ASN} database of CIDR to AS number; the organization is "AS" and the number. */
    public static MmdbWriter asns(Map<String, Long> cidrToAsn) {
        MmdbWriter writer = create("GeoLite2-ASN");
        cidrToAsn.forEach((cidr, asn) -> writer.insert(cidr, asnRecord(asn, "AS" + asn)));
        return writer;
    }

    /** A Country database record: continent, country and registered country, as GeoLite2 writes them. */
    public static Map<String, Object> countryRecord(String isoCode) {
        Map<String, Object> country = new LinkedHashMap<>();
        country.put("geoname_id", (long) (1000 + isoCode.hashCode() % 1000));
        country.put("is_in_european_union", "DE".equals(isoCode) || "AT".equals(isoCode));
        country.put("iso_code", isoCode);
        country.put("names", Map.of("en", "Country " + isoCode, "de", "Land " + isoCode));
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("continent", Map.of("code", "EU", "geoname_id", 6_255_148L, "names", Map.of("en", "Europe")));
        record.put("country", country);
        record.put("registered_country", country);
        return record;
    }

    /** An ASN database record. */
    public static Map<String, Object> asnRecord(long asn, String organization) {
        return Map.of("autonomous_system_number", asn, "autonomous_system_organization", organization);
    }

    /** Adds a network ({@code 81.2.69.0/24}, {@code 2a02:8000::/32}, or a bare address) and its record. */
    public MmdbWriter insert(String cidr, Map<String, ?> record) {
        networks.put(cidr, Map.copyOf(record));
        return this;
    }

    /** The search tree's record size in bits: 24 (the default), 28 or 32. */
    public MmdbWriter recordSize(int bits) {
        if (bits != 24 && bits != 28 && bits != 32) {
            throw new IllegalArgumentException(bits + " is not a record size (expected: 24, 28 or 32)");
        }
        this.recordSize = bits;
        return this;
    }

    /** The build time written to the metadata, in whole seconds. */
    public MmdbWriter buildEpoch(Instant instant) {
        this.buildEpoch = instant;
        return this;
    }

    public MmdbWriter languages(List<String> newLanguages) {
        this.languages = List.copyOf(newLanguages);
        return this;
    }

    public MmdbWriter description(Map<String, String> newDescription) {
        this.description = Map.copyOf(newDescription);
        return this;
    }

    /** Writes the database to {@code file} and returns it. */
    public Path write(Path file) {
        try {
            Files.write(file, toBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** The database file's bytes. */
    public byte[] toBytes() {
        MmdbDataEncoder data = new MmdbDataEncoder();
        MmdbSearchTree tree = MmdbSearchTree.build(networks, data::add);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tree.write(out, recordSize, data.size());
        out.writeBytes(new byte[16]);
        out.writeBytes(data.bytes());
        out.writeBytes(METADATA_MARKER);
        MmdbDataEncoder.encode(out, metadata(tree.nodeCount()), true);
        return out.toByteArray();
    }

    private Map<String, Object> metadata(int nodeCount) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("binary_format_major_version", 2);
        metadata.put("binary_format_minor_version", 0);
        metadata.put("build_epoch", BigInteger.valueOf(buildEpoch.getEpochSecond()));
        metadata.put("database_type", databaseType);
        metadata.put("description", description);
        metadata.put("ip_version", 6);
        metadata.put("languages", languages);
        metadata.put("node_count", (long) nodeCount);
        metadata.put("record_size", recordSize);
        return metadata;
    }
}
