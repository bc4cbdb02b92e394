package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.PrometheusText.Family;
import dev.portcullis.server.it.support.PrometheusText.Sample;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box checks of SPEC 3.8 (reload), 3.9 (errors in a config), 5 (metrics) and 6 (admin API), and the
 * README's Reload, Metrics and Admin API sections where SPEC is silent. Complements AdminIT, MetricsIT and
 * ReloadRejectionIT (which it does not repeat).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecAdminMetricsCheckIT {
    private static final String PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Pattern SHA256_VERSION = Pattern.compile("sha256:[0-9a-f]{64}");
    /** FILE:LINE:COLUMN: rest (SPEC 3.9). */
    private static final Pattern LOCATED = Pattern.compile("^(\\S*policy\\.yaml):(\\d+):(\\d+): (.+)$");

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    // ------------------------------------------------------------------------------------------ reload + metrics

    /**
     * SPEC 5/6 + README Metrics/Reload: config_reloads_total{result} counts an applied and a rejected reload;
     * config_info{version} is one series that follows the live version (unchanged by a rejection); /config's
     * version is sha256 of the exact file bytes (CRLF, non-ASCII), with loaded_at, rules and source.
     */
    @Test
    void reloadCountersAndConfigInfoFollowAppliedAndRejectedReloads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String initial = harness.fill(String.join("\r\n",
                "# Grüße, café — ✓ (non-ASCII bytes and CRLF line ends: the version is of the bytes)",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: deny",
                "rules:",
                "  - name: open",
                "    match: { paths: [\"/open/**\"] }",
                ""), Map.of());
        byte[] initialBytes = initial.getBytes(StandardCharsets.UTF_8);
        Files.write(file, initialBytes);
        String v1 = sha256(initialBytes);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        JsonNode c1 = admin.config();
        assertThat(c1.path("version").asText()).as("/config version = sha256 of the file bytes").isEqualTo(v1);
        assertThat(c1.path("rules").asInt()).as("/config rules: %s", c1).isEqualTo(1);
        assertThat(List.of(file.toString(), file.toAbsolutePath().toString(), file.toRealPath().toString()))
                .as("/config source: %s", c1).contains(c1.path("source").asText());
        Instant loaded1 = OffsetDateTime.parse(c1.path("loaded_at").asText()).toInstant();
        assertThat(c1.path("last_error").isNull()).as("last_error at start: %s", c1).isTrue();
        PrometheusText m0 = scrape(gw);
        assertThat(m0.samples("portcullis_config_info")).as("config_info at start")
                .containsExactly(new Sample("portcullis_config_info", Map.of("version", v1), 1.0));
        double success0 = m0.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success"));
        double failure0 = m0.valueOrZero("portcullis_config_reloads_total", Map.of("result", "failure"));

        // rejected reload: failure +1, success unchanged, config_info unchanged
        Files.writeString(file, initial.replace("default: deny", "default: sometimes"), StandardCharsets.UTF_8);
        ConfigAdmin.Answer rejected = admin.reload();
        assertThat(rejected.status()).as("reload of an invalid file: %s", rejected.body()).isEqualTo(422);
        PrometheusText m1 = scrape(gw);
        assertThat(m1.valueOrZero("portcullis_config_reloads_total", Map.of("result", "failure")))
                .as("config_reloads_total{result=failure} after one rejection").isEqualTo(failure0 + 1);
        assertThat(m1.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success")))
                .isEqualTo(success0);
        assertThat(m1.samples("portcullis_config_info")).as("config_info after a rejected reload")
                .containsExactly(new Sample("portcullis_config_info", Map.of("version", v1), 1.0));
        JsonNode c2 = admin.config();
        assertThat(c2.path("version").asText()).isEqualTo(v1);
        assertThat(c2.path("last_error").isObject()).as("last_error after a rejection: %s", c2).isTrue();

        // applied reload: success +1, config_info = the new version (one series), /config follows
        String next = harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: deny",
                "rules:",
                "  - name: open",
                "    match: { paths: [\"/open/**\"] }",
                "  - name: more",
                "    match: { paths: [\"/more/**\"] }",
                "# Ende — ✓"), Map.of());
        byte[] nextBytes = next.getBytes(StandardCharsets.UTF_8);
        Files.write(file, nextBytes);
        String v2 = sha256(nextBytes);
        // so that a new loaded_at can be told from the old one, whatever its precision
        Thread.sleep(c1.path("loaded_at").asText().contains(".") ? 5 : 1020 - System.currentTimeMillis() % 1000);
        ConfigAdmin.Answer applied = admin.reload();
        assertThat(applied.status()).as("reload of a valid file: %s", applied.body()).isEqualTo(200);
        assertThat(applied.body().path("version").asText()).isEqualTo(v2);
        assertThat(harness.get(gw, "/more/x").statusCode()).as("the next request is decided by the new policy")
                .isEqualTo(200);

        PrometheusText m2 = scrape(gw);
        assertThat(m2.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success")))
                .as("config_reloads_total{result=success} after one applied reload").isEqualTo(success0 + 1);
        assertThat(m2.valueOrZero("portcullis_config_reloads_total", Map.of("result", "failure")))
                .isEqualTo(failure0 + 1);
        assertThat(m2.samples("portcullis_config_info")).as("config_info after an applied reload: one series, new version")
                .containsExactly(new Sample("portcullis_config_info", Map.of("version", v2), 1.0));
        JsonNode c3 = admin.config();
        assertThat(c3.path("version").asText()).isEqualTo(v2);
        assertThat(c3.path("rules").asInt()).as("/config rules after reload: %s", c3).isEqualTo(2);
        assertThat(c3.path("last_error").isNull()).as("last_error after a later good reload: %s", c3).isTrue();
        assertThat(OffsetDateTime.parse(c3.path("loaded_at").asText()).toInstant())
                .as("loaded_at moves with the applied reload: %s", c3).isAfter(loaded1);
    }

    /**
     * SPEC 3.9: every error, not just the first, each as FILE:LINE:COLUMN: path.to.key: message. One file with
     * six independent problems of the kinds SPEC 3.9 lists.
     */
    @Test
    void aRejectedReloadReportsEveryProblemWithItsLocation(@TempDir Path dir) throws Exception {
        RSAKey key = JwtMint.rsa("k1");
        JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        Files.writeString(dir.resolve("key.pem"), JwtMint.pem(key));
        Path file = dir.resolve("policy.yaml");
        String initial = harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: deny",
                "rules:",
                "  - name: open",
                "    match: { paths: [\"/open/**\"] }",
                ""), Map.of());
        Files.writeString(file, initial);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        List<String> lines = List.of(
                "listen: \"127.0.0.1:0\"",                          // 1
                "admin:",                                           // 2
                "  listen: \"127.0.0.1:0\"",                        // 3
                "upstream:",                                        // 4
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",    // 5
                "identity:",                                        // 6
                "  jwt:",                                           // 7  two key sources
                "    issuer: \"https://issuer.test/\"",             // 8
                "    algorithms: [RS256]",                          // 9
                "    jwks_file: \"jwks.json\"",                     // 10
                "    public_key_file: \"key.pem\"",                 // 11
                "rate_limits:",                                     // 12
                "  per-ip: { key: client_ip, limit: 5, per: 1s }",  // 13
                "default: deny",                                    // 14
                "rules:",                                           // 15
                "  - name: open",                                   // 16
                "    match: { paths: [\"/open/**\"] }",             // 17
                "    colour: blue",                                 // 18 unknown key
                "  - name: nets",                                   // 19
                "    match: { ip: [\"10.0.0.300/8\"] }",            // 20 bad CIDR: rules[1].match.ip[0]
                "  - name: open",                                   // 21 duplicate rule name
                "    match: { paths: [\"/again/**\"] }",            // 22
                "    rate_limit: per-user",                         // 23 unknown limiter
                "  - name: geo",                                    // 24
                "    match: { countries: [KP] }",                   // 25 countries without geoip
                "    action: deny",                                 // 26
                "");
        Files.writeString(file, harness.fill(String.join("\n", lines), Map.of()));

        ConfigAdmin.Answer answer = admin.reload();

        assertThat(answer.status()).as("POST /reload: %s", answer.body()).isEqualTo(422);
        List<String> problems = texts(answer.body().path("problems"));
        String all = String.join("\n", problems);
        assertThat(problems).as("every problem located as FILE:LINE:COLUMN:%n%s", all)
                .isNotEmpty().allMatch(p -> LOCATED.matcher(p).matches());

        assertThat(problemAt(problems, 18, p -> p.contains("colour")))
                .as("unknown key rules[0].colour at line 18 in:%n%s", all).isNotNull();
        String cidr = problemAt(problems, 20, p -> p.contains("10.0.0.300/8"));
        assertThat(cidr).as("bad CIDR at line 20 in:%n%s", all).isNotNull();
        assertThat(cidr).contains(": rules[1].match.ip[0]: ");
        int quote = lines.get(19).indexOf('"') + 1; // 1-based column of the scalar (its opening quote)
        assertThat(Integer.parseInt(located(cidr).group(3))).as("column of the bad CIDR: %s", cidr)
                .isIn(quote, quote + 1);
        assertThat(problemAt(problems, 21, p -> p.contains("rules[2]") && p.contains("open")))
                .as("duplicate rule name 'open' (rules[2]) at line 21 in:%n%s", all).isNotNull();
        assertThat(problemAt(problems, 23, p -> p.contains("rules[2].rate_limit") && p.contains("per-user")))
                .as("unknown rate limiter per-user at line 23 in:%n%s", all).isNotNull();
        assertThat(problems.stream().filter(p -> p.contains("rules[3]") || p.toLowerCase().contains("geoip")).toList())
                .as("countries rule without geoip.database (rules[3]) in:%n%s", all).isNotEmpty();
        assertThat(problems.stream().filter(p -> p.contains("identity.jwt")
                        && line(p) >= 7 && line(p) <= 11).toList())
                .as("JWT section with two key sources (identity.jwt, lines 7-11) in:%n%s", all).isNotEmpty();

        JsonNode config = admin.config();
        assertThat(config.path("version").asText()).isEqualTo(ConfigAdmin.version(initial));
        assertThat(texts(config.path("last_error").path("problems"))).isEqualTo(problems);
        assertThat(harness.get(gw, "/open/x").statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/again/x").statusCode()).isEqualTo(403);
    }

    /**
     * README Reload/Metrics: a local limiter whose definition did not change keeps its bucket across a reload
     * and its rate_limited_total continues; a reload that changes it gives a fresh bucket and the counter
     * starts again. requests_total counts each 429 under the limiting rule.
     */
    @Test
    void aLimiterKeepsBucketAndCounterAcrossAnUnrelatedReloadAndStartsAgainWhenChanged(@TempDir Path dir)
            throws Exception {
        String template = String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "rate_limits:",
                "  tight: { key: client_ip, limit: {{LIMIT}}, per: 1h }",
                "  roomy: { key: client_ip, limit: 1000, per: 1h }",
                "default: deny",
                "rules:",
                "  - name: limited",
                "    match: { paths: [\"/limited/**\"] }",
                "    rate_limit: tight",
                "  - name: spare",
                "    match: { paths: [\"/spare/**\"] }",
                "    rate_limit: roomy",
                "{{EXTRA}}");
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(template, Map.of("LIMIT", "2", "EXTRA", "")));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        Map<String, String> tight = Map.of("limiter", "tight");

        assertThat(statuses(gw, "/limited/a", 3)).containsExactly(200, 200, 429);
        PrometheusText m1 = awaitMetrics(gw, t -> t.valueOrZero("portcullis_rate_limited_total", tight) >= 1
                        && ruleStatus(t, "limited", "4xx") >= 1, "rate_limited_total{limiter=tight} >= 1");
        assertThat(m1.valueOrZero("portcullis_rate_limited_total", tight)).isEqualTo(1);
        assertThat(ruleStatus(m1, "limited", "4xx")).as("requests_total{rule=limited,status=4xx}").isEqualTo(1);
        assertThat(m1.valueOrZero("portcullis_rate_limited_total", Map.of("limiter", "roomy"))).isZero();

        // an unrelated change: same limiter definition -> same bucket (still empty) and the counter continues
        Files.writeString(file, harness.fill(template, Map.of("LIMIT", "2", "EXTRA", String.join("\n",
                "  - name: extra",
                "    match: { paths: [\"/extra/**\"] }"))));
        assertThat(admin.reload().status()).isEqualTo(200);
        assertThat(harness.get(gw, "/extra/x").statusCode()).as("the reload is live").isEqualTo(200);
        assertThat(harness.get(gw, "/limited/a").statusCode())
                .as("an unchanged limiter keeps its (empty) bucket across a reload").isEqualTo(429);
        PrometheusText m2 = awaitMetrics(gw, t -> t.valueOrZero("portcullis_rate_limited_total", tight) >= 2,
                "rate_limited_total{limiter=tight} >= 2");
        assertThat(m2.valueOrZero("portcullis_rate_limited_total", tight))
                .as("rate_limited_total of an unchanged limiter continues across a reload").isEqualTo(2);

        // the limiter changes: a fresh bucket of 3, and its counter starts again
        Files.writeString(file, harness.fill(template, Map.of("LIMIT", "3", "EXTRA", "")));
        assertThat(admin.reload().status()).isEqualTo(200);
        assertThat(statuses(gw, "/limited/a", 4)).as("a changed limiter starts with a full bucket of 3")
                .containsExactly(200, 200, 200, 429);
        PrometheusText m3 = awaitMetrics(gw, t -> t.valueOrZero("portcullis_rate_limited_total", tight) >= 1,
                "rate_limited_total{limiter=tight} >= 1");
        assertThat(m3.valueOrZero("portcullis_rate_limited_total", tight))
                .as("rate_limited_total starts again when a reload changes that limiter").isEqualTo(1);
        assertThat(m3.samples("portcullis_rate_limited_total").stream().map(s -> s.labels().get("limiter")))
                .as("one series per configured limiter").containsExactlyInAnyOrder("tight", "roomy");
    }

    /**
     * README Reload: "JWT counters and reload counters continue across reloads"; SPEC 3.8 reloads the JWKS file;
     * jwks_keys{provider} follows it.
     */
    @Test
    void jwtCountersContinueAcrossReloadsAndJwksKeysFollowTheReloadedFile(@TempDir Path dir) throws Exception {
        RSAKey k1 = JwtMint.rsa("jwt-1");
        RSAKey k2 = JwtMint.rsa("jwt-2");
        String jwks = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(k1));
        String template = String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "identity:",
                "  jwt:",
                "    issuer: \"https://issuer.test/\"",
                "    algorithms: [RS256]",
                "    jwks_file: \"jwks.json\"",
                "default: deny",
                "rules:",
                "  - name: api",
                "    match: { paths: [\"/api/**\"] }",
                "    require: { authenticated: true }",
                "# {{N}}");
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(template, Map.of("N", "1")));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        Map<String, String> provider = Map.of("provider", JwtMint.ISSUER);
        Map<String, String> valid = Map.of("result", "valid");
        Map<String, String> badSig = Map.of("result", "bad_signature");

        String t1 = JwtMint.sign(k1, JWSAlgorithm.RS256, JwtMint.claims("alice").build());
        assertThat(harness.get(gw, "/api/x", "Authorization", "Bearer " + t1).statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/api/x", "Authorization", "Bearer " + JwtMint.tamperSignature(t1))
                .statusCode()).isEqualTo(401);
        PrometheusText m1 = awaitMetrics(gw, t -> t.valueOrZero("portcullis_jwt_verifications_total", badSig) >= 1,
                "a bad_signature verification");
        assertThat(m1.valueOrZero("portcullis_jwt_verifications_total", valid)).isEqualTo(1);
        assertThat(m1.valueOrZero("portcullis_jwks_keys", provider)).isEqualTo(1);

        JwtMint.writeJwks(Path.of(jwks), List.of(k1, k2));
        Files.writeString(file, harness.fill(template, Map.of("N", "2")));
        ConfigAdmin.Answer answer = admin.reload();
        assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);

        PrometheusText m2 = scrape(gw);
        assertThat(m2.valueOrZero("portcullis_jwks_keys", provider))
                .as("jwks_keys{provider} after a reload read a JWKS with two keys").isEqualTo(2);
        assertThat(m2.samples("portcullis_jwks_keys")).as("one jwks_keys series per provider").hasSize(1);
        assertThat(m2.valueOrZero("portcullis_jwt_verifications_total", valid))
                .as("jwt_verifications_total{valid} continues across a reload").isEqualTo(1);
        assertThat(m2.valueOrZero("portcullis_jwt_verifications_total", badSig))
                .as("jwt_verifications_total{bad_signature} continues across a reload").isEqualTo(1);

        String t2 = JwtMint.sign(k2, JWSAlgorithm.RS256, JwtMint.claims("bob").build());
        assertThat(harness.get(gw, "/api/x", "Authorization", "Bearer " + t2).statusCode())
                .as("a token of the key added by the reload").isEqualTo(200);
        PrometheusText m3 = awaitMetrics(gw, t -> t.valueOrZero("portcullis_jwt_verifications_total", valid) >= 2,
                "jwt_verifications_total{valid} >= 2");
        assertThat(m3.valueOrZero("portcullis_jwt_verifications_total", valid)).isEqualTo(2);
    }

    /**
     * README Metrics: "Label values come only from the config (rule names, JWT issuers, the config version) or
     * from fixed sets, never from a request's path, address, host or subject". Here every attacker-controlled
     * part of a request (iss, kid, typ, alg, garbage token, Host, X-Forwarded-For, path, subject) carries a marker.
     */
    @Test
    void labelValuesNeverCarryAttackerControlledRequestData(@TempDir Path dir) throws Exception {
        RSAKey key = JwtMint.rsa("real-kid");
        RSAKey stranger = JwtMint.rsa("zzmark-kid");
        JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "clients:",
                "  trusted_proxies: [\"127.0.0.1/32\"]",
                "identity:",
                "  jwt:",
                "    issuer: \"https://issuer.test/\"",
                "    algorithms: [RS256]",
                "    jwks_file: \"jwks.json\"",
                "rate_limits:",
                "  per-user: { key: subject, limit: 1, per: 1h }",
                "default: deny",
                "rules:",
                "  - name: api",
                "    match: { paths: [\"/api/**\"] }",
                "    require: { authenticated: true }",
                "    rate_limit: per-user",
                ""), Map.of()));
        Gateway gw = harness.startFile(file);

        List<String> tokens = List.of(
                JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("zzmark-sub").build()),
                JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("zzmark-sub").build()),
                JwtMint.sign(key, JWSAlgorithm.RS256,
                        JwtMint.claims("zzmark-sub2").issuer("https://zzmark-iss.example/").build()),
                JwtMint.sign(stranger, JWSAlgorithm.RS256, JwtMint.claims("zzmark-sub3").build()),
                JwtMint.sign(key, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("real-kid")
                        .type(new JOSEObjectType("zzmark-typ")).build(), JwtMint.claims("zzmark-sub4").build()),
                JwtMint.hmac(new byte[32], JWSAlgorithm.HS256, "zzmark-hs", JwtMint.claims("zzmark-sub5").build()),
                JwtMint.raw("{\"alg\":\"zzmark-alg\",\"kid\":\"zzmark-kid2\"}", "{\"sub\":\"zzmark-sub6\"}",
                        new byte[] {1, 2, 3}),
                "zzmark-garbage.zzmark.zzmark");
        int sent = 0;
        for (String token : tokens) {
            try (RawHttp raw = gw.raw()) {
                raw.send("GET /api/zzmark-path-" + sent + " HTTP/1.1\r\nHost: zzmark-host.example\r\n"
                        + "X-Forwarded-For: 198.51.100.77\r\nUser-Agent: zzmark-ua\r\n"
                        + "Authorization: Bearer " + token + "\r\n\r\n");
                assertThat(raw.readResponse().status()).isIn(200, 401, 403, 429);
            }
            sent++;
        }
        assertThat(harness.get(gw, "/zzmark-denied/x").statusCode()).isEqualTo(403);
        sent++;
        final int total = sent;
        PrometheusText after = awaitMetrics(gw, t -> sum(t, "portcullis_requests_total") >= total
                        && t.valueOrZero("portcullis_request_duration_seconds_count", Map.of()) >= total,
                "every request counted");

        List<String> offending = new ArrayList<>();
        for (Family family : after.families().values()) {
            for (Sample sample : family.samples()) {
                for (Map.Entry<String, String> label : sample.labels().entrySet()) {
                    String v = label.getValue();
                    if (v.contains("zzmark") || v.contains("198.51.100.77") || v.contains("/api")) {
                        offending.add(sample.name() + "{" + label.getKey() + "=\"" + v + "\"}");
                    }
                }
            }
        }
        assertThat(offending).as("label values carrying request data").isEmpty();
        Set<String> results = after.samples("portcullis_jwt_verifications_total").stream()
                .map(s -> s.labels().get("result")).collect(Collectors.toCollection(TreeSet::new));
        assertThat(results).as("jwt result codes").contains("valid").allMatch(r -> r.matches("[a-z][a-z0-9_]*"));
        assertThat(after.samples("portcullis_jwks_keys").stream().map(s -> s.labels().get("provider")))
                .as("jwks_keys providers come only from the config").containsExactly(JwtMint.ISSUER);
        assertThat(after.samples("portcullis_requests_total").stream().map(s -> s.labels().get("rule")))
                .as("rule labels come from the config or fixed names")
                .allMatch(r -> Set.of("api", "(default)", "(none)").contains(r));
        assertThat(after.valueOrZero("portcullis_rate_limited_total", Map.of("limiter", "per-user")))
                .as("the second token of the same subject is rate limited").isEqualTo(1);
    }

    /**
     * SPEC 3.6/5 + README Metrics: requests_total for gateway-made answers of several kinds, each under the
     * rule that decided, with status classes; both duration histograms span 1 ms ... 60 s.
     */
    @Test
    void requestsTotalLabelsFor404And429And502AndHistogramBounds(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{DEAD_PORT}}\"",
                "  connect_timeout: 1s",
                "rate_limits:",
                "  one: { key: client_ip, limit: 1, per: 1h }",
                "default: deny",
                "rules:",
                "  - name: hidden",
                "    match: { paths: [\"/hidden/**\"] }",
                "    action: deny",
                "    deny_status: 404",
                "  - name: up",
                "    match: { paths: [\"/up/**\"] }",
                "  - name: lim",
                "    match: { paths: [\"/lim/**\"] }",
                "    rate_limit: one",
                ""), Map.of("DEAD_PORT", Integer.toString(GatewayHarness.deadPort()))));
        Gateway gw = harness.startFile(file);
        PrometheusText before = scrape(gw);

        assertThat(harness.get(gw, "/hidden/x").statusCode()).isEqualTo(404);
        assertThat(harness.get(gw, "/up/x").statusCode()).isEqualTo(502);
        assertThat(harness.get(gw, "/lim/x").statusCode()).isEqualTo(502);
        assertThat(harness.get(gw, "/lim/x").statusCode()).isEqualTo(429);
        assertThat(harness.get(gw, "/nowhere").statusCode()).isEqualTo(403);
        PrometheusText after = awaitMetrics(gw, t -> sum(t, "portcullis_requests_total")
                        - sum(before, "portcullis_requests_total") >= 5
                        && t.valueOrZero("portcullis_request_duration_seconds_count", Map.of())
                        - before.valueOrZero("portcullis_request_duration_seconds_count", Map.of()) >= 5,
                "five requests counted");

        Map<Map<String, String>, Double> moved = deltas(before, after, "portcullis_requests_total");
        assertThat(moved).as("requests_total deltas").containsEntry(labels("hidden", "deny", "4xx"), 1.0)
                .containsEntry(labels("up", "allow", "5xx"), 1.0)
                .containsEntry(labels("lim", "allow", "5xx"), 1.0)
                .containsEntry(labels("(default)", "deny", "4xx"), 1.0);
        assertThat(moved.values().stream().mapToDouble(Double::doubleValue).sum()).isEqualTo(5);
        assertThat(ruleStatus(after, "lim", "4xx") - ruleStatus(before, "lim", "4xx"))
                .as("the 429 under rule lim, status 4xx").isEqualTo(1);
        assertThat(after.valueOrZero("portcullis_rate_limited_total", Map.of("limiter", "one"))).isEqualTo(1);
        assertThat(after.valueOrZero("portcullis_request_duration_seconds_count", Map.of())
                - before.valueOrZero("portcullis_request_duration_seconds_count", Map.of())).isEqualTo(5);

        for (String histogram : List.of("portcullis_request_duration_seconds", "portcullis_upstream_duration_seconds")) {
            assertThat(after.families().get(histogram)).as(histogram).isNotNull();
            assertThat(after.families().get(histogram).type()).isEqualTo("histogram");
            List<Double> bounds = after.samples(histogram + "_bucket").stream()
                    .map(s -> s.labels().get("le")).filter(le -> !le.equals("+Inf"))
                    .map(Double::parseDouble).sorted().toList();
            assertThat(bounds).as("%s buckets", histogram).isNotEmpty();
            assertThat(bounds.get(0)).as("%s smallest bucket (1 ms)", histogram).isEqualTo(0.001);
            assertThat(bounds.get(bounds.size() - 1)).as("%s largest finite bucket (60 s)", histogram).isEqualTo(60.0);
        }
    }

    /**
     * README Metrics: durations are in seconds (histogram 1 ms ... 60 s). One proxied request that the upstream
     * answers after 300 ms moves request_ and upstream_duration_seconds by about 0.3 (not 300), into the
     * right buckets.
     */
    @Test
    void durationHistogramsAreInSeconds() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        PrometheusText before = scrape(gw);

        assertThat(harness.get(gw, "/_up/delay/300").statusCode()).isEqualTo(200);
        PrometheusText after = awaitMetrics(gw, t -> t.valueOrZero("portcullis_request_duration_seconds_count", Map.of())
                - before.valueOrZero("portcullis_request_duration_seconds_count", Map.of()) >= 1, "the request timed");

        for (String h : List.of("portcullis_request_duration_seconds", "portcullis_upstream_duration_seconds")) {
            double count = after.valueOrZero(h + "_count", Map.of()) - before.valueOrZero(h + "_count", Map.of());
            double sum = after.valueOrZero(h + "_sum", Map.of()) - before.valueOrZero(h + "_sum", Map.of());
            assertThat(count).as("%s_count delta", h).isEqualTo(1);
            assertThat(sum).as("%s_sum delta for a 300 ms upstream answer (seconds)", h).isBetween(0.29, 5.0);
            double under100ms = bucketDelta(before, after, h, 0.1);
            double under10s = bucketDelta(before, after, h, 10.0);
            assertThat(under100ms).as("%s le<=0.1 bucket delta", h).isZero();
            assertThat(under10s).as("%s le=10 bucket delta", h).isEqualTo(1);
        }
    }

    /**
     * README Metrics: a client that goes away after the decision is counted once, under the rule that decided,
     * with status 499 -> class 4xx (README Logs: "A client that goes away before its response is logged with
     * status 499").
     */
    @Test
    void aClientGoneBeforeItsResponseIsCountedOnceUnderItsRuleAs4xx() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        CountDownLatch upstreamAnswered = new CountDownLatch(1);
        Reply slow = Reply.delayed(Duration.ofMillis(1500), Reply.echo());
        harness.upstream().handler(req -> !req.path().equals("/abandoned") ? Reply.echo() : (r, out) -> {
            try {
                return slow.write(r, out);
            } finally {
                upstreamAnswered.countDown();
            }
        });
        PrometheusText before = scrape(gw);
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /abandoned HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            harness.upstream().awaitHeads(1, Duration.ofSeconds(5));
        }
        PrometheusText after = awaitMetrics(gw, t -> sum(t, "portcullis_requests_total")
                - sum(before, "portcullis_requests_total") >= 1, "the abandoned request counted");
        // the upstream answers at 1.5 s: nothing more may be counted for the same request. Once that answer is
        // written, a later request (the marker) is the barrier: until it is counted, the answer has had the
        // marker's whole round trip to reach the gateway and be (wrongly) counted
        assertThat(upstreamAnswered.await(10, TimeUnit.SECONDS)).as("the upstream answered the abandoned request")
                .isTrue();
        assertThat(harness.get(gw, "/marker").statusCode()).isEqualTo(200);
        PrometheusText later = awaitMetrics(gw, t -> sum(t, "portcullis_requests_total")
                - sum(before, "portcullis_requests_total") >= 2, "the marker counted");

        Map<Map<String, String>, Double> moved = deltas(before, later, "portcullis_requests_total");
        assertThat(moved.entrySet()).as("requests_total deltas with status 2xx: only the marker's")
                .filteredOn(e -> "2xx".equals(e.getKey().get("status")))
                .extracting(Map.Entry::getValue).containsExactly(1.0);
        moved.keySet().removeIf(labels -> "2xx".equals(labels.get("status")));
        assertThat(moved).as("requests_total deltas for one abandoned request").hasSize(1);
        Map.Entry<Map<String, String>, Double> only = moved.entrySet().iterator().next();
        assertThat(only.getValue()).isEqualTo(1);
        assertThat(only.getKey().get("status")).as("status class of 499: %s", only.getKey()).isEqualTo("4xx");
        assertThat(only.getKey().get("rule")).as("the rule that decided: %s", only.getKey()).isNotEqualTo("(none)");
        assertThat(only.getKey().get("decision")).as("decision: %s", only.getKey()).isEqualTo("allow");
        assertThat(deltas(before, after, "portcullis_requests_total")).isEqualTo(moved);
    }

    /**
     * README Reload: "Reloads run one at a time and coalesce ... a burst ... costs at most two reloads and ends on
     * the newest file"; SPEC 6: POST /reload answers 200 with the new version. Six concurrent POST /reload.
     */
    @Test
    void concurrentPostReloadsAllAnswerTheNewVersionAndCoalesce(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String template = harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: deny",
                "rules:",
                "  - name: open",
                "    match: { paths: [\"/VERSION/**\"] }",
                ""), Map.of());
        Files.writeString(file, template.replace("VERSION", "v1"));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        String v2 = ConfigAdmin.version(template.replace("VERSION", "v2"));
        Files.writeString(file, template.replace("VERSION", "v2"));

        List<CompletableFuture<ConfigAdmin.Answer>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return new ConfigAdmin(gw.adminPort()).reload();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<ConfigAdmin.Answer> call : calls) {
            ConfigAdmin.Answer a = call.get(30, TimeUnit.SECONDS);
            assertThat(a.status()).as("concurrent POST /reload: %s", a.body()).isEqualTo(200);
            assertThat(a.body().path("version").asText()).as("version answered: %s", a.body()).isEqualTo(v2);
        }
        JsonNode config = admin.config();
        assertThat(config.path("version").asText()).isEqualTo(v2);
        assertThat(config.path("reloads").path("applied").asLong()).as("applied reloads: %s", config).isBetween(1L, 6L);
        assertThat(config.path("reloads").path("rejected").asLong()).isZero();
        assertThat(harness.get(gw, "/v2/x").statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/v1/x").statusCode()).isEqualTo(403);
        PrometheusText m = scrape(gw);
        assertThat(m.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success")))
                .as("config_reloads_total{success} equals /config reloads.applied")
                .isEqualTo((double) config.path("reloads").path("applied").asLong());
    }

    /** SPEC 3.8: a config file that disappeared (deleted, or moved away) is rejected; the old config keeps serving. */
    @Test
    void aReloadOfADeletedConfigFileIsRejectedAndTheOldPolicyKeepsServing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String initial = harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: deny",
                "rules:",
                "  - name: open",
                "    match: { paths: [\"/open/**\"] }",
                ""), Map.of());
        Files.writeString(file, initial);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        Files.delete(file);

        ConfigAdmin.Answer answer = admin.reload();

        assertThat(answer.status()).as("POST /reload of a deleted file: %s", answer.body()).isEqualTo(422);
        assertThat(texts(answer.body().path("problems"))).as("problems: %s", answer.body()).isNotEmpty()
                .allMatch(p -> p.contains("policy.yaml"));
        assertThat(harness.get(gw, "/open/x").statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/x").statusCode()).isEqualTo(403);
        JsonNode config = admin.config();
        assertThat(config.path("version").asText()).isEqualTo(ConfigAdmin.version(initial));
        assertThat(config.path("last_error").isObject()).as("last_error: %s", config).isTrue();
        assertThat(scrape(gw).valueOrZero("portcullis_config_reloads_total", Map.of("result", "failure")))
                .isEqualTo(1);
    }

    // ------------------------------------------------------------------------------------------ admin API

    /**
     * SPEC 6: POST /reload reloads; a GET (a safe method, e.g. a link or an image tag) must not. Wrong methods
     * and unknown paths get 404/405 (405 with Allow, RFC 9110 15.5.6), never a stack trace, and the admin
     * connection stays usable.
     */
    @Test
    void wrongMethodsAndUnknownAdminPathsAreAnsweredSanelyWithoutSideEffects(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String initial = harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: deny",
                "rules: []",
                ""), Map.of());
        Files.writeString(file, initial);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        JsonNode before = admin.config();
        // a changed file on disk: any reload would show as a new version
        Files.writeString(file, initial.replace("default: deny", "default: allow"));

        Map<String, RawResponse> answers = new HashMap<>();
        try (RawHttp raw = RawHttp.connect(gw.adminPort())) {
            for (String request : List.of("GET /reload", "HEAD /reload", "PUT /reload", "POST /metrics",
                    "POST /config", "DELETE /config", "POST /healthz", "GET /no-such-endpoint",
                    "GET /reload/x", "GET /config.json")) {
                String[] parts = request.split(" ");
                raw.send(request + " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n");
                answers.put(request, raw.readResponse(parts[0].equals("HEAD")));
            }
            raw.send("GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n");
            assertThat(raw.readResponse().status()).as("the admin connection still answers").isEqualTo(200);
        }

        answers.forEach((request, r) -> {
            assertThat(r.status()).as("%s -> %s", request, r).isIn(404, 405);
            String body = r.bodyText();
            assertThat(body).as("%s body", request).doesNotContain("Exception", "\tat ", "dev.portcullis", "io.netty");
            if (r.status() == 405) {
                assertThat(r.header("Allow")).as("405 to %s carries Allow (RFC 9110): %s", request, r).isPresent();
            }
        });
        for (String unknown : List.of("GET /no-such-endpoint", "GET /reload/x", "GET /config.json")) {
            assertThat(answers.get(unknown).status()).as("%s is not an endpoint", unknown).isEqualTo(404);
        }
        JsonNode after = admin.config();
        assertThat(after.path("version").asText()).as("no reload happened: %s", after)
                .isEqualTo(before.path("version").asText());
        assertThat(after.path("generation").asLong()).isEqualTo(before.path("generation").asLong());
        assertThat(after.path("reloads").path("applied").asLong()).isZero();
        assertThat(harness.get(gw, "/x").statusCode()).as("the old policy still decides").isEqualTo(403);
    }

    /**
     * SPEC 6 admin GET endpoints also answer HEAD (RFC 9110 9.3.2): same status and Content-Type, no body bytes
     * (checked by a request pipelined behind each HEAD on the same connection).
     */
    @Test
    void headOnHealthzReadyzAndConfigAnswersLikeGetWithoutABody() throws Exception {
        Gateway gw = harness.start("default-deny.yaml");
        try (RawHttp raw = RawHttp.connect(gw.adminPort())) {
            for (String path : List.of("/healthz", "/readyz", "/config")) {
                raw.send("GET " + path + " HTTP/1.1\r\nHost: admin\r\n\r\n");
                RawResponse get = raw.readResponse();
                assertThat(get.status()).as("GET %s", path).isEqualTo(200);
                raw.send("HEAD " + path + " HTTP/1.1\r\nHost: admin\r\n\r\n"
                        + "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n");
                RawResponse head = raw.readResponse(true);
                assertThat(head.status()).as("HEAD %s: %s", path, head).isEqualTo(200);
                assertThat(head.header("Content-Type")).as("HEAD %s Content-Type", path)
                        .isEqualTo(get.header("Content-Type"));
                RawResponse next = raw.readResponse();
                assertThat(next.status()).as("the response after HEAD %s (no body bytes after its head): %s",
                        path, next).isEqualTo(200);
                assertThat(next.bodyText()).isEqualTo("{\"status\":\"ok\"}");
            }
        }
    }

    /**
     * README (The jar): on SIGTERM the gateway drains and "/readyz turns 503"; SPEC 6: /healthz is 200 while the
     * process runs. Checked against the packaged jar while one slow request is in flight.
     */
    @Test
    void readyzTurns503WhileDrainingAndHealthzStays200(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "drain_timeout: 20s",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "default: allow",
                "rules: []",
                ""), Map.of()));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), List.of())) {
            gateway.awaitListening();
            URI readyz = URI.create("http://127.0.0.1:" + gateway.adminPort() + "/readyz");
            URI healthz = URI.create("http://127.0.0.1:" + gateway.adminPort() + "/healthz");
            assertThat(status(client, readyz)).isEqualTo(200);

            CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/_up/delay/4000"))
                            .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            harness.upstream().awaitHeads(1, Duration.ofSeconds(10));
            gateway.signal("TERM");

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            String last = "";
            boolean notReady = false;
            while (System.nanoTime() < deadline && !slow.isDone()) {
                try {
                    int s = status(client, readyz);
                    last = Integer.toString(s);
                    if (s == 503) {
                        notReady = true;
                        break;
                    }
                } catch (Exception e) {
                    last = e.toString();
                }
                Thread.sleep(50);
            }
            assertThat(notReady).as("/readyz answers 503 while draining; last: %s; output:%n%s", last,
                    gateway.output()).isTrue();
            assertThat(status(client, healthz)).as("/healthz while draining").isEqualTo(200);
            assertThat(slow.get(20, TimeUnit.SECONDS).statusCode()).as("the in-flight request completes")
                    .isEqualTo(200);
            assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).as("exits after draining").isTrue();
            assertThat(gateway.process().exitValue()).isZero();
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static int status(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static List<Integer> statuses(Gateway gw, String path, int n) throws Exception {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(harness.get(gw, path).statusCode());
        }
        return out;
    }

    private static Map<String, String> labels(String rule, String decision, String status) {
        return Map.of("rule", rule, "decision", decision, "status", status);
    }

    /** requests_total summed over decisions for {@code rule} and {@code status}. */
    private static double ruleStatus(PrometheusText t, String rule, String status) {
        return t.samples("portcullis_requests_total").stream()
                .filter(s -> rule.equals(s.labels().get("rule")) && status.equals(s.labels().get("status")))
                .mapToDouble(Sample::value).sum();
    }

    /** How much the cumulative bucket {@code le} (the largest bound <= le) of {@code h} grew. */
    private static double bucketDelta(PrometheusText before, PrometheusText after, String h, double le) {
        Sample best = null;
        for (Sample s : after.samples(h + "_bucket")) {
            String bound = s.labels().get("le");
            if (!bound.equals("+Inf") && Double.parseDouble(bound) <= le
                    && (best == null || Double.parseDouble(bound) > Double.parseDouble(best.labels().get("le")))) {
                best = s;
            }
        }
        assertThat(best).as("a %s bucket at or below %s", h, le).isNotNull();
        return best.value() - before.valueOrZero(h + "_bucket", best.labels());
    }

    private static double sum(PrometheusText t, String name) {
        return t.samples(name).stream().mapToDouble(Sample::value).sum();
    }

    private static Map<Map<String, String>, Double> deltas(PrometheusText before, PrometheusText after, String name) {
        Map<Map<String, String>, Double> moved = new HashMap<>();
        for (Sample sample : after.samples(name)) {
            double delta = sample.value() - before.valueOrZero(name, sample.labels());
            if (delta != 0) {
                moved.put(sample.labels(), delta);
            }
        }
        return moved;
    }

    private static PrometheusText scrape(Gateway gw) throws Exception {
        HttpResponse<String> response = harness.client().send(
                HttpRequest.newBuilder(gw.adminUri("/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue(PROM_CONTENT_TYPE);
        return PrometheusText.parse(response.body());
    }

    /** Scrapes until {@code condition} holds (metrics are recorded just after the response is written); 5 s. */
    private static PrometheusText awaitMetrics(Gateway gw, Predicate<PrometheusText> condition, String what)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        PrometheusText text;
        while (true) {
            text = scrape(gw);
            if (condition.test(text)) {
                return text;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("metrics did not show " + what + " within 5 s");
            }
            Thread.sleep(10);
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        String v = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        assertThat(v).matches(SHA256_VERSION);
        return v;
    }

    private static Matcher located(String problem) {
        Matcher m = LOCATED.matcher(problem);
        assertThat(m.matches()).as("located problem: %s", problem).isTrue();
        return m;
    }

    private static int line(String problem) {
        Matcher m = LOCATED.matcher(problem);
        return m.matches() ? Integer.parseInt(m.group(2)) : -1;
    }

    /** The first problem at {@code line} satisfying {@code test}, or null. */
    private static String problemAt(List<String> problems, int line, Predicate<String> test) {
        return problems.stream().filter(p -> line(p) == line && test.test(p)).findFirst().orElse(null);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(node -> out.add(node.asText()));
        return out;
    }
}
