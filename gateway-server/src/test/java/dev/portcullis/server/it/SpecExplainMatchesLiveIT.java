package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential test of SPEC 2 / 3.10 ("explain and test must say exactly what the running gateway does"): two rich
 * policies, a table of requests, and for each request (a) the live answer of the real gateway on loopback in front of
 * a real upstream, with real inputs (a signed JWT, X-Forwarded-For from a trusted peer, Host, Referer, headers), read
 * from the status, the upstream's record and the access line; (b) the verdict of {@code portcullis test} (one run of
 * the packaged jar over one cases file describing every request) and, for a subset carrying the real token and
 * headers, of {@code portcullis explain --json}; (c) the assertion that status and deciding rule agree, and that
 * both agree with what SPEC / README say the request should get.
 *
 * <p>Rate limits are documented as not simulated by {@code test} / {@code explain} (README "Explaining and testing a
 * policy"): the rate-limited live request is asserted as 429 live and 200 with the same rule offline.
 *
 * <p>Every row agreed when this was written (live, test, explain and SPEC), so there is no disabled
 * "SPEC disagreement" test; a row that starts to disagree fails {@link #testAndExplainSayWhatTheLiveGatewayDoes}
 * with the live access line, the `test` line and the `explain` decision in its message.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecExplainMatchesLiveIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    private static final long CLI_TIMEOUT_SECONDS = 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path jar;
    static RSAKey key;
    static String jwksFile;
    static Path countryDb;
    static Path asnDb;
    /** The time of every request: live requests happen now, cases and explain say so with {@code at}. */
    static Instant at;
    /** A UTC window that is closed now and for the next three hours. */
    static String closedFrom;
    static String closedTo;

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @BeforeAll
    static void setUp() throws Exception {
        jar = Path.of("target", "portcullis.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no packaged jar at " + jar + " (mvn package runs before the ITs)");
        }
        key = JwtMint.rsa("sx-1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        countryDb = MmdbWriter.countries(Map.of(
                        "175.45.176.0/22", "KP",
                        "81.2.69.0/24", "GB",
                        "2a02:2e0::/29", "DE"))
                .buildEpoch(Instant.parse("2025-06-01T12:00:00Z"))
                .write(dir.resolve("country.mmdb"));
        asnDb = MmdbWriter.asns(Map.of("81.2.69.128/25", 64500L, "2a02:2e0:3fe::/48", 64501L))
                .buildEpoch(Instant.parse("2025-07-15T00:30:00Z"))
                .write(dir.resolve("asn.mmdb"));
        at = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        DateTimeFormatter hhmm = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
        closedFrom = hhmm.format(at.plus(Duration.ofHours(3)));
        closedTo = hhmm.format(at.plus(Duration.ofHours(4)));
    }

    // ------------------------------------------------------------------------------------------------ the policies

    /** Default deny, case-sensitive paths, JWT + GeoIP + trusted proxies, every condition kind, two audit rules. */
    private static final String POLICY_A = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 10s
            clients:
              trusted_proxies: ["127.0.0.1/32", "::1/128", "192.0.2.0/24"]
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS}}"
            geoip:
              database: "{{COUNTRY_DB}}"
              asn_database: "{{ASN_DB}}"
            rate_limits:
              tiny: { key: client_ip, limit: 1, per: 1h }
            default: deny
            rules:
              - name: trial-gb-only
                require: { countries: [GB] }
                mode: audit
              - name: block-bad-nets
                match: { ip: ["203.0.113.0/24", "2001:db8:bad::/48"] }
                action: deny
              - name: embargo
                match: { countries: [KP] }
                action: deny
              - name: hosting-shop
                match: { paths: ["/shop/**"], asns: [64500] }
                action: deny
              - name: health
                match: { paths: ["/healthz"], methods: [GET, HEAD] }
              - name: hide-internal
                match: { paths: ["/internal/**"] }
                action: deny
                deny_status: 404
              - name: status-pages
                match: { hosts: ["*.status.test"] }
                require: { methods: [GET] }
              - name: delete-users-admins
                match: { paths: ["/api/users/*"], methods: [DELETE] }
                require: { roles: [admin] }
              - name: gold-orders
                match: { paths: ["/api/orders/**"] }
                require: { claims: { "org.tier": [gold] } }
              - name: api
                match: { paths: ["/api/**"] }
                require: { authenticated: true }
              - name: admin-office
                match: { paths: ["/admin/**"] }
                require: { roles: [admin], ip: ["10.20.0.0/16", "2001:db8:20::/48"] }
              - name: trial-no-delete
                match: { methods: [DELETE, POST] }
                action: deny
                mode: audit
              - name: assets
                match: { paths: ["/assets/**"] }
                require: { referrers: [none, "https://app.example.com/**"] }
              - name: hooks
                match: { paths: ["/hooks/*"], methods: [POST] }
                require: { headers: { X-Hook-Id: [], X-Env: [prod, staging] } }
              - name: batch-always-open
                match: { paths: ["/batch/**"] }
                require:
                  schedule: { days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", timezone: "Europe/Berlin" }
              - name: reports-closed-now
                match: { paths: ["/reports/**"] }
                require: { schedule: { from: "{{CLOSED_FROM}}", to: "{{CLOSED_TO}}", timezone: "UTC" } }
              - name: limited
                match: { paths: ["/limited/**"] }
                rate_limit: tiny
              - name: shop
                match: { paths: ["/shop", "/shop/**"] }
                require: { methods: [GET] }
            """;

    /** Default allow, case-insensitive paths, an audit rule that would deny everything. */
    private static final String POLICY_B = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 10s
              case_insensitive_paths: true
            default: allow
            rules:
              - name: trial-deny-all
                action: deny
                mode: audit
              - name: no-admin
                match: { paths: ["/Admin/**"] }
                action: deny
              - name: secret
                match: { paths: ["/secret/*"] }
                action: deny
                deny_status: 404
              - name: no-kiosk
                match: { paths: ["/kiosk/**"] }
                action: deny
              - name: read-only-docs
                match: { paths: ["/docs/**"] }
                require: { methods: [GET, HEAD] }
              - name: no-override
                match: { headers: { X-HTTP-Method-Override: [] } }
                action: deny
              - name: https-only
                match: { paths: ["/secure/**"] }
                require: { headers: { X-Forwarded-Proto: [https] } }
              - name: prod-only
                match: { paths: ["/env/**"] }
                require: { headers: { X-Env: [prod] } }
            """;

    // ------------------------------------------------------------------------------------------------ the table

    /** A token: subject, roles claim, extra claims; {@code tampered}: signature broken (verification fails). */
    record Tok(String sub, List<String> roles, Map<String, Object> extra, boolean tampered) {
        String mint() {
            JWTClaimsSet.Builder b = JwtMint.claims(sub, roles.toArray(String[]::new));
            extra.forEach(b::claim);
            String t = JwtMint.sign(key, JWSAlgorithm.RS256, b.build());
            return tampered ? JwtMint.tamperSignature(t) : t;
        }
    }

    /** One request of the table, with what SPEC / README say it gets (status, deciding rule or null). */
    static final class Row {
        final String id;
        final String method;
        final String target;
        String host;
        String xff;
        String clientIp = "127.0.0.1";
        String country = "ZZ";
        Long asn = 0L;
        Tok tok;
        final Map<String, String> headers = new LinkedHashMap<>();
        int status;
        String rule;
        String forwardedPath;
        boolean explain;
        /** The offline verdict when it differs by documentation (rate limits are not simulated). */
        Integer offlineStatus;
        String token;

        Row(String id, String method, String target) {
            this.id = id;
            this.method = method;
            this.target = target;
        }

        Row from(String xffHeader, String client, String cc, long as) {
            xff = xffHeader;
            clientIp = client;
            country = cc;
            asn = as;
            return this;
        }

        Row host(String h) {
            host = h;
            return this;
        }

        Row tok(String sub, List<String> roles, Map<String, Object> extra) {
            tok = new Tok(sub, roles, extra, false);
            return this;
        }

        Row tampered(String sub, List<String> roles) {
            tok = new Tok(sub, roles, Map.of(), true);
            return this;
        }

        Row header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        Row expect(int s, String r) {
            status = s;
            rule = r;
            return this;
        }

        Row forwarded(String path) {
            forwardedPath = path;
            return this;
        }

        Row explain() {
            explain = true;
            return this;
        }

        Row offline(int s) {
            offlineStatus = s;
            return this;
        }

        Row noGeo() {
            country = null;
            asn = null;
            return this;
        }

        @Override
        public String toString() {
            return id + " " + method + " " + target + (host != null ? " Host:" + host : "")
                    + (xff != null ? " XFF:" + xff : "") + (tok != null ? " " + tok : "")
                    + (headers.isEmpty() ? "" : " " + headers);
        }
    }

    private static final List<String> ADMIN = List.of("admin");
    private static final List<String> VIEWER = List.of("viewer");

    static List<Row> policyA() {
        List<Row> t = new ArrayList<>();
        // first match, methods, trailing slash
        t.add(new Row("a01", "GET", "/healthz").expect(200, "health").forwarded("/healthz").explain());
        t.add(new Row("a02", "HEAD", "/shop").expect(403, "shop"));
        t.add(new Row("a03", "POST", "/healthz").expect(403, null));
        // client IP behind trusted peers, v4 / v6 / IPv4-mapped, ordering before "health"
        t.add(new Row("a05", "GET", "/healthz").from("203.0.113.9", "203.0.113.9", "ZZ", 0)
                .expect(403, "block-bad-nets").explain());
        t.add(new Row("a06", "GET", "/healthz").from("203.0.113.9, 192.0.2.10", "203.0.113.9", "ZZ", 0)
                .expect(403, "block-bad-nets"));
        t.add(new Row("a07", "GET", "/healthz").header("Forwarded", "for=\"[2001:db8:bad::5]:443\"")
                .from(null, "2001:db8:bad::5", "ZZ", 0).expect(403, "block-bad-nets").explain());
        t.add(new Row("a07b", "GET", "/healthz").from("203.0.113.9, not-an-ip", "127.0.0.1", "ZZ", 0)
                .expect(200, "health"));
        t.add(new Row("a08", "GET", "/healthz").from("::ffff:203.0.113.7", "::ffff:203.0.113.7", "ZZ", 0)
                .expect(403, "block-bad-nets").explain());
        t.add(new Row("a09", "GET", "/healthz").from("175.45.177.9", "175.45.177.9", "KP", 0)
                .expect(403, "embargo").explain());
        t.add(new Row("a10", "GET", "/shop/cart").from("81.2.69.200", "81.2.69.200", "GB", 64500)
                .expect(403, "hosting-shop").explain());
        t.add(new Row("a11", "GET", "/shop/cart").from("81.2.69.5", "81.2.69.5", "GB", 0)
                .expect(200, "shop").forwarded("/shop/cart").explain());
        t.add(new Row("a12", "GET", "/shop").from("2a02:2e0:3fe::9", "2a02:2e0:3fe::9", "DE", 64501)
                .expect(200, "shop"));
        // deny_status 404 and canonicalization (SPEC 3.4)
        t.add(new Row("a13", "GET", "/internal/x").expect(404, "hide-internal"));
        t.add(new Row("a15", "GET", "/%69nternal/x").expect(404, "hide-internal").explain());
        t.add(new Row("a16", "GET", "/assets/%2E%2E/internal/x").expect(404, "hide-internal").explain());
        t.add(new Row("a17", "GET", "//internal//x").expect(404, "hide-internal"));
        t.add(new Row("a18", "GET", "/x/../../internal/y").expect(404, "hide-internal"));
        t.add(new Row("a20", "GET", "/a;b").expect(400, null).explain());
        t.add(new Row("a21", "GET", "/internal%2Fx").expect(400, null));
        // hosts
        t.add(new Row("a22", "GET", "/status").host("api.status.test").expect(200, "status-pages").explain());
        t.add(new Row("a23", "GET", "/status").host("API.Status.TEST:8443").expect(200, "status-pages"));
        t.add(new Row("a24", "GET", "/status").host("status.test").expect(403, null));
        t.add(new Row("a25", "POST", "/status").host("x.status.test").expect(403, "status-pages"));
        // roles, claims, authenticated: 401 versus 403
        t.add(new Row("a26", "DELETE", "/api/users/42").tok("alice", ADMIN, Map.of())
                .expect(200, "delete-users-admins").forwarded("/api/users/42").explain());
        t.add(new Row("a27", "DELETE", "/api/users/42/").tok("alice", ADMIN, Map.of())
                .expect(200, "delete-users-admins").forwarded("/api/users/42/"));
        t.add(new Row("a28", "DELETE", "/api/users/42").tok("bob", VIEWER, Map.of())
                .expect(403, "delete-users-admins"));
        t.add(new Row("a29", "DELETE", "/api/users/42").expect(401, "delete-users-admins"));
        t.add(new Row("a30", "DELETE", "/api/users/42").tampered("alice", ADMIN)
                .expect(401, "delete-users-admins").explain());
        t.add(new Row("a31", "DELETE", "/api/users/").tok("bob", VIEWER, Map.of()).expect(200, "api"));
        t.add(new Row("a32", "GET", "/api/orders/7").tok("carol", VIEWER, Map.of("org", Map.of("tier", "gold")))
                .expect(200, "gold-orders").explain());
        t.add(new Row("a33", "GET", "/api/orders/7").tok("dave", VIEWER, Map.of("org", Map.of("tier", "silver")))
                .expect(403, "gold-orders"));
        t.add(new Row("a34", "GET", "/api/orders/7").expect(401, "gold-orders"));
        t.add(new Row("a35", "GET", "/api/orders/7").tok("eve", VIEWER, Map.of("org.tier", "gold"))
                .expect(403, "gold-orders").explain());
        t.add(new Row("a36", "GET", "/api/things").expect(401, "api"));
        t.add(new Row("a38", "GET", "/admin/panel").from("10.20.3.4", "10.20.3.4", "ZZ", 0)
                .tok("alice", ADMIN, Map.of()).expect(200, "admin-office").explain());
        t.add(new Row("a39", "GET", "//admin//panel").from("2001:db8:20::9", "2001:db8:20::9", "ZZ", 0)
                .tok("alice", ADMIN, Map.of()).expect(200, "admin-office").forwarded("/admin/panel"));
        t.add(new Row("a40", "GET", "/admin/panel").tok("alice", ADMIN, Map.of()).expect(403, "admin-office"));
        t.add(new Row("a40b", "GET", "/admin/panel").from("10.20.3.4", "10.20.3.4", "ZZ", 0)
                .tok("frank", List.of("viewer", "admin"), Map.of("roles", "viewer admin"))
                .expect(200, "admin-office").explain());
        t.add(new Row("a41", "GET", "/admin/panel").from("10.20.3.4", "10.20.3.4", "ZZ", 0)
                .expect(401, "admin-office"));
        t.add(new Row("a42", "GET", "/admin/panel").expect(401, "admin-office").explain());
        t.add(new Row("a43", "GET", "/ADMIN/panel").from("10.20.3.4", "10.20.3.4", "ZZ", 0)
                .tok("alice", ADMIN, Map.of()).expect(403, null));
        // referrers
        t.add(new Row("a44", "GET", "/assets/app.js").expect(200, "assets"));
        t.add(new Row("a45", "GET", "/assets/app.js").header("Referer", "https://app.example.com/home?x=1")
                .expect(200, "assets").explain());
        t.add(new Row("a46", "GET", "/assets/app.js").header("Referer", "https://evil.example.net/app.example.com/")
                .expect(403, "assets"));
        t.add(new Row("a47", "GET", "/assets/app.js").header("Referer", "HTTPS://APP.EXAMPLE.COM:443/p")
                .expect(200, "assets"));
        t.add(new Row("a47b", "GET", "/assets/app.js").header("Referer", "https://user@app.example.com/p")
                .expect(403, "assets").explain());
        // headers
        t.add(new Row("a48", "POST", "/hooks/build").header("X-Hook-Id", "7").header("X-Env", "prod")
                .expect(200, "hooks").explain());
        t.add(new Row("a49", "POST", "/hooks/build").header("X-Hook-Id", "7").header("X-Env", "dev")
                .expect(403, "hooks"));
        // schedules (the case says `at`: the instant of the live request)
        t.add(new Row("a51", "GET", "/batch/run").expect(200, "batch-always-open").explain());
        t.add(new Row("a52", "GET", "/reports/q3").expect(403, "reports-closed-now").explain());
        // a rate limit: capacity 1 per client IP, then 429 live; offline it is not simulated (README)
        t.add(new Row("a53", "GET", "/limited/x").expect(200, "limited"));
        t.add(new Row("a55", "GET", "/limited/x").expect(429, "limited").offline(200));
        return t;
    }

    static List<Row> policyB() {
        List<Row> t = new ArrayList<>();
        t.add(new Row("b01", "GET", "/admin/users").noGeo().expect(403, "no-admin").explain());
        t.add(new Row("b02", "GET", "/ADMIN").noGeo().expect(403, "no-admin"));
        t.add(new Row("b03", "GET", "/%41dmin/x").noGeo().expect(403, "no-admin"));
        t.add(new Row("b04", "GET", "/SECRET/Key/").noGeo().expect(404, "secret").explain());
        t.add(new Row("b04b", "GET", "/%E2%84%AAiosk/x").noGeo().expect(403, "no-kiosk").explain());
        t.add(new Row("b05", "GET", "/adminx").noGeo().expect(200, null).forwarded("/adminx"));
        t.add(new Row("b06", "PUT", "/DOCS/a").noGeo().expect(403, "read-only-docs"));
        t.add(new Row("b07", "GET", "/Docs/./a/").noGeo().expect(200, "read-only-docs").forwarded("/Docs/a/")
                .explain());
        // headers the gateway removes or refuses before any rule runs (127.0.0.1 is no trusted proxy here)
        t.add(new Row("b08", "GET", "/x").noGeo().header("X-HTTP-Method-Override", "DELETE").expect(200, null)
                .explain());
        t.add(new Row("b09", "GET", "/secure/x").noGeo().header("X-Forwarded-Proto", "https")
                .expect(403, "https-only").explain());
        t.add(new Row("b10", "GET", "/x").noGeo().host("x..docs.test").expect(400, null).explain());
        t.add(new Row("b11", "GET", "/env/x").noGeo().header("X-Env", "prod").header("X_Env", "dev")
                .expect(400, null).explain());
        t.add(new Row("b12", "GET", "/env/x").noGeo().header("X-Env", "prod").expect(200, "prod-only"));
        // framing the gateway refuses before any rule runs (README "Status codes"); no body is sent after the head
        t.add(new Row("b13", "GET", "/x").noGeo().header("Content-Length", "5").expect(400, null).explain());
        t.add(new Row("b14", "DELETE", "/x").noGeo().header("Transfer-Encoding", "gzip").expect(400, null).explain());
        t.add(new Row("b15", "DELETE", "/x").noGeo().header("Transfer_Encoding", "chunked").expect(400, null)
                .explain());
        t.add(new Row("b16", "DELETE", "/x").noGeo().header("Transfer-Encoding", "chunked")
                .header("Content-Length", "3").expect(400, null).explain());
        t.add(new Row("b17", "DELETE", "/x").noGeo().header("Content-Length", "99999999999").expect(413, null)
                .explain());
        t.add(new Row("b18", "DELETE", "/x").noGeo().header("Content-Length", "0").expect(200, null));
        // the decoder's failures come before the method is looked at: 400, not TRACE's 405
        t.add(new Row("b19", "TRACE", "/x").noGeo().header("Content-Length", "abc").expect(400, null).explain());
        t.add(new Row("b20", "DELETE", "/x").noGeo().header("X Bad", "1").expect(400, null).explain());
        return t;
    }

    // ------------------------------------------------------------------------------------------------ the tests

    @Test
    void testAndExplainSayWhatTheLiveGatewayDoes() throws Exception {
        Path a = writePolicy("a", POLICY_A);
        Path b = writePolicy("b", POLICY_B);
        SoftAssertions soft = new SoftAssertions();
        compare(a, policyA(), soft);
        compare(b, policyB(), soft);
        soft.assertAll();
    }

    // ------------------------------------------------------------------------------------------------ machinery

    record Live(int status, String wwwAuthenticate, boolean upstreamSaw, String upstreamPath, String rule, String decision, String reason,
            String path, List<String> audit) {
    }

    record Verdict(int status, String rule, String detail) {
    }

    private Path writePolicy(String name, String yaml) throws Exception {
        Map<String, String> vars = new HashMap<>();
        vars.put("JWKS", jwksFile);
        vars.put("COUNTRY_DB", countryDb.toString());
        vars.put("ASN_DB", asnDb.toString());
        vars.put("CLOSED_FROM", closedFrom);
        vars.put("CLOSED_TO", closedTo);
        Path file = dir.resolve("policy-" + name + ".yaml");
        Files.writeString(file, harness.fill(yaml, vars));
        return file;
    }

    private void compare(Path policy, List<Row> rows, SoftAssertions soft) throws Exception {
        for (Row r : rows) {
            if (r.tok != null) {
                r.token = r.tok.mint();
            }
        }
        // (b) offline first: one `test` run over every row, explain for the marked ones (two at a time)
        Map<String, Verdict> tested = runTest(policy, rows);
        Map<String, JsonNode> explained = runExplains(policy, rows);

        // (a) live
        Gateway gw = harness.startFile(policy);
        Map<String, Live> live = new LinkedHashMap<>();
        for (Row r : rows) {
            live.put(r.id, sendLive(gw, r));
        }
        // nothing denied reached the upstream (one quiet period for the whole table)
        Thread.sleep(300);
        for (Row r : rows) {
            Live l = live.get(r.id);
            boolean seen = harness.upstream().requests().stream()
                    .anyMatch(q -> q.header("X-Sx-Row").filter(r.id::equals).isPresent());
            live.put(r.id, new Live(l.status, l.wwwAuthenticate, seen, l.upstreamPath, l.rule, l.decision, l.reason, l.path, l.audit));
        }
        gw.close();

        // (c) compare; the cases expect what SPEC says, so every case passes when `test` agrees with SPEC
        Cli testRun = TEST_OUTPUT.get(policy.getFileName().toString());
        soft.assertThat(testRun.out.lines().reduce((x, y) -> y).orElse(""))
                .as("`test` summary for %s:%n%s", policy, testRun.all()).isEqualTo(rows.size() + " passed, 0 failed");
        soft.assertThat(testRun.exit).as("`test` exit for %s", policy).isZero();
        soft.assertThat(tested.keySet()).as("`test` printed one verdict per case")
                .containsExactlyInAnyOrderElementsOf(rows.stream().map(x -> x.id).toList());
        for (Row r : rows) {
            Live l = live.get(r.id);
            String what = r + "\n  live: " + l + "\n  test: " + tested.get(r.id)
                    + (explained.containsKey(r.id) ? "\n  explain: " + explained.get(r.id).path("decision") : "");
            soft.assertThat(l.status).as("live status (SPEC) of %s", what).isEqualTo(r.status);
            soft.assertThat(l.rule).as("live access-line rule (SPEC) of %s", what).isEqualTo(r.rule);
            soft.assertThat(l.upstreamSaw).as("upstream saw %s", what).isEqualTo(r.status == 200);
            if (r.status == 200 || r.status == 403 || r.status == 401 || r.status == 404) {
                soft.assertThat(l.decision).as("live decision of %s", what).isEqualTo(r.status == 200 ? "allow" : "deny");
            }
            if (r.status == 401) {
                soft.assertThat(l.wwwAuthenticate).as("WWW-Authenticate of %s", what)
                        .startsWith("Bearer realm=\"portcullis\"");
                boolean rejected = r.tok != null && r.tok.tampered();
                soft.assertThat(l.wwwAuthenticate != null && l.wwwAuthenticate.contains("error=\"invalid_token\""))
                        .as("invalid_token exactly when a token was rejected, %s", what).isEqualTo(rejected);
                if (explained.containsKey(r.id)) {
                    soft.assertThat(text(explained.get(r.id).at("/identity/token_rejected")))
                            .as("explain names the rejected token of %s", what).isEqualTo(rejected ? "bad_signature" : null);
                }
            }
            if (r.forwardedPath != null) {
                soft.assertThat(l.upstreamPath).as("path the upstream received for %s", what).isEqualTo(r.forwardedPath);
            }
            int offline = r.offlineStatus != null ? r.offlineStatus : l.status;
            Verdict v = tested.get(r.id);
            soft.assertThat(v).as("`test` printed a verdict for %s", what).isNotNull();
            if (v != null) {
                soft.assertThat(v.status).as("`test` status equals live for %s", what).isEqualTo(offline);
                soft.assertThat(v.rule).as("`test` rule equals live for %s", what).isEqualTo(l.rule);
            }
            JsonNode e = explained.get(r.id);
            if (e != null && (r.status == 400 || r.status == 413 || r.status == 414)) {
                soft.assertThat(text(e.get("rejected"))).as("`explain` names the live access line's reason for %s", what)
                        .isEqualTo(l.reason);
            }
            if (e != null) {
                soft.assertThat(e.path("status").asInt()).as("`explain` status equals live for %s", what)
                        .isEqualTo(offline);
                soft.assertThat(text(e.at("/decision/rule"))).as("`explain` rule equals live for %s", what)
                        .isEqualTo(l.rule);
                if (l.status != 400) {
                    List<String> audit = new ArrayList<>();
                    e.at("/decision/audit").forEach(x -> audit.add(x.path("rule").asText() + "=" + x.path("effect").asText()));
                    soft.assertThat(audit).as("`explain` audit outcomes equal the live access line's for %s", what)
                            .isEqualTo(l.audit);
                    soft.assertThat(e.at("/request/path").asText()).as("`explain` canonical path equals the access line's for %s", what)
                            .isEqualTo(l.path);
                }
            }
        }
    }

    private Live sendLive(Gateway gw, Row r) throws Exception {
        StringBuilder req = new StringBuilder(r.method).append(' ').append(r.target).append(" HTTP/1.1\r\n");
        req.append("Host: ").append(r.host != null ? r.host : gw.authority()).append("\r\n");
        req.append("X-Request-Id: sx-").append(r.id).append("\r\n");
        req.append("X-Sx-Row: ").append(r.id).append("\r\n");
        if (r.xff != null) {
            req.append("X-Forwarded-For: ").append(r.xff).append("\r\n");
        }
        if (r.token != null) {
            req.append("Authorization: Bearer ").append(r.token).append("\r\n");
        }
        r.headers.forEach((n, v) -> req.append(n).append(": ").append(v).append("\r\n"));
        if (r.method.equals("POST") || r.method.equals("PUT")) {
            req.append("Content-Length: 0\r\n");
        }
        req.append("\r\n");
        RawResponse resp = RawHttp.exchange(gw.port(), req.toString());
        String upstreamPath = null;
        if (resp.status() == 200) {
            RecordedRequest seen = harness.upstream().awaitRequest(
                    q -> q.header("X-Sx-Row").filter(r.id::equals).isPresent(), Duration.ofSeconds(5));
            upstreamPath = seen == null ? null : seen.path();
        }
        JsonNode line = access.jsonLineFor("sx-" + r.id);
        List<String> audit = new ArrayList<>();
        line.path("audit").forEach(x -> audit.add(x.path("rule").asText() + "=" + x.path("decision").asText()));
        return new Live(resp.status(), resp.header("WWW-Authenticate").orElse(null), resp.status() == 200, upstreamPath, text(line.get("rule")),
                text(line.get("decision")), text(line.get("reason")), text(line.get("path")), audit);
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n.asText();
    }

    /** The `request` of a `portcullis test` case describing {@code r} as the gateway would see it. */
    private static Map<String, Object> caseRequest(Row r) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("method", r.method);
        q.put("path", r.target);
        q.put("ip", r.clientIp);
        if (r.host != null) {
            q.put("host", r.host);
        }
        if (!r.headers.isEmpty()) {
            q.put("headers", new LinkedHashMap<>(r.headers));
        }
        if (r.country != null) {
            q.put("country", r.country);
        }
        if (r.asn != null) {
            q.put("asn", r.asn);
        }
        if (r.tok != null && !r.tok.tampered()) {
            q.put("subject", r.tok.sub());
            q.put("roles", r.tok.roles());
            Map<String, Object> claims = new LinkedHashMap<>();
            claims.put("sub", r.tok.sub());
            claims.put("roles", r.tok.roles());
            claims.putAll(r.tok.extra());
            q.put("jwt_claims", claims);
        }
        // a tampered token leaves the request anonymous (SPEC 3.5): the case has no identity
        q.put("at", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(at.atOffset(ZoneOffset.UTC)));
        return q;
    }

    private static final Pattern PASS = Pattern.compile("^PASS  (\\S+?): (\\d{3}), (?:rule (\\S+)|no rule).*$");
    private static final Pattern FAIL = Pattern.compile(
            "^FAIL  (\\S+?) \\(.*?\\): expected .*?; got (\\d{3}), (?:rule (\\S+)|no rule)(.*)$");

    private static final Map<String, Cli> TEST_OUTPUT = new HashMap<>();

    private static Map<String, Verdict> runTest(Path policy, List<Row> rows) throws Exception {
        List<Map<String, Object>> cases = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> expect = new LinkedHashMap<>();
            expect.put("status", r.offlineStatus != null ? r.offlineStatus : r.status);
            if (r.rule != null) {
                expect.put("rule", r.rule);
            }
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", r.id);
            c.put("request", caseRequest(r));
            c.put("expect", expect);
            cases.add(c);
        }
        Path file = dir.resolve("cases-" + policy.getFileName());
        YAML.writeValue(file.toFile(), Map.of("cases", cases));
        Cli res = cli("test", "-c", policy.toString(), file.toString());
        assertThat(res.out).as("test over %s:%n%s", file, res.all()).contains(" passed, ");
        TEST_OUTPUT.put(policy.getFileName().toString(), res);
        Map<String, Verdict> out = new HashMap<>();
        for (String line : res.out.lines().toList()) {
            Matcher m = PASS.matcher(line);
            if (m.matches()) {
                out.put(m.group(1), new Verdict(Integer.parseInt(m.group(2)), m.group(3), line));
                continue;
            }
            m = FAIL.matcher(line);
            if (m.matches()) {
                out.put(m.group(1), new Verdict(Integer.parseInt(m.group(2)), m.group(3), line));
            }
        }
        return out;
    }

    private static Map<String, JsonNode> runExplains(Path policy, List<Row> rows) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Map<String, Future<Cli>> pending = new LinkedHashMap<>();
            for (Row r : rows) {
                if (!r.explain) {
                    continue;
                }
                List<String> args = new ArrayList<>(List.of("explain", "-c", policy.toString(), "--method", r.method,
                        "--path", r.target, "--ip", r.clientIp, "--json",
                        "--at", DateTimeFormatter.ISO_INSTANT.format(at)));
                if (r.host != null) {
                    args.addAll(List.of("--host", r.host));
                }
                if (r.token != null) {
                    args.addAll(List.of("--header", "Authorization: Bearer " + r.token));
                }
                r.headers.forEach((n, v) -> args.addAll(List.of("--header", n + ": " + v)));
                pending.put(r.id, pool.submit(() -> cli(args.toArray(String[]::new))));
            }
            Map<String, JsonNode> out = new HashMap<>();
            for (Map.Entry<String, Future<Cli>> e : pending.entrySet()) {
                Cli res = e.getValue().get(CLI_TIMEOUT_SECONDS + 10, TimeUnit.SECONDS);
                assertThat(res.exit).as("explain for %s:%n%s", e.getKey(), res.all()).isZero();
                out.put(e.getKey(), JSON.readTree(res.out));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    record Cli(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "\n[stdout]\n" + out + "[stderr]\n" + err;
        }
    }

    private static Cli cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().remove("PORTCULLIS_CONFIG");
        Process process = builder.start();
        if (!process.waitFor(CLI_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            fail("portcullis %s did not exit within %d s", String.join(" ", args), CLI_TIMEOUT_SECONDS);
        }
        return new Cli(process.exitValue(), Files.readString(out), Files.readString(err));
    }
}
