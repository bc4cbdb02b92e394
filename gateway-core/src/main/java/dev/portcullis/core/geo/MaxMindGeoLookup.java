package dev.portcullis.core.geo;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A {@link GeoLookup} over MaxMind DB files (GeoLite2/GeoIP2 Country, City and ASN), memory-mapped when a
 * configuration generation is built, with the answers for recently seen addresses cached.
 */
public final class MaxMindGeoLookup implements GeoLookup, AutoCloseable {

    /*
     * Implementation notes: addresses that are not globally routable (private, loopback, link-local,
     * documentation, multicast and the other IANA special-purpose blocks) are answered without asking the
     * database: they are ZZ and AS 0 by SPEC 3.2, whatever a database says about them. A lookup never throws:
     * a failure to read a record (a damaged file, a database closed under a late request) is an unknown
     * address. Closing only stops lookups; the mapped memory is released when the reader becomes unreachable,
     * so close a lookup only once no configuration generation uses it.
     *
     * Decoding: records are read with com.maxmind.db.Reader into the small models of MmdbRecords (the two
     * ISO codes, the AS number), so that a lookup skips names, subdivisions and organisations. The reader still
     * decodes every map key of a record as a string; MaxMind's files write repeated keys and maps as pointers,
     * whose decoded values each reader keeps in a CHMCache (4,096 values: the keys and the per-country maps).
     * Even so an uncached lookup costs about a microsecond of CPU and several hundred bytes (the address,
     * the decoder, the keys), so each lookup instance also keeps a bounded Caffeine cache of address to
     * answer, tens of nanoseconds and no allocation on a hit (GeoLookupBenchmark, hot and cold). The cache
     * belongs to one generation's databases, so a reload never serves an answer of the old ones.
     */

    /** What the type of an ASN database contains: the only type whose records hold just the AS (GeoLite2-ASN). */
    private static final String ASN_TYPE = "GeoLite2-ASN";

    /** Addresses whose answers are kept, per database. */
    static final int CACHED_ADDRESSES = 65_536;

    private static final CidrSet SPECIAL_PURPOSE = CidrSet.of(Stream.of(
            // IPv4 (RFC 6890 and the IANA IPv4 Special-Purpose Address Registry), multicast and class E
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
            "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            // IPv6 (RFC 6890 and the IANA IPv6 Special-Purpose Address Registry), multicast
            "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:2::/48", "2001:10::/28", "2001:20::/28",
            "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8")
            .map(Cidr::parse).toList());

    private final @Nullable Reader countries;
    private final @Nullable Reader asns;
    private final List<GeoDatabaseInfo> databases;
    private final Cache<IpAddress, String> countryCache = Caffeine.newBuilder().maximumSize(CACHED_ADDRESSES)
            .executor(Runnable::run).build();
    private final Cache<IpAddress, Long> asnCache = Caffeine.newBuilder().maximumSize(CACHED_ADDRESSES)
            .executor(Runnable::run).build();

    private MaxMindGeoLookup(@Nullable Reader countries, @Nullable Reader asns, List<GeoDatabaseInfo> databases) {
        this.countries = countries;
        this.asns = asns;
        this.databases = List.copyOf(databases);
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
        try {
            if (countryDatabase != null) {
                countries = openReader(countryDatabase);
                String type = countries.getMetadata().databaseType();
                if (!type.contains("City") && !type.contains("Country")) {
                    throw new GeoDatabaseException(countryDatabase,
                            "is a " + type + " database (expected: a Country or City database)");
                }
                infos.add(info(GeoDatabaseInfo.COUNTRY, countries, countryDatabase));
            }
            if (asnDatabase != null) {
                asns = openReader(asnDatabase);
                String type = asns.getMetadata().databaseType();
                if (!type.contains(ASN_TYPE)) {
                    throw new GeoDatabaseException(asnDatabase, "is a " + type + " database (expected: an ASN database)");
                }
                infos.add(info(GeoDatabaseInfo.ASN, asns, asnDatabase));
            }
        } catch (GeoDatabaseException e) {
            closeQuietly(countries);
            closeQuietly(asns);
            throw e;
        }
        return new MaxMindGeoLookup(countries, asns, infos);
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
        Reader reader = countries;
        if (reader == null || SPECIAL_PURPOSE.contains(address)) {
            return UNKNOWN_COUNTRY;
        }
        String cached = countryCache.getIfPresent(address);
        if (cached != null) {
            return cached;
        }
        String code = lookUpCountry(reader, address);
        countryCache.put(address, code);
        return code;
    }

    private static String lookUpCountry(Reader reader, IpAddress address) {
        try {
            CountryRecord record = reader.get(toInetAddress(address), CountryRecord.class);
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
        Reader reader = asns;
        if (reader == null || SPECIAL_PURPOSE.contains(address)) {
            return UNKNOWN_ASN;
        }
        Long cached = asnCache.getIfPresent(address);
        if (cached != null) {
            return cached;
        }
        long asn = lookUpAsn(reader, address);
        asnCache.put(address, asn);
        return asn;
    }

    private static long lookUpAsn(Reader reader, IpAddress address) {
        try {
            AsnRecord record = reader.get(toInetAddress(address), AsnRecord.class);
            Long number = record == null ? null : record.autonomousSystemNumber();
            return number == null || number < 0 || number > 0xffff_ffffL ? UNKNOWN_ASN : number;
        } catch (Exception e) {
            return UNKNOWN_ASN;
        }
    }

    /** Closes the databases: later lookups answer unknown. */
    @Override
    public void close() {
        countryCache.invalidateAll();
        asnCache.invalidateAll();
        closeQuietly(countries);
        closeQuietly(asns);
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

    private static InetAddress toInetAddress(IpAddress address) throws UnknownHostException {
        // IPv4 and IPv4-mapped IPv6 addresses are looked up as IPv4, in the database's IPv4 subtree.
        if (address.isIPv4()) {
            int v4 = (int) address.low();
            return InetAddress.getByAddress(new byte[] {(byte) (v4 >>> 24), (byte) (v4 >>> 16), (byte) (v4 >>> 8),
                    (byte) v4});
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (address.high() >>> (56 - 8 * i));
            bytes[8 + i] = (byte) (address.low() >>> (56 - 8 * i));
        }
        return InetAddress.getByAddress(bytes);
    }

    private static Reader openReader(Path path) throws GeoDatabaseException {
        if (!Files.exists(path)) {
            throw new GeoDatabaseException(path, "does not exist (expected: a MaxMind DB file, e.g. GeoLite2-Country.mmdb)");
        }
        if (Files.isDirectory(path)) {
            throw new GeoDatabaseException(path, "is a directory (expected: a MaxMind DB file)");
        }
        if (!Files.isReadable(path)) {
            throw new GeoDatabaseException(path, "is not readable");
        }
        try {
            return new Reader(path.toFile(), FileMode.MEMORY_MAPPED, new CHMCache());
        } catch (InvalidDatabaseException e) {
            throw new GeoDatabaseException(path, "is not a MaxMind DB file (" + e.getMessage() + ")");
        } catch (IOException | RuntimeException e) {
            throw new GeoDatabaseException(path, "cannot be read: " + e);
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
