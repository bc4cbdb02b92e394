package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.PrometheusText;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.8: a reload opens the GeoIP databases again, so a replaced file takes effect; a replacement that is
 * not a usable database is rejected and the old generation, with the old data, keeps deciding.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GeoIpReloadIT {

    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            geoip:
              database: "country.mmdb"
            default: allow
            rules:
              - name: embargo
                match: { countries: [KP] }
                action: deny
            """;
    private static final Instant FIRST_BUILT = Instant.parse("2025-06-01T00:00:00Z");
    private static final Instant SECOND_BUILT = Instant.parse("2025-06-08T00:00:00Z");
    private static final String CLIENT = "X-Forwarded-For: 81.2.69.5";

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    Path dir;

    private Gateway start() throws Exception {
        writeCountries("GB", FIRST_BUILT);
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(CONFIG, Map.of()), StandardCharsets.UTF_8);
        return harness.startFile(file);
    }

    /** Replaces country.mmdb by rename, as a database updater does: the live generation keeps its mapped file. */
    private void writeCountries(String countryOfClient, Instant built) throws Exception {
        Path next = MmdbWriter.countries(Map.of("81.2.69.0/24", countryOfClient, "175.45.176.0/22", "KP"))
                .buildEpoch(built).write(dir.resolve("next.mmdb"));
        Files.move(next, dir.resolve("country.mmdb"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private void replaceWith(byte[] bytes) throws Exception {
        Path next = Files.write(dir.resolve("next.mmdb"), bytes);
        Files.move(next, dir.resolve("country.mmdb"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static String buildDate(Gateway gw) throws Exception {
        String metrics = harness.client().send(HttpRequest.newBuilder(gw.adminUri("/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return PrometheusText.parse(metrics).samples("portcullis_geoip_database_info").stream()
                .map(s -> s.labels().get("build_date")).reduce((a, b) -> a + "," + b).orElse("none");
    }

    @Test
    void aReloadAppliesAReplacedDatabase() throws Exception {
        Gateway gw = start();
        Probe p = new Probe(harness, gw);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        p.allowed("/x", CLIENT);

        writeCountries("KP", SECOND_BUILT);
        p.allowed("/x", CLIENT);
        ConfigAdmin.Answer reloaded = admin.reload();

        assertThat(reloaded.status()).as("POST /reload: %s", reloaded.body()).isEqualTo(200);
        assertThat(reloaded.body().path("generation").asLong()).isEqualTo(2);
        p.forbidden("/x", CLIENT);
        assertThat(buildDate(gw)).isEqualTo(SECOND_BUILT.toString());
    }

    @Test
    void aReloadWithABrokenOrWrongDatabaseKeepsTheOldGeneration() throws Exception {
        Gateway gw = start();
        Probe p = new Probe(harness, gw);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        Path database = dir.resolve("country.mmdb");

        replaceWith("not a database\n".getBytes(StandardCharsets.UTF_8));
        ConfigAdmin.Answer broken = admin.reload();
        assertThat(broken.status()).as("POST /reload: %s", broken.body()).isEqualTo(422);
        assertThat(broken.body().path("problems").get(0).asText())
                .startsWith(dir.resolve("policy.yaml") + ":9:13: geoip.database: \"" + database
                        + "\" is not a MaxMind DB file");
        assertOldDataDecides(gw, p, admin);

        Path asn = MmdbWriter.asns(Map.of("81.2.69.0/24", 64500L)).write(dir.resolve("asn.mmdb"));
        replaceWith(Files.readAllBytes(asn));
        ConfigAdmin.Answer wrongType = admin.reload();
        assertThat(wrongType.status()).as("POST /reload: %s", wrongType.body()).isEqualTo(422);
        assertThat(wrongType.body().path("problems").get(0).asText()).isEqualTo(dir.resolve("policy.yaml")
                + ":9:13: geoip.database: \"" + database + "\" is a GeoLite2-ASN database (expected: a Country or City"
                + " database)");
        assertOldDataDecides(gw, p, admin);
        assertThat(admin.config().path("reloads").path("rejected").asLong()).isEqualTo(2);
    }

    private static void assertOldDataDecides(Gateway gw, Probe p, ConfigAdmin admin) throws Exception {
        JsonNode config = admin.config();
        assertThat(config.path("generation").asLong()).isEqualTo(1);
        assertThat(config.path("last_error").isObject()).as("last_error: %s", config).isTrue();
        p.allowed("/x", CLIENT);
        p.forbidden("/x", "X-Forwarded-For: 175.45.177.9");
        assertThat(buildDate(gw)).isEqualTo(FIRST_BUILT.toString());
    }
}
