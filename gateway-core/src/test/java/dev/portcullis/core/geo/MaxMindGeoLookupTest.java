package dev.portcullis.core.geo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.net.IpAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link MaxMindGeoLookup} over databases written by {@link MmdbWriter}. */
class MaxMindGeoLookupTest {

    private static final Instant BUILT = Instant.parse("2025-06-01T12:00:00Z");

    @TempDir
    Path dir;

    private Path countryDb() {
        Map<String, String> networks = new LinkedHashMap<>();
        networks.put("81.2.69.0/24", "GB");
        networks.put("81.2.0.0/16", "DE");
        networks.put("2a02:8000::/32", "FR");
        // private and special-purpose networks listed by a (bad) database are still ZZ
        networks.put("10.0.0.0/8", "DE");
        networks.put("192.168.0.0/16", "DE");
        networks.put("127.0.0.0/8", "DE");
        networks.put("fc00::/7", "DE");
        return MmdbWriter.countries(networks).buildEpoch(BUILT).write(dir.resolve("country.mmdb"));
    }

    private Path asnDb() {
        Map<String, Long> networks = new LinkedHashMap<>();
        networks.put("81.2.0.0/16", 20_712L);
        networks.put("2a02:8000::/32", 4_200_000_000L);
        networks.put("10.0.0.0/8", 64_512L);
        return MmdbWriter.asns(networks).buildEpoch(BUILT).write(dir.resolve("asn.mmdb"));
    }

    private static String country(GeoLookup geo, String ip) {
        return geo.country(IpAddress.parse(ip));
    }

    @Test
    void looksUpCountriesOfIpv4Ipv6AndIpv4MappedAddresses() throws Exception {
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(countryDb(), null)) {
            assertThat(country(geo, "81.2.69.142")).isEqualTo("GB");
            assertThat(country(geo, "81.2.1.1")).isEqualTo("DE");
            assertThat(country(geo, "::ffff:81.2.69.142")).isEqualTo("GB");
            assertThat(country(geo, "2a02:8000::77")).isEqualTo("FR");
            assertThat(geo.asn(IpAddress.parse("81.2.69.142"))).isEqualTo(GeoLookup.UNKNOWN_ASN);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.1", "127.0.0.1", "::1", "192.168.1.20", "192.168.255.255", "172.16.0.1",
            "169.254.1.1", "100.64.0.1", "198.51.100.7", "203.0.113.9", "192.0.2.1", "224.0.0.1", "0.0.0.0",
            "255.255.255.255", "::", "fe80::1", "fd00::1", "2001:db8::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
            "8.8.8.8", "2a03::1"})
    void specialPurposeAndUnknownAddressesAreZz(String ip) throws Exception {
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(countryDb(), asnDb())) {
            assertThat(country(geo, ip)).isEqualTo("ZZ");
            assertThat(geo.asn(IpAddress.parse(ip))).isZero();
        }
    }

    @Test
    void cityDatabasesAnswerCountries() throws Exception {
        Path city = MmdbWriter.cities(Map.of("81.2.69.0/24", "GB")).write(dir.resolve("city.mmdb"));
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(city, null)) {
            assertThat(country(geo, "81.2.69.1")).isEqualTo("GB");
            assertThat(country(geo, "81.2.70.1")).isEqualTo("ZZ");
            assertThat(geo.databases()).extracting(GeoDatabaseInfo::type).containsExactly("GeoLite2-City");
        }
    }

    @Test
    void fallsBackToTheRegisteredCountryAndRefusesCodesThatAreNotAlpha2() throws Exception {
        MmdbWriter writer = MmdbWriter.create("GeoLite2-Country");
        writer.insert("81.2.0.0/16", Map.of("registered_country", Map.of("iso_code", "SE")));
        writer.insert("81.3.0.0/16", Map.of("country", Map.of("iso_code", "de")));
        writer.insert("81.4.0.0/16", Map.of("continent", Map.of("code", "EU")));
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(writer.write(dir.resolve("odd.mmdb")), null)) {
            assertThat(country(geo, "81.2.0.1")).isEqualTo("SE");
            assertThat(country(geo, "81.3.0.1")).isEqualTo("ZZ");
            assertThat(country(geo, "81.4.0.1")).isEqualTo("ZZ");
        }
    }

    @Test
    void looksUpAsns() throws Exception {
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(null, asnDb())) {
            assertThat(geo.asn(IpAddress.parse("81.2.69.142"))).isEqualTo(20_712L);
            assertThat(geo.asn(IpAddress.parse("::ffff:81.2.0.1"))).isEqualTo(20_712L);
            assertThat(geo.asn(IpAddress.parse("2a02:8000:1::1"))).isEqualTo(4_200_000_000L);
            assertThat(geo.asn(IpAddress.parse("81.3.0.1"))).isZero();
            assertThat(country(geo, "81.2.69.142")).isEqualTo("ZZ");
        }
    }

    @Test
    void reportsTheDatabasesForMetrics() throws Exception {
        Path country = countryDb();
        Path asn = asnDb();
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(country, asn)) {
            assertThat(geo.databases()).containsExactly(
                    new GeoDatabaseInfo("country", "GeoLite2-Country", country, BUILT),
                    new GeoDatabaseInfo("asn", "GeoLite2-ASN", asn, BUILT));
        }
        try (MaxMindGeoLookup none = MaxMindGeoLookup.open(null, null)) {
            assertThat(none.databases()).isEmpty();
            assertThat(country(none, "81.2.69.142")).isEqualTo("ZZ");
        }
    }

    @Test
    void answersUnknownAfterClose() throws Exception {
        MaxMindGeoLookup geo = MaxMindGeoLookup.open(countryDb(), asnDb());
        assertThat(country(geo, "81.2.69.142")).isEqualTo("GB");
        geo.close();
        assertThat(country(geo, "81.2.69.142")).isEqualTo("ZZ");
        assertThat(geo.asn(IpAddress.parse("81.2.69.142"))).isZero();
    }

    @Test
    void refusesADatabaseOfTheWrongType() {
        Path asn = asnDb();
        Path country = countryDb();
        assertThatThrownBy(() -> MaxMindGeoLookup.open(asn, null))
                .isInstanceOf(GeoDatabaseException.class)
                .hasMessage("\"" + asn + "\" is a GeoLite2-ASN database (expected: a Country or City database)")
                .extracting(e -> ((GeoDatabaseException) e).keyPath()).isEqualTo("geoip.database");
        assertThatThrownBy(() -> MaxMindGeoLookup.open(null, country))
                .isInstanceOf(GeoDatabaseException.class)
                .hasMessage("\"" + country + "\" is a GeoLite2-Country database (expected: an ASN database)")
                .extracting(e -> ((GeoDatabaseException) e).keyPath()).isEqualTo("geoip.asn_database");
        Path anonymous = MmdbWriter.create("GeoIP2-Anonymous-IP").insert("81.2.0.0/16", Map.of("is_anonymous", true))
                .write(dir.resolve("anon.mmdb"));
        assertThatThrownBy(() -> MaxMindGeoLookup.open(anonymous, null))
                .hasMessage("\"" + anonymous
                        + "\" is a GeoIP2-Anonymous-IP database (expected: a Country or City database)");
    }

    @Test
    void refusesMissingUnreadableAndForeignFiles() throws Exception {
        Path missing = dir.resolve("nope.mmdb");
        assertThatThrownBy(() -> MaxMindGeoLookup.open(missing, null))
                .isInstanceOf(GeoDatabaseException.class)
                .hasMessage("\"" + missing
                        + "\" does not exist (expected: a MaxMind DB file, e.g. GeoLite2-Country.mmdb)")
                .extracting(e -> ((GeoDatabaseException) e).path()).isEqualTo(missing);
        assertThatThrownBy(() -> MaxMindGeoLookup.open(null, dir))
                .hasMessage("\"" + dir + "\" is a directory (expected: a MaxMind DB file)")
                .extracting(e -> ((GeoDatabaseException) e).describe(Path.of("policy.yaml")))
                .isEqualTo("policy.yaml: geoip.asn_database: \"" + dir
                        + "\" is a directory (expected: a MaxMind DB file)");
        Path text = Files.writeString(dir.resolve("policy.yaml"), "rules: []\n");
        assertThatThrownBy(() -> MaxMindGeoLookup.open(text, null))
                .isInstanceOf(GeoDatabaseException.class)
                .hasMessageStartingWith("\"" + text + "\" is not a MaxMind DB file (");
        Path empty = Files.write(dir.resolve("empty.mmdb"), new byte[0]);
        assertThatThrownBy(() -> MaxMindGeoLookup.open(empty, null))
                .isInstanceOf(GeoDatabaseException.class)
                .hasMessageStartingWith("\"" + empty + "\" ");
    }
}
