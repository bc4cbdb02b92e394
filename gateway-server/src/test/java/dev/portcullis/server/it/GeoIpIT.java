package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Country and ASN rules (SPEC 3.2) through the real server, on MaxMind-format databases written by the test. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GeoIpIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final Instant COUNTRY_BUILT = Instant.parse("2025-06-01T12:00:00Z");
    private static final Instant ASN_BUILT = Instant.parse("2025-07-15T00:30:00Z");

    static Path countryDb;
    static Path asnDb;

    @BeforeAll
    static void databases() throws Exception {
        Path dir = Files.createTempDirectory("portcullis-geoip");
        countryDb = MmdbWriter.countries(Map.of(
                        "175.45.176.0/22", "KP",
                        "2.176.0.0/12", "IR",
                        "81.2.69.0/24", "GB",
                        "2a02:2e0::/29", "DE"))
                .buildEpoch(COUNTRY_BUILT)
                .write(dir.resolve("country.mmdb"));
        asnDb = MmdbWriter.asns(Map.of("81.2.69.128/25", 64500L, "2a02:2e0:3fe::/48", 64501L))
                .buildEpoch(ASN_BUILT)
                .write(dir.resolve("asn.mmdb"));
    }

    private static Probe start() throws Exception {
        return new Probe(harness, harness.start("geoip.yaml",
                Map.of("COUNTRY_DB", countryDb.toString(), "ASN_DB", asnDb.toString())));
    }

    @Test
    void deniesByTheCountryOfTheClientIpTakenFromXForwardedForBehindATrustedPeer() throws Exception {
        Probe p = start();
        p.forbidden("/x", "X-Forwarded-For: 175.45.177.9");
        p.forbidden("/x", "X-Forwarded-For: 2.180.1.1");
        p.allowed("/x", "X-Forwarded-For: 81.2.69.5");
        p.allowed("/x", "X-Forwarded-For: 2a02:2e0:1::7");
        // the walk from the right: a KP client behind a GB proxy that is not trusted is still the GB proxy
        p.allowed("/x", "X-Forwarded-For: 175.45.177.9, 81.2.69.5");
    }

    @Test
    void deniesByAsn() throws Exception {
        Probe p = start();
        p.forbidden("/x", "X-Forwarded-For: 81.2.69.200");
        p.allowed("/x", "X-Forwarded-For: 81.2.69.100");
    }

    @Test
    void theDatabasesInUseAreExportedForMetrics() throws Exception {
        Gateway gw = harness.start("geoip.yaml", Map.of("COUNTRY_DB", countryDb.toString(), "ASN_DB", asnDb.toString()));
        String metrics = harness.client().send(HttpRequest.newBuilder(gw.adminUri("/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        List<PrometheusText.Sample> info = PrometheusText.parse(metrics).samples("portcullis_geoip_database_info");
        assertThat(info).containsExactlyInAnyOrder(
                new PrometheusText.Sample("portcullis_geoip_database_info", Map.of("database", "country",
                        "type", "GeoLite2-Country", "build_date", COUNTRY_BUILT.toString()), 1.0),
                new PrometheusText.Sample("portcullis_geoip_database_info", Map.of("database", "asn",
                        "type", "GeoLite2-ASN", "build_date", ASN_BUILT.toString()), 1.0));
    }

    @Test
    void theAccessLineCarriesTheCountryOfTheClientIpResolvedBehindATrustedPeer() throws Exception {
        Probe p = start();
        LogCapture access = LogCapture.attach("portcullis.access");
        try {
            RawResponse denied = p.forbidden("/x", "X-Forwarded-For: 175.45.177.9");
            JsonNode deniedLine = access.jsonLineFor(denied.header("X-Request-Id").orElseThrow());
            assertThat(deniedLine.get("client_ip").asText()).isEqualTo("175.45.177.9");
            assertThat(deniedLine.get("country").asText()).isEqualTo("KP");
            assertThat(deniedLine.get("rule").asText()).isEqualTo("embargo");

            RawResponse allowed = p.send("GET", "/x", "X-Forwarded-For: 10.9.8.7, 2a02:2e0:1::7");
            assertThat(allowed.status()).isEqualTo(200);
            JsonNode allowedLine = access.jsonLineFor(allowed.header("X-Request-Id").orElseThrow());
            assertThat(allowedLine.get("client_ip").asText()).isEqualTo("2a02:2e0:1::7");
            assertThat(allowedLine.get("country").asText()).isEqualTo("DE");

            RawResponse direct = p.send("GET", "/x");
            JsonNode directLine = access.jsonLineFor(direct.header("X-Request-Id").orElseThrow());
            assertThat(directLine.get("client_ip").asText()).isEqualTo("127.0.0.1");
            assertThat(directLine.get("country").asText()).as("loopback").isEqualTo("ZZ");
        } finally {
            access.detach();
        }
    }

    @Test
    void privateLoopbackAndUnknownAddressesAreZz() throws Exception {
        Probe p = start();
        p.forbidden("/strict/x");
        p.forbidden("/strict/x", "X-Forwarded-For: 10.1.2.3");
        p.forbidden("/strict/x", "X-Forwarded-For: 8.8.8.8");
        p.allowed("/strict/x", "X-Forwarded-For: 81.2.69.5");
    }

    @Test
    void asZeroSelectsAddressesWithoutAnAutonomousSystem() throws Exception {
        Probe p = start();
        p.forbidden("/networked/x");
        p.forbidden("/networked/x", "X-Forwarded-For: 10.1.2.3");
        p.forbidden("/networked/x", "X-Forwarded-For: 81.2.69.5"); // a GB address outside the ASN database
        p.allowed("/networked/x", "X-Forwarded-For: 2a02:2e0:3fe::9");
        p.forbidden("/x", "X-Forwarded-For: 81.2.69.200"); // AS 64500 is still denied by its own rule
    }
}
