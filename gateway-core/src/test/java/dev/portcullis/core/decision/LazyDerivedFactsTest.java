package dev.portcullis.core.decision;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request's derived facts (country, ASN, "now") are computed lazily: only when a rule reads them, at most once
 * per request, and again for the next request. Configs go through the real loader and compiler, requests through
 * the decision step the server uses; the GeoIP lookup and the clock are injected and count what they are asked.
 */
class LazyDerivedFactsTest {

    private static final Instant MONDAY_NOON_BERLIN = Instant.parse("2025-06-02T10:00:00Z");
    private static final IpAddress DE_CLIENT = IpAddress.parse("81.2.69.1");
    private static final IpAddress RU_CLIENT = IpAddress.parse("81.2.69.4");

    /** The config must name database files; the lookup the requests use is {@link CountingGeo}. */
    @TempDir
    static Path dir;

    private final CountingGeo geo = new CountingGeo();
    private final MutableClock clock = new MutableClock(MONDAY_NOON_BERLIN);

    @BeforeAll
    static void writeDatabases() throws Exception {
        MmdbWriter.countries(Map.of("81.2.69.0/24", "DE")).write(dir.resolve("country.mmdb"));
        MmdbWriter.asns(Map.of("81.2.69.0/24", 3320L)).write(dir.resolve("asn.mmdb"));
    }

    /** Rules on methods, paths, hosts, IPs, headers and roles only. */
    private static final String NO_DERIVED_FACTS = """
            rules:
              - name: blocked-networks
                match: { ip: ["203.0.113.0/24"] }
                action: deny
              - name: health
                match: { paths: ["/healthz"], methods: [GET] }
              - name: api
                match: { paths: ["/api/**"], hosts: ["api.example.com"] }
                require: { headers: { X-Api-Key: [] } }
            """;

    /** Several rules read the country, the ASN and the time (two different schedules). */
    private static final String MANY_DERIVED_FACTS = """
            geoip: { database: "country.mmdb", asn_database: "asn.mmdb" }
            rules:
              - name: embargo
                match: { countries: [KP, RU] }
                action: deny
              - name: hosting
                match: { asns: [16509, 14061] }
                action: deny
              - name: night-freeze
                match: { paths: ["/shop/**"], schedule: { from: "22:00", to: "06:00", timezone: "UTC" } }
                action: deny
              - name: alpine-shop
                match: { paths: ["/shop/**"], countries: [AT, CH] }
              - name: partner-shop
                match: { paths: ["/shop/**"], asns: [64500] }
              - name: de-shop
                match: { paths: ["/shop/**"], countries: [DE] }
                require:
                  asns: [3320]
                  schedule: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: "Europe/Berlin" }
            """;

    private static CompiledConfig config(String rules) throws Exception {
        String yaml = "upstream: { url: \"http://127.0.0.1:3000\" }\ndefault: deny\n" + rules;
        return ConfigLoader.load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8), dir);
    }

    private DecisionStep step(CompiledConfig config) {
        return new GatewaySnapshot(config, 1, Instant.EPOCH, null, clock, geo, null).decisions();
    }

    private static Decision decide(DecisionStep step, String method, String path, String host, IpAddress client,
            Map<String, List<String>> headers) {
        RequestFacts facts = new RequestFacts(method, path, host, client, client, RequestHeaders.of(headers), null);
        return step.decide(facts, Resolution.notPresented()).decision();
    }

    private static Decision get(DecisionStep step, String path, IpAddress client) {
        return decide(step, "GET", path, "shop.example.com", client, Map.of());
    }

    @Test
    void aPolicyThatReadsNoDerivedFactLooksNothingUpAndReadsNoClock() throws Exception {
        DecisionStep step = step(config(NO_DERIVED_FACTS));

        assertThat(get(step, "/healthz", DE_CLIENT).rule()).isEqualTo("health");
        assertThat(get(step, "/healthz", IpAddress.parse("203.0.113.9")).rule()).isEqualTo("blocked-networks");
        assertThat(decide(step, "POST", "/api/orders", "api.example.com", DE_CLIENT, Map.of()).status())
                .isEqualTo(403);
        assertThat(decide(step, "POST", "/api/orders", "api.example.com", DE_CLIENT,
                Map.of("X-Api-Key", List.of("k"))).rule()).isEqualTo("api");
        assertThat(get(step, "/other", DE_CLIENT).rule()).isNull();

        assertThat(geo.countryLookups).as("country lookups").isZero();
        assertThat(geo.asnLookups).as("ASN lookups").isZero();
        assertThat(clock.reads()).as("clock reads").isZero();
    }

    @Test
    void withACountryDatabaseOnlyTheAccessLogLooksTheCountryUp() throws Exception {
        CompiledConfig config = config("geoip: { database: \"country.mmdb\", asn_database: \"asn.mmdb\" }\n"
                + NO_DERIVED_FACTS);

        Decision byPolicy = config.policy().evaluate(new AccessRequest("GET", "/healthz", "", DE_CLIENT, DE_CLIENT,
                RequestHeaders.of(Map.of()), Identity.ANONYMOUS, null, "/healthz",
                clock, geo));
        assertThat(byPolicy.rule()).isEqualTo("health");
        assertThat(geo.countryLookups).as("country lookups by the policy").isZero();

        DecisionStep step = step(config);
        get(step, "/healthz", DE_CLIENT);
        get(step, "/other", DE_CLIENT);
        assertThat(geo.countryLookups).as("one per request, for the log line's country").isEqualTo(2);
        assertThat(geo.asnLookups).as("ASN lookups").isZero();
        assertThat(clock.reads()).as("clock reads").isZero();
    }

    @Test
    void rulesReadingCountryAsnAndTimeConsultEachAtMostOncePerRequest() throws Exception {
        DecisionStep step = step(config(MANY_DERIVED_FACTS));

        Decision allowed = get(step, "/shop/cart", DE_CLIENT);

        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.rule()).isEqualTo("de-shop");
        assertThat(geo.countryLookups).as("country lookups").isEqualTo(1);
        assertThat(geo.asnLookups).as("ASN lookups (hosting, partner-shop, de-shop read it)").isEqualTo(1);
        assertThat(clock.reads()).as("clock reads (night-freeze, de-shop read it)").isEqualTo(1);

        Decision denied = get(step, "/shop/cart", RU_CLIENT);

        assertThat(denied.rule()).isEqualTo("embargo");
        assertThat(denied.reason()).isEqualTo("rule embargo: country RU in [KP, RU]");
        assertThat(geo.countryLookups).as("country lookups, the explanation included").isEqualTo(2);
        assertThat(geo.asnLookups).as("ASN lookups: no rule read it before embargo decided").isEqualTo(1);
        assertThat(clock.reads()).as("clock reads: no rule read it before embargo decided").isEqualTo(1);
    }

    @Test
    void aNewRequestConsultsTheLookupAndTheClockAgain() throws Exception {
        DecisionStep step = step(config(MANY_DERIVED_FACTS));
        assertThat(get(step, "/shop/cart", DE_CLIENT).rule()).isEqualTo("de-shop");

        clock.set(Instant.parse("2025-06-02T23:00:00Z"));
        Decision later = get(step, "/shop/cart", DE_CLIENT);

        assertThat(later.rule()).as("decided by the new time, not the first request's").isEqualTo("night-freeze");
        assertThat(geo.countryLookups).as("country lookups").isEqualTo(2);
        assertThat(geo.asnLookups).as("ASN lookups").isEqualTo(2);
        assertThat(clock.reads()).as("clock reads").isEqualTo(2);
    }

    /** A GeoIP lookup that counts its calls: 81.2.69.1 is DE in AS3320, 81.2.69.4 is RU, the rest unknown. */
    private static final class CountingGeo implements GeoLookup {
        int countryLookups;
        int asnLookups;

        @Override
        public String country(IpAddress address) {
            countryLookups++;
            return Map.of("81.2.69.1", "DE", "81.2.69.4", "RU").getOrDefault(address.toString(), UNKNOWN_COUNTRY);
        }

        @Override
        public long asn(IpAddress address) {
            asnLookups++;
            return address.equals(DE_CLIENT) ? 3320L : UNKNOWN_ASN;
        }
    }
}
