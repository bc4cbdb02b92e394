package dev.portcullis.core.geo;

import static org.assertj.core.api.Assertions.assertThat;

import com.maxmind.db.CHMCache;
import com.maxmind.db.Reader;
import dev.portcullis.core.geo.MmdbRecords.AsnRecord;
import dev.portcullis.core.geo.MmdbRecords.CountryRecord;
import dev.portcullis.core.net.IpAddress;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link MaxMindGeoLookup}, which walks the search tree itself ({@link MmdbIndex}), answers exactly as a lookup with
 * MaxMind's own {@link Reader} does, for many random IPv4, IPv4-mapped and IPv6 addresses, on Country, City and ASN
 * databases of random nested networks written by {@link MmdbWriter} with each record size, including records with a
 * missing, non-alpha-2 or mistyped country code or AS number.
 */
class MmdbIndexTest {

    private static final String[] CODES = {"GB", "DE", "FR", "US", "JP", "BR"};
    private static final int LOOKUPS = 20_000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(ints = {24, 28, 32})
    void countryAnswersAreTheReadersForCountryDatabases(int recordSize) throws Exception {
        assertSameCountries(write("GeoLite2-Country", recordSize, false, 1L + recordSize));
    }

    @ParameterizedTest
    @ValueSource(ints = {24, 28, 32})
    void countryAnswersAreTheReadersForCityDatabases(int recordSize) throws Exception {
        assertSameCountries(write("GeoIP2-City", recordSize, false, 100L + recordSize));
    }

    @ParameterizedTest
    @ValueSource(ints = {24, 28, 32})
    void asnAnswersAreTheReaders(int recordSize) throws Exception {
        Written db = write("GeoLite2-ASN", recordSize, true, 200L + recordSize);
        try (MaxMindGeoLookup lookup = MaxMindGeoLookup.open(null, db.path);
                Reader reader = new Reader(db.path.toFile(), new CHMCache())) {
            SplittableRandom random = new SplittableRandom(db.seed);
            int known = 0;
            for (int i = 0; i < LOOKUPS; i++) {
                IpAddress address = address(random, db.networks);
                long expected = readerAsn(reader, address);
                known += expected == GeoLookup.UNKNOWN_ASN ? 0 : 1;
                assertThat(lookup.asn(address)).as("%s in %s", address, db.path).isEqualTo(expected);
            }
            assertThat(known).as("addresses with a known AS").isGreaterThan(LOOKUPS / 4);
        }
    }

    private void assertSameCountries(Written db) throws Exception {
        try (MaxMindGeoLookup lookup = MaxMindGeoLookup.open(db.path, null);
                Reader reader = new Reader(db.path.toFile(), new CHMCache())) {
            SplittableRandom random = new SplittableRandom(db.seed);
            int known = 0;
            for (int i = 0; i < LOOKUPS; i++) {
                IpAddress address = address(random, db.networks);
                String expected = readerCountry(reader, address);
                known += expected.equals(GeoLookup.UNKNOWN_COUNTRY) ? 0 : 1;
                assertThat(lookup.country(address)).as("%s in %s", address, db.path).isEqualTo(expected);
            }
            assertThat(known).as("addresses with a known country").isGreaterThan(LOOKUPS / 4);
        }
    }

    /** What MaxMindGeoLookup answered when it asked the Reader for every lookup. */
    private static String readerCountry(Reader reader, IpAddress address) {
        if (MaxMindGeoLookup.SPECIAL_PURPOSE.contains(address)) {
            return GeoLookup.UNKNOWN_COUNTRY;
        }
        try {
            CountryRecord record = reader.get(inet(address), CountryRecord.class);
            if (record == null) {
                return GeoLookup.UNKNOWN_COUNTRY;
            }
            String code = record.country() == null ? null : record.country().isoCode();
            if (code == null && record.registeredCountry() != null) {
                code = record.registeredCountry().isoCode();
            }
            return code != null && code.matches("[A-Z]{2}") ? code : GeoLookup.UNKNOWN_COUNTRY;
        } catch (Exception e) {
            return GeoLookup.UNKNOWN_COUNTRY;
        }
    }

    private static long readerAsn(Reader reader, IpAddress address) {
        if (MaxMindGeoLookup.SPECIAL_PURPOSE.contains(address)) {
            return GeoLookup.UNKNOWN_ASN;
        }
        try {
            AsnRecord record = reader.get(inet(address), AsnRecord.class);
            Long number = record == null ? null : record.autonomousSystemNumber();
            return number == null || number < 0 || number > 0xffff_ffffL ? GeoLookup.UNKNOWN_ASN : number;
        } catch (Exception e) {
            return GeoLookup.UNKNOWN_ASN;
        }
    }

    private static InetAddress inet(IpAddress address) throws Exception {
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

    private record Written(Path path, List<Network> networks, long seed) {}

    /** A network as its first address's bytes (4 or 16) and prefix length. */
    private record Network(byte[] first, int prefix) {
        String cidr() throws Exception {
            return InetAddress.getByAddress(first).getHostAddress() + "/" + prefix;
        }
    }

    private Written write(String type, int recordSize, boolean asn, long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        MmdbWriter writer = MmdbWriter.create(type).recordSize(recordSize);
        List<Network> networks = new ArrayList<>();
        Map<String, Boolean> seen = new LinkedHashMap<>();
        while (networks.size() < 400) {
            boolean v6 = random.nextInt(4) == 0;
            byte[] first = new byte[v6 ? 16 : 4];
            random.nextBytes(first);
            if (v6) {
                first[0] = (byte) 0x2a;
                first[1] = (byte) (random.nextInt(4));
            } else if (random.nextBoolean()) {
                first[0] = (byte) 81;
            }
            int prefix = v6 ? 16 + random.nextInt(49) : 8 + random.nextInt(25);
            Network network = new Network(mask(first, prefix), prefix);
            if (seen.putIfAbsent(network.cidr(), true) != null) {
                continue;
            }
            networks.add(network);
            writer.insert(network.cidr(), asn ? asnRecord(random) : countryRecord(random, type));
        }
        Path path = dir.resolve(type + "-" + recordSize + ".mmdb");
        writer.write(path);
        return new Written(path, networks, seed);
    }

    private static Map<String, ?> countryRecord(SplittableRandom random, String type) {
        String code = CODES[random.nextInt(CODES.length)];
        Map<String, Object> record = new LinkedHashMap<>(MmdbWriter.countryRecord(code));
        switch (random.nextInt(12)) {
            case 0 -> record.remove("country");
            case 1 -> record.put("country", Map.of("geoname_id", 1L));
            case 2 -> record.put("country", Map.of("iso_code", "GBR"));
            case 3 -> record.put("country", Map.of("iso_code", "gb"));
            case 4 -> record.put("country", Map.of("iso_code", 44L));
            case 5 -> record.clear();
            case 6 -> record.put("country", "GB");
            default -> {
            }
        }
        if (type.contains("City")) {
            // a long name per record, so that the data section outgrows 64 KiB and records use their high bytes
            record.put("city", Map.of("names", Map.of("en", "City " + random.nextLong() + " of".repeat(100))));
        }
        return record;
    }

    private static Map<String, ?> asnRecord(SplittableRandom random) {
        long number = 1 + random.nextInt(70_000);
        return switch (random.nextInt(10)) {
            case 0 -> Map.of("autonomous_system_organization", "no number");
            case 1 -> Map.of("autonomous_system_number", "AS" + number);
            case 2 -> Map.of("autonomous_system_number", 4_200_000_000L + number);
            case 3 -> Map.of("autonomous_system_number", 0x1_0000_0000L + number);
            default -> MmdbWriter.asnRecord(number, "AS" + number);
        };
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] masked = address.clone();
        for (int bit = prefix; bit < masked.length * 8; bit++) {
            masked[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return masked;
    }

    /** An address in a written network half of the time, else anywhere, IPv4-mapped, or special-purpose. */
    private static IpAddress address(SplittableRandom random, List<Network> networks) throws Exception {
        int kind = random.nextInt(10);
        byte[] bytes;
        if (kind < 5) {
            Network network = networks.get(random.nextInt(networks.size()));
            bytes = network.first.clone();
            for (int bit = network.prefix; bit < bytes.length * 8; bit++) {
                if (random.nextBoolean()) {
                    bytes[bit / 8] |= (byte) (0x80 >>> (bit % 8));
                }
            }
        } else if (kind < 7) {
            bytes = new byte[4];
            random.nextBytes(bytes);
        } else if (kind < 9) {
            bytes = new byte[16];
            random.nextBytes(bytes);
            bytes[0] = (byte) (kind == 7 ? 0x2a : bytes[0]);
        } else {
            bytes = new byte[16];
            bytes[10] = (byte) 0xff;
            bytes[11] = (byte) 0xff;
            bytes[12] = (byte) 81;
            bytes[13] = (byte) random.nextInt(256);
        }
        if (kind == 6 && random.nextBoolean()) {
            bytes[0] = 10;
        }
        return IpAddress.fromBytes(bytes);
    }
}
