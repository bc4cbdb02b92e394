package dev.portcullis.core.geo;

import com.maxmind.db.InvalidDatabaseException;
import com.maxmind.db.CHMCache;
import com.maxmind.db.Reader;
import com.maxmind.db.Reader.FileMode;
import dev.portcullis.core.geo.MmdbRecords.AsnRecord;
import dev.portcullis.core.geo.MmdbRecords.CountryRecord;
import dev.portcullis.core.geo.MmdbRecords.IsoCode;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A {@link GeoLookup} over MaxMind DB files (GeoLite2/GeoIP2 Country, City and ASN), memory-mapped when a
 * configuration generation is built, whose lookups walk the files' search trees in place.
 */
public final class MaxMindGeoLookup implements GeoLookup, AutoCloseable {

    /*
     * Implementation notes: addresses that are not globally routable (private, loopback, link-local,
     * documentation, multicast and the other IANA special-purpose blocks) are answered without asking the
     * database: they are ZZ and AS 0 by SPEC 3.2, whatever a database says about them. A lookup never throws:
     * a record that cannot be read (a damaged file) is an unknown address, and so is every address once the
     * lookup is closed. The mapped memory is released when the lookup becomes unreachable.
     *
     * Decoding: when a database is opened, MmdbIndex walks its whole search tree and asks MaxMind's
     * com.maxmind.db.Reader once for each distinct data record (through an address that leads to it) for the
     * few fields of MmdbRecords (the two ISO codes, the AS number); the answers are reduced here to a country
     * code (the country's, else the registered country's, if alpha-2, else ZZ) or an AS number, and kept by
     * record. A lookup is then a walk of the mapped tree and one table probe: a few tens of nanoseconds and no
     * allocation (PolicyEngineIIBenchmark geoCountryUncached), as fast as a hit of the Caffeine cache of
     * addresses that the lookups kept before, so there is no such cache any more. The Reader is closed once
     * the table is built; it only validates the file and reads its metadata.
     */

    /** The config keys that name the databases, for problems with a file (SPEC 3.9 key paths). */
    /** The config key of the country database, as {@link GeoDatabaseException#keyPath} names it. */
    public static final String COUNTRY_KEY = "geoip.database";
    private static final String ASN_KEY = "geoip.asn_database";

    /** What the type of an ASN database contains: the only type whose records hold just the AS (GeoLite2-ASN). */
    private static final String ASN_TYPE = "GeoLite2-ASN";

    static final CidrSet SPECIAL_PURPOSE = CidrSet.of(Stream.of(
            // IPv4 (RFC 6890 and the IANA IPv4 Special-Purpose Address Registry), multicast and class E
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
            "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            // IPv6 (RFC 6890 and the IANA IPv6 Special-Purpose Address Registry), multicast
            "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:2::/48", "2001:10::/28", "2001:20::/28",
            "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8")
            .map(Cidr::parse).toList());

    private final @Nullable MmdbIndex countries;
    private final String[] countryCodes;
    private final @Nullable MmdbIndex asns;
    private final List<GeoDatabaseInfo> databases;
    private volatile boolean closed;

    private MaxMindGeoLookup(@Nullable MmdbIndex countries, String[] countryCodes, @Nullable MmdbIndex asns,
            List<GeoDatabaseInfo> databases) {
        this.countries = countries;
        this.countryCodes = countryCodes;
        this.asns = asns;
        this.databases = List.copyOf(databases);
    }

    /** Why the databases cannot be opened, or null when they can (each is opened, indexed and closed). */
    public static @Nullable GeoDatabaseException failure(@Nullable Path countryDatabase, @Nullable Path asnDatabase) {
        try {
            open(countryDatabase, asnDatabase).close();
            return null;
        } catch (GeoDatabaseException e) {
            return e;
        }
    }

    /**
     * Opens the databases, memory-mapped. Call it off the event loops: it reads the files' metadata.
     *
     * @param countryDatabase a Country or City database, or null when no rule uses {@code countries}
     * @param asnDatabase an ASN database, or null when no rule uses {@code asns}
     * @throws GeoDatabaseException naming the path when a file is missing, unreadable, not a MaxMind DB or of the
     *     wrong type
     */
    public static MaxMindGeoLookup open(@Nullable Path countryDatabase, @Nullable Path asnDatabase)
            throws GeoDatabaseException {
        List<GeoDatabaseInfo> infos = new ArrayList<>(2);
        Reader countries = null;
        Reader asns = null;
        MmdbIndex countryIndex = null;
        MmdbIndex asnIndex = null;
        List<String> codes = new ArrayList<>(List.of(UNKNOWN_COUNTRY));
        try {
            if (countryDatabase != null) {
                countries = openReader(COUNTRY_KEY, countryDatabase);
                String type = countries.getMetadata().databaseType();
                if (!type.contains("City") && !type.contains("Country")) {
                    throw new GeoDatabaseException(COUNTRY_KEY, countryDatabase,
                            "is a " + type + " database (expected: a Country or City database)");
                }
                infos.add(info(GeoDatabaseInfo.COUNTRY, countries, countryDatabase));
                Reader reader = countries;
                countryIndex = index(COUNTRY_KEY, countryDatabase, reader, address -> {
                    String code = lookUpCountry(reader, address);
                    int known = codes.indexOf(code);
                    if (known < 0) {
                        codes.add(code);
                        return codes.size() - 1;
                    }
                    return known;
                });
            }
            if (asnDatabase != null) {
                asns = openReader(ASN_KEY, asnDatabase);
                String type = asns.getMetadata().databaseType();
                if (!type.contains(ASN_TYPE)) {
                    throw new GeoDatabaseException(ASN_KEY, asnDatabase,
                            "is a " + type + " database (expected: an ASN database)");
                }
                infos.add(info(GeoDatabaseInfo.ASN, asns, asnDatabase));
                Reader reader = asns;
                asnIndex = index(ASN_KEY, asnDatabase, reader, address -> (int) lookUpAsn(reader, address));
            }
        } finally {
            closeQuietly(countries);
            closeQuietly(asns);
        }
        return new MaxMindGeoLookup(countryIndex, codes.toArray(String[]::new), asnIndex, infos);
    }

    private static MmdbIndex index(String key, Path path, Reader reader, MmdbIndex.Decoder decoder)
            throws GeoDatabaseException {
        try {
            return MmdbIndex.build(path, reader.getMetadata().nodeCount(), reader.getMetadata().recordSize(),
                    reader.getMetadata().ipVersion(), decoder);
        } catch (IOException | RuntimeException e) {
            throw new GeoDatabaseException(key, path, "is not a valid MaxMind DB file (" + e.getMessage() + ")");
        }
    }

    /** The databases opened, country first: empty for a lookup that knows nothing. */
    public List<GeoDatabaseInfo> databases() {
        return databases;
    }

    /**
     * The upper-case ISO 3166 alpha-2 code of the country {@code address} is in; when the database names none, the
     * country it is registered to; {@link #UNKNOWN_COUNTRY} for special-purpose, unknown and unlisted addresses, and
     * when no country database is open.
     */
    @Override
    public String country(IpAddress address) {
        MmdbIndex index = countries;
        if (index == null || closed || SPECIAL_PURPOSE.contains(address)) {
            return UNKNOWN_COUNTRY;
        }
        return countryCodes[index.answer(address, 0)];
    }

    private static String lookUpCountry(Reader reader, InetAddress address) {
        try {
            CountryRecord record = reader.get(address, CountryRecord.class);
            String code = record == null ? null : isoCode(record.country(), record.registeredCountry());
            return code == null ? UNKNOWN_COUNTRY : code;
        } catch (Exception e) {
            // SPEC 3.2: an address the database cannot answer for is unknown; never fail the request.
            return UNKNOWN_COUNTRY;
        }
    }

    /**
     * The autonomous system number of {@code address}; {@link #UNKNOWN_ASN} for special-purpose, unknown and
     * unlisted addresses, and when no ASN database is open.
     */
    @Override
    public long asn(IpAddress address) {
        MmdbIndex index = asns;
        if (index == null || closed || SPECIAL_PURPOSE.contains(address)) {
            return UNKNOWN_ASN;
        }
        return Integer.toUnsignedLong(index.answer(address, (int) UNKNOWN_ASN));
    }

    private static long lookUpAsn(Reader reader, InetAddress address) {
        try {
            AsnRecord record = reader.get(address, AsnRecord.class);
            Long number = record == null ? null : record.autonomousSystemNumber();
            return number == null || number < 0 || number > 0xffff_ffffL ? UNKNOWN_ASN : number;
        } catch (Exception e) {
            return UNKNOWN_ASN;
        }
    }

    /** Closes the databases: later lookups answer unknown. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "MaxMindGeoLookup" + databases;
    }

    private static @Nullable String isoCode(@Nullable IsoCode country, @Nullable IsoCode registered) {
        String code = country == null ? null : country.isoCode();
        if (code == null && registered != null) {
            code = registered.isoCode();
        }
        return code != null && isAlpha2(code) ? code : null;
    }

    private static boolean isAlpha2(String code) {
        return code.length() == 2 && code.charAt(0) >= 'A' && code.charAt(0) <= 'Z'
                && code.charAt(1) >= 'A' && code.charAt(1) <= 'Z';
    }

    private static Reader openReader(String key, Path path) throws GeoDatabaseException {
        if (!Files.exists(path)) {
            throw new GeoDatabaseException(key, path,
                    "does not exist (expected: a MaxMind DB file, e.g. GeoLite2-Country.mmdb)");
        }
        if (Files.isDirectory(path)) {
            throw new GeoDatabaseException(key, path, "is a directory (expected: a MaxMind DB file)");
        }
        if (!Files.isReadable(path)) {
            throw new GeoDatabaseException(key, path, "is not readable");
        }
        try {
            return new Reader(path.toFile(), FileMode.MEMORY_MAPPED, new CHMCache());
        } catch (InvalidDatabaseException e) {
            throw new GeoDatabaseException(key, path, "is not a MaxMind DB file (" + e.getMessage() + ")");
        } catch (IOException | RuntimeException e) {
            throw new GeoDatabaseException(key, path, "cannot be read (" + e.getMessage() + ")");
        }
    }

    private static GeoDatabaseInfo info(String database, Reader reader, Path path) {
        return new GeoDatabaseInfo(database, reader.getMetadata().databaseType(), path,
                reader.getMetadata().buildTime());
    }

    private static void closeQuietly(@Nullable Reader reader) {
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException e) {
                // Closing a memory-mapped reader releases no OS resource; nothing to report.
            }
        }
    }
}
