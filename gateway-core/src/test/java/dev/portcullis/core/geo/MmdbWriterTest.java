package dev.portcullis.core.geo;

import static org.assertj.core.api.Assertions.assertThat;

import com.maxmind.db.DatabaseRecord;
import com.maxmind.db.Reader;
import com.maxmind.geoip2.DatabaseReader;
import com.maxmind.geoip2.model.AsnResponse;
import com.maxmind.geoip2.model.CityResponse;
import com.maxmind.geoip2.model.CountryResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Proves that {@link MmdbWriter} writes databases that MaxMind's own readers read back as written. */
class MmdbWriterTest {

    private static final Map<String, String> COUNTRIES = countries();

    private static Map<String, String> countries() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("81.2.69.0/24", "GB");
        map.put("81.2.0.0/16", "DE");
        map.put("81.2.69.160/27", "AT");
        map.put("2a02:8000::/32", "FR");
        map.put("2a02:8000:1::/48", "IT");
        map.put("2001:470::/32", "US");
        map.put("1.1.1.1", "AU");
        return map;
    }

    private static DatabaseReader reader(MmdbWriter writer) throws IOException {
        return new DatabaseReader.Builder(new ByteArrayInputStream(writer.toBytes())).build();
    }

    private static Optional<String> country(DatabaseReader reader, String address) throws Exception {
        return reader.tryCountry(InetAddress.getByName(address)).map(r -> r.country().isoCode());
    }

    @ParameterizedTest
    @ValueSource(ints = {24, 28, 32})
    void countryDatabaseRoundTripsThroughMaxMindsReader(int recordSize) throws Exception {
        try (DatabaseReader reader = reader(MmdbWriter.countries(COUNTRIES).recordSize(recordSize))) {
            // IPv4, with nested networks: the innermost wins, the outer one keeps the rest
            assertThat(country(reader, "81.2.69.142")).hasValue("GB");
            assertThat(country(reader, "81.2.69.0")).hasValue("GB");
            assertThat(country(reader, "81.2.69.255")).hasValue("GB");
            assertThat(country(reader, "81.2.69.160")).hasValue("AT");
            assertThat(country(reader, "81.2.69.191")).hasValue("AT");
            assertThat(country(reader, "81.2.69.159")).hasValue("GB");
            assertThat(country(reader, "81.2.68.255")).hasValue("DE");
            assertThat(country(reader, "81.2.0.1")).hasValue("DE");
            assertThat(country(reader, "81.2.255.255")).hasValue("DE");
            assertThat(country(reader, "1.1.1.1")).hasValue("AU");
            // IPv6, nested
            assertThat(country(reader, "2a02:8000::1")).hasValue("FR");
            assertThat(country(reader, "2a02:8000:1:ffff::1")).hasValue("IT");
            assertThat(country(reader, "2a02:8000:2::1")).hasValue("FR");
            assertThat(country(reader, "2001:470:1::1")).hasValue("US");
            // not found
            assertThat(country(reader, "81.3.0.0")).isEmpty();
            assertThat(country(reader, "81.1.255.255")).isEmpty();
            assertThat(country(reader, "1.1.1.2")).isEmpty();
            assertThat(country(reader, "8.8.8.8")).isEmpty();
            assertThat(country(reader, "2a02:8001::1")).isEmpty();
            assertThat(country(reader, "::1")).isEmpty();

            CountryResponse response = reader.country(InetAddress.getByName("81.2.69.142"));
            assertThat(response.country().names()).containsEntry("en", "Country GB");
            assertThat(response.registeredCountry().isoCode()).isEqualTo("GB");
            assertThat(response.continent().code()).isEqualTo("EU");
            // The AT /27 carves the GB /24 into the networks around it, as MaxMind's records report them.
            assertThat(response.traits().network().toString()).isEqualTo("81.2.69.128/27");
            assertThat(reader.country(InetAddress.getByName("81.2.69.10")).traits().network().toString())
                    .isEqualTo("81.2.69.0/25");
            assertThat(reader.country(InetAddress.getByName("81.2.69.170")).country().isInEuropeanUnion()).isTrue();
        }
    }

    @Test
    void ipv4MappedIpv6AddressesFindTheIpv4Records() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 81;
        mapped[13] = 2;
        mapped[14] = 69;
        mapped[15] = 10;
        InetAddress v6 = Inet6Address.getByAddress(null, mapped, -1);
        assertThat(v6).isInstanceOf(Inet6Address.class);
        try (Reader reader = new Reader(new ByteArrayInputStream(MmdbWriter.countries(COUNTRIES).toBytes()))) {
            DatabaseRecord<Map> record = reader.getRecord(v6, Map.class);
            assertThat(record.data()).isNotNull();
            assertThat(((Map<?, ?>) record.data().get("country")).get("iso_code")).isEqualTo("GB");
            assertThat(record.network().prefixLength()).isEqualTo(96 + 25);
            // The plain IPv4 lookup reads the same record, the way MaxMind's databases alias ::ffff:0:0/96.
            assertThat(reader.getRecord(InetAddress.getByName("81.2.69.10"), Map.class).data())
                    .isEqualTo(record.data());
            assertThat(reader.getRecord(InetAddress.getByName("::ffff:8.8.8.8"), Map.class).data()).isNull();
        }
    }

    @Test
    void metadataRoundTrips() throws Exception {
        Instant built = Instant.parse("2025-03-04T05:06:07Z");
        MmdbWriter writer = MmdbWriter.countries(COUNTRIES).buildEpoch(built).languages(List.of("en", "de"))
                .description(Map.of("en", "test countries"));
        try (Reader reader = new Reader(new ByteArrayInputStream(writer.toBytes()))) {
            assertThat(reader.getMetadata().databaseType()).isEqualTo("GeoLite2-Country");
            assertThat(reader.getMetadata().buildTime()).isEqualTo(built);
            assertThat(reader.getMetadata().languages()).containsExactly("en", "de");
            assertThat(reader.getMetadata().description()).containsExactly(Map.entry("en", "test countries"));
            assertThat(reader.getMetadata().ipVersion()).isEqualTo(6);
            assertThat(reader.getMetadata().recordSize()).isEqualTo(24);
            assertThat(reader.getMetadata().binaryFormatMajorVersion()).isEqualTo(2);
        }
    }

    @Test
    void cityDatabaseRoundTrips() throws Exception {
        try (DatabaseReader reader = reader(MmdbWriter.cities(Map.of("81.2.69.0/24", "GB", "2a02:8000::/32", "FR")))) {
            CityResponse city = reader.city(InetAddress.getByName("81.2.69.1"));
            assertThat(city.country().isoCode()).isEqualTo("GB");
            assertThat(city.city().names()).containsEntry("en", "City of GB");
            assertThat(city.location().latitude()).isEqualTo(52.5);
            assertThat(reader.tryCity(InetAddress.getByName("2a02:8000::5")).map(r -> r.country().isoCode()))
                    .hasValue("FR");
            assertThat(reader.tryCity(InetAddress.getByName("9.9.9.9"))).isEmpty();
        }
    }

    @Test
    void asnDatabaseRoundTrips() throws Exception {
        Map<String, Long> asns = new LinkedHashMap<>();
        asns.put("81.2.0.0/16", 20_712L);
        asns.put("81.2.69.0/24", 64_500L);
        asns.put("2a02:8000::/32", 4_200_000_000L);
        try (DatabaseReader reader = reader(MmdbWriter.asns(asns))) {
            AsnResponse inner = reader.asn(InetAddress.getByName("81.2.69.7"));
            assertThat(inner.autonomousSystemNumber()).isEqualTo(64_500L);
            assertThat(inner.autonomousSystemOrganization()).isEqualTo("AS64500");
            assertThat(reader.asn(InetAddress.getByName("81.2.70.7")).autonomousSystemNumber()).isEqualTo(20_712L);
            assertThat(reader.asn(InetAddress.getByName("2a02:8000:ab::1")).autonomousSystemNumber())
                    .isEqualTo(4_200_000_000L);
            assertThat(reader.tryAsn(InetAddress.getByName("81.3.0.1"))).isEmpty();
            assertThat(reader.metadata().databaseType()).isEqualTo("GeoLite2-ASN");
        }
    }

    @Test
    void longStringsAndManyRecordsUseTheLongerSizeEncodings() throws Exception {
        MmdbWriter writer = MmdbWriter.create("GeoLite2-ASN");
        String longName = "x".repeat(300);
        String veryLongName = "y".repeat(70_000);
        writer.insert("10.0.0.0/8", MmdbWriter.asnRecord(1, "a".repeat(40)));
        writer.insert("11.0.0.0/8", MmdbWriter.asnRecord(2, longName));
        writer.insert("12.0.0.0/8", MmdbWriter.asnRecord(3, veryLongName));
        for (int i = 0; i < 300; i++) {
            writer.insert("100." + (i / 256) + "." + (i % 256) + ".0/24", MmdbWriter.asnRecord(1000 + i, "org" + i));
        }
        try (DatabaseReader reader = reader(writer)) {
            assertThat(reader.asn(InetAddress.getByName("10.1.1.1")).autonomousSystemOrganization()).hasSize(40);
            assertThat(reader.asn(InetAddress.getByName("11.1.1.1")).autonomousSystemOrganization()).isEqualTo(longName);
            assertThat(reader.asn(InetAddress.getByName("12.1.1.1")).autonomousSystemOrganization())
                    .isEqualTo(veryLongName);
            assertThat(reader.asn(InetAddress.getByName("100.1.43.9")).autonomousSystemNumber()).isEqualTo(1299L);
        }
    }
}
