package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
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
                .write(dir.resolve("country.mmdb"));
        asnDb = MmdbWriter.asns(Map.of("81.2.69.128/25", 64500L, "2a02:2e0:3fe::/48", 64501L))
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
        assertThat(metrics).containsPattern("portcullis_geoip_database_info\\{[^}]*database=\"country\"[^}]*\\} 1");
        assertThat(metrics).containsPattern("portcullis_geoip_database_info\\{[^}]*database=\"asn\"[^}]*\\} 1");
        assertThat(metrics).contains("build_date=\"");
    }

    @Test
    void privateLoopbackAndUnknownAddressesAreZz() throws Exception {
        Probe p = start();
        p.forbidden("/strict/x");
        p.forbidden("/strict/x", "X-Forwarded-For: 10.1.2.3");
        p.forbidden("/strict/x", "X-Forwarded-For: 8.8.8.8");
        p.allowed("/strict/x", "X-Forwarded-For: 81.2.69.5");
    }
}
