package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.Effect.ALLOW;
import static dev.portcullis.core.policy.Effect.DENY;
import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.paths;
import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.geo.MaxMindGeoLookup;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.net.IpAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code countries} and {@code asns} conditions (SPEC 3.2): validation, explanations and decisions. */
class GeoMatchersTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);
    private static final RequestMatcher ALWAYS = RequestMatcher.always();

    /** A GeoIP lookup from fixed tables, as the policy sees any {@link GeoLookup}. */
    private static final GeoLookup TABLE = new GeoLookup() {
        @Override
        public String country(IpAddress address) {
            return Map.of("81.2.69.1", "DE", "81.2.69.2", "AT", "81.2.69.3", "US", "81.2.69.4", "RU",
                    "2a02:8000::1", "FR").getOrDefault(address.toString(), UNKNOWN_COUNTRY);
        }

        @Override
        public long asn(IpAddress address) {
            return Map.of("81.2.69.1", 3320L, "81.2.69.2", 64_500L, "81.2.69.3", 4_200_000_000L)
                    .getOrDefault(address.toString(), UNKNOWN_ASN);
        }
    };

    private static RequestMatcher countries(String... codes) {
        return CountryMatcher.of(List.of(codes));
    }

    private static RequestMatcher asns(Long... numbers) {
        return AsnMatcher.of(List.of(numbers));
    }

    private static AccessRequest from(String ip, GeoLookup geo) {
        return get("/shop/cart").ip(ip).build().with(CLOCK, geo);
    }

    /** A policy shaped like the SPEC example's embargo and network rules. */
    private static final Policy POLICY = new Policy(List.of(
            new Rule("embargo", countries("RU", "KP"), ALWAYS, DENY, 404, Mode.ENFORCE),
            new Rule("hosting-networks", asns(4_200_000_000L, 16_509L), ALWAYS, DENY, 403, Mode.ENFORCE),
            new Rule("internal", countries("ZZ"), ALWAYS, ALLOW, 403, Mode.ENFORCE),
            new Rule("dach-shop", paths("/shop/**"), countries("DE", "AT", "CH"), ALLOW, 403, Mode.ENFORCE),
            new Rule("partner-network", paths("/partner/**"), asns(64_500L), ALLOW, 403, Mode.ENFORCE)),
            DENY);

    static Stream<Arguments> decisions() {
        return Stream.of(
                row("81.2.69.1", "/shop/cart", ALLOW, "dach-shop", 200, "allowed by rule dach-shop"),
                row("81.2.69.2", "/shop/cart", ALLOW, "dach-shop", 200, "allowed by rule dach-shop"),
                row("2a02:8000::1", "/shop/cart", DENY, "dach-shop", 403,
                        "rule dach-shop: country FR not in [DE, AT, CH]"),
                row("81.2.69.4", "/shop/cart", DENY, "embargo", 404, "rule embargo: country RU in [RU, KP]"),
                row("81.2.69.3", "/shop/cart", DENY, "hosting-networks", 403,
                        "rule hosting-networks: asn 4200000000 in [4200000000, 16509]"),
                row("10.1.2.3", "/shop/cart", ALLOW, "internal", 200, "allowed by rule internal"),
                row("81.2.69.2", "/partner/api", ALLOW, "partner-network", 200, "allowed by rule partner-network"),
                row("81.2.69.1", "/partner/api", DENY, "partner-network", 403,
                        "rule partner-network: asn 3320 not in [64500]"),
                row("81.2.69.1", "/other", DENY, null, 403, "no rule matched, default deny"));
    }

    private static Arguments row(String ip, String path, Effect effect, @Nullable String rule, int status,
            String reason) {
        return arguments(ip + " " + path, ip, path, new Decision(effect, rule, reason, status, List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decisions")
    void decidesOnCountriesAndAsns(String name, String ip, String path, Decision expected) {
        AccessRequest request = get(path).ip(ip).build().with(CLOCK, TABLE);
        assertThat(POLICY.evaluate(request)).isEqualTo(expected);
    }

    @Test
    void decidesOnARealDatabaseLookingUpTheClientIp(@TempDir Path dir) throws Exception {
        Map<String, String> networks = new LinkedHashMap<>();
        networks.put("81.2.0.0/16", "DE");
        networks.put("2a02:8000::/32", "RU");
        Path db = MmdbWriter.countries(networks).write(dir.resolve("country.mmdb"));
        Path asnDb = MmdbWriter.asns(Map.of("81.2.69.0/24", 4_200_000_000L)).write(dir.resolve("asn.mmdb"));
        try (MaxMindGeoLookup geo = MaxMindGeoLookup.open(db, asnDb)) {
            assertThat(POLICY.evaluate(from("81.2.1.1", geo)).rule()).isEqualTo("dach-shop");
            assertThat(POLICY.evaluate(from("81.2.69.9", geo)).rule()).isEqualTo("hosting-networks");
            assertThat(POLICY.evaluate(from("2a02:8000::9", geo)).reason())
                    .isEqualTo("rule embargo: country RU in [RU, KP]");
            assertThat(POLICY.evaluate(from("192.168.1.1", geo)).rule()).isEqualTo("internal");
            // the client IP (after the trusted-proxy walk) is looked up, not the peer
            AccessRequest proxied = new AccessRequest("GET", "/shop/cart", "example.com", IpAddress.parse("81.2.1.1"),
                    IpAddress.parse("10.0.0.7"), RequestHeaders.of(Map.of()), Identity.ANONYMOUS,
                    null, "/shop/cart", CLOCK, geo);
            assertThat(POLICY.evaluate(proxied).rule()).isEqualTo("dach-shop");
            assertThat(proxied.countryIfKnown()).isEqualTo("DE");
        }
    }

    @Test
    void matchingAllocatesNothingOnceTheCountryAndAsnAreKnown() {
        AccessRequest request = from("81.2.69.2", TABLE);
        assertThat(POLICY.evaluate(request).allowed()).isTrue();
        RequestMatcher dach = countries("DE", "AT", "CH");
        RequestMatcher partner = asns(3320L, 64_500L, 4_200_000_000L);

        assertThat(bytesPerCall(() -> POLICY.evaluate(request).allowed())).isLessThan(1.0);
        assertThat(bytesPerCall(() -> dach.matches(request))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> partner.matches(request))).isLessThan(1.0);
    }


    @Test
    void explainsCountriesAndAsns() {
        AccessRequest german = from("81.2.69.1", TABLE);
        RequestMatcher dach = countries("DE", "AT", "DE");
        assertThat(dach.matches(german)).isTrue();
        assertThat(dach.explainMatch(german)).isEqualTo("country DE in [DE, AT]");
        AccessRequest american = from("81.2.69.3", TABLE);
        assertThat(dach.matches(american)).isFalse();
        assertThat(dach.explainFailure(american)).isEqualTo("country US not in [DE, AT]");
        assertThat(dach).hasToString("countries [DE, AT]");
        assertThat(((CountryMatcher) dach).codes()).containsExactly("DE", "AT");

        AccessRequest partner = from("81.2.69.2", TABLE);
        RequestMatcher partnerAsns = asns(64_500L, 3320L, 64_500L);
        assertThat(partnerAsns.matches(partner)).isTrue();
        assertThat(partnerAsns.explainMatch(partner)).isEqualTo("asn 64500 in [64500, 3320]");
        AccessRequest unknown = from("81.2.69.99", TABLE);
        assertThat(partnerAsns.matches(unknown)).isFalse();
        assertThat(partnerAsns.explainFailure(unknown)).isEqualTo("asn 0 not in [64500, 3320]");
        assertThat(partnerAsns).hasToString("asns [64500, 3320]");
        assertThat(((AsnMatcher) partnerAsns).asns()).containsExactly(64_500L, 3320L);
        assertThat(asns(4_294_967_295L).matches(unknown)).isFalse();
    }

    @Test
    void geoConditionsAreNotIdentityConditions() {
        AccessRequest request = from("81.2.69.3", TABLE);
        assertThat(countries("DE").failsForWantOfIdentity(request)).isFalse();
        assertThat(asns(1L).failsForWantOfIdentity(request)).isFalse();
        assertThat(countries("US").holdsForWantOfIdentity(request)).isFalse();
    }

    @Test
    void withoutAGeoIpDatabaseEveryClientIsZz() {
        AccessRequest request = get("/").ip("81.2.69.1").build();
        assertThat(countries("ZZ").matches(request)).isTrue();
        assertThat(countries("DE").matches(request)).isFalse();
        assertThat(asns(3320L).matches(request)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"DE", "AT", "ZZ", "AA", "US"})
    void acceptsUpperCaseAlpha2Codes(String code) {
        assertThat(CountryMatcher.checkCountry(code)).isEqualTo(code);
    }

    @ParameterizedTest
    @ValueSource(strings = {"de", "De", "dE", "XX1", "D", "", "DEU", "D1", "Ä1", " D", "D "})
    void refusesOtherCountryCodes(String code) {
        assertThatThrownBy(() -> CountryMatcher.checkCountry(code))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + code
                        + "\" is not a country code (expected: ISO 3166 alpha-2 in upper case, e.g. DE, or ZZ for unknown)");
        assertThatThrownBy(() -> CountryMatcher.of(List.of("DE", code))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesEmptyLists() {
        assertThatThrownBy(() -> CountryMatcher.of(List.of()))
                .hasMessage("[] is not a valid countries condition (expected: at least one country code, e.g. DE)");
        assertThatThrownBy(() -> AsnMatcher.of(List.of()))
                .hasMessage("[] is not a valid asns condition (expected: at least one AS number)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "1", "64500", "3320", "4294967295", "4200000000"})
    void parsesAsNumbers(String text) {
        assertThat(AsnMatcher.checkAsn(text)).isEqualTo(Long.parseLong(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"00", "4294967296", "99999999999", "-1", "+5", "AS64500", "as64500", "64 500", "064500",
            "", "1.5", "0x10"})
    void refusesOtherAsNumbers(String text) {
        assertThatThrownBy(() -> AsnMatcher.checkAsn(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not an AS number (expected: 0..4294967295, 0 for an address without"
                        + " one, e.g. 64500)");
    }

    @Test
    void refusesAsnsOutOfRange() {
        assertThatThrownBy(() -> AsnMatcher.of(List.of(64_500L, -1L)))
                .hasMessage("\"-1\" is not an AS number (expected: 0..4294967295, 0 for an address without one,"
                        + " e.g. 64500)");
        assertThatThrownBy(() -> AsnMatcher.of(List.of(4_294_967_296L)))
                .hasMessage("\"4294967296\" is not an AS number (expected: 0..4294967295, 0 for an address without"
                        + " one, e.g. 64500)");
    }
}
