package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Black-box checks of the access line (SPEC 4, README "Logs") field by field, for outcomes the other access-log
 * tests do not cover: keep-alive and pipelined requests (one line each, HEAD, chunked), bodiless and error
 * statuses relayed from the upstream, Expect: 100-continue, a slow upstream (duration_ms, ts), 502/504 and an
 * upstream that dies mid-body ({@code error} codes), clients that go away before or during the response, the
 * client IP walk and its GeoIP country, the subject of JWT and forwarded identities, rule/decision/reason of
 * ip-deny, deny_status 404 and default, secrets on failure paths, and hostile bytes through a real process's stdout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecAccessLogCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();

    /*
     * One policy: loopback and 10/8 are trusted proxies (so X-Forwarded-For from the test is believed) and loopback
     * is the authenticating proxy; a country database; a JWT provider; a short response_timeout for 504.
     * {{UP_PORT}} is the upstream (the harness's, or a dead port), {{TRUSTED}} the clients.trusted_proxies list.
     */
    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UP_PORT}}"
              connect_timeout: 1s
              response_timeout: 1500ms
            clients:
              trusted_proxies: {{TRUSTED}}
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
              forwarded:
                trusted_proxies: ["127.0.0.1/32"]
                user_header: "X-Forwarded-User"
                roles_header: "X-Forwarded-Groups"
            geoip:
              database: "{{COUNTRY_DB}}"
            default: deny
            rules:
              - name: block-abusive-networks
                match: { ip: ["203.0.113.0/24"] }
                action: deny
              - name: api
                match: { paths: ["/api/**"] }
                require: { authenticated: true }
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
              - name: hidden
                match: { paths: ["/hidden/**"] }
                action: deny
                deny_status: 404
              - name: upstream-routes
                match: { paths: ["/_up/**", "/open/**"] }
            """;

    private static final List<String> RULE_NAMES =
            List.of("block-abusive-networks", "api", "admin", "hidden", "upstream-routes");

    static RSAKey key;
    static RSAKey attacker;
    static String jwksFile;
    static Path countryDb;

    private LogCapture access;
    private LogCapture operational;
    private Logger projectLogger;
    private Level projectLevel;

    @BeforeAll
    static void fixtures() throws Exception {
        key = JwtMint.rsa("k1");
        attacker = JwtMint.rsa("k1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        countryDb = MmdbWriter.countries(Map.of("81.2.69.0/24", "GB", "2a02:2e0::/29", "DE"))
                .buildEpoch(Instant.parse("2025-06-01T12:00:00Z"))
                .write(dir.resolve("country.mmdb"));
    }

    @BeforeEach
    void capture() {
        projectLogger = (Logger) LoggerFactory.getLogger("dev.portcullis");
        projectLevel = projectLogger.getLevel();
        projectLogger.setLevel(Level.DEBUG);
        access = LogCapture.attach("portcullis.access");
        operational = LogCapture.attach(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    @AfterEach
    void release() {
        access.detach();
        operational.detach();
        projectLogger.setLevel(projectLevel);
    }

    // ------------------------------------------------------------------ helpers

    private static Map<String, String> vars(int upstreamPort, String trusted) {
        Map<String, String> v = new HashMap<>();
        v.put("UP_PORT", Integer.toString(upstreamPort));
        v.put("TRUSTED", trusted);
        v.put("JWKS_FILE", jwksFile);
        v.put("COUNTRY_DB", countryDb.toString());
        return v;
    }

    /** The gateway in front of the harness's upstream, loopback and 10/8 trusted. */
    private static Gateway start() throws Exception {
        return harness.startYaml(dir, CONFIG, vars(harness.upstream().port(), "[\"127.0.0.1/32\", \"10.0.0.0/8\"]"));
    }

    private static String req(Gateway gw, String method, String target, String... headerLines) {
        StringBuilder sb = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: ")
                .append(gw.authority()).append("\r\n");
        for (String h : headerLines) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    private JsonNode lineOf(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id").orElseThrow(() -> new AssertionError("no X-Request-Id: " + r)));
    }

    private List<JsonNode> allLines() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ILoggingEvent e : access.snapshot()) {
            out.add(JSON.readTree(e.getFormattedMessage()));
        }
        return out;
    }

    private long linesWithId(String id) throws Exception {
        return allLines().stream().filter(l -> id.equals(l.path("request_id").asText(null))).count();
    }

    /**
     * Barrier for "no further line for the earlier requests": a later request on a fresh connection whose own line
     * is awaited; duplicates written when an earlier connection ended have had the time to show up.
     */
    private void barrier(Gateway gw, String id) throws Exception {
        RawResponse r = RawHttp.exchange(gw.port(), req(gw, "GET", "/open/barrier", "X-Request-Id: " + id,
                "Connection: close"));
        assertThat(r.status()).isEqualTo(200);
        access.jsonLineFor(id);
    }

    private static boolean isNull(JsonNode line, String field) {
        return line.has(field) && line.get(field).isNull();
    }

    /** Reads what is left on the connection until EOF/reset or {@code max} bytes; returns the count. */
    private static long drain(InputStream in, long max) throws IOException {
        byte[] buf = new byte[8192];
        long n = 0;
        try {
            int k;
            while (n < max && (k = in.read(buf)) >= 0) {
                n += k;
            }
        } catch (SocketException reset) {
            // a reset ends the body too
        }
        return n;
    }

    // ------------------------------------------------------------------ one line per request

    /**
     * SPEC 4 "One JSON line per request": three requests pipelined on one keep-alive connection (GET with a
     * Content-Length body, HEAD, GET with a chunked body) get one line each, with their own request_id, method and
     * status, and bytes_out the body bytes each response carried: none for HEAD, the decoded payload for chunked.
     */
    @Test
    void pipelinedKeepAliveRequestsIncludingHeadGetOneLineEachWithTheirOwnBytesOut() throws Exception {
        Gateway gw = start();
        try (RawHttp raw = gw.raw()) {
            raw.send(req(gw, "GET", "/_up/bytes/1000", "X-Request-Id: pl-get")
                    + req(gw, "HEAD", "/_up/bytes/1000", "X-Request-Id: pl-head")
                    + req(gw, "GET", "/_up/chunked/20000", "X-Request-Id: pl-chunked"));
            RawResponse get = raw.readResponse();
            RawResponse head = raw.readResponse(true);
            RawResponse chunked = raw.readResponse();
            assertThat(List.of(get.status(), head.status(), chunked.status())).containsExactly(200, 200, 200);
            assertThat(get.body()).hasSize(1000);
            assertThat(chunked.body()).hasSize(20000);
        }
        barrier(gw, "pl-barrier");

        JsonNode g = access.jsonLineFor("pl-get");
        JsonNode h = access.jsonLineFor("pl-head");
        JsonNode c = access.jsonLineFor("pl-chunked");
        for (String id : List.of("pl-get", "pl-head", "pl-chunked")) {
            assertThat(linesWithId(id)).as("lines with request_id %s", id).isEqualTo(1);
        }
        assertThat(g.get("method").asText()).isEqualTo("GET");
        assertThat(h.get("method").asText()).isEqualTo("HEAD");
        assertThat(c.get("path").asText()).isEqualTo("/_up/chunked/20000");
        for (JsonNode l : List.of(g, h, c)) {
            assertThat(l.get("status").asInt()).as("%s", l).isEqualTo(200);
            assertThat(l.get("upstream_status").asInt()).as("%s", l).isEqualTo(200);
            assertThat(l.get("decision").asText()).as("%s", l).isEqualTo("allow");
            assertThat(l.get("rule").asText()).as("%s", l).isEqualTo("upstream-routes");
            assertThat(l.has("error")).as("no error on a complete exchange: %s", l).isFalse();
        }
        assertThat(g.get("bytes_out").asLong()).as("%s", g).isEqualTo(1000);
        assertThat(h.get("bytes_out").asLong()).as("HEAD sends no body: %s", h).isEqualTo(0);
        assertThat(c.get("bytes_out").asLong()).as("chunked payload: %s", c).isEqualTo(20000);
    }

    /**
     * Proxied bodiless and error statuses: the line carries the upstream's status as both status and
     * upstream_status (the gateway did not answer itself), bytes_out 0 for 204/304 and the body length for a
     * relayed 503, decision allow; one line each on one keep-alive connection.
     */
    @Test
    void relayed204And304And503AreLoggedAsUpstreamAnswers() throws Exception {
        Gateway gw = start();
        harness.upstream().handler(rq -> switch (rq.path()) {
            case "/_up/no-content" -> (r, out) -> {
                out.write("HTTP/1.1 204 No Content\r\nX-Up: 1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                return true;
            };
            case "/_up/not-modified" -> (r, out) -> {
                out.write("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                return true;
            };
            case "/_up/unavailable" -> Reply.fixed(503, "Service Unavailable", List.of(),
                    "upstream maintenance".getBytes(StandardCharsets.US_ASCII));
            default -> Reply.echo();
        });
        try (RawHttp raw = gw.raw()) {
            RawResponse nc = raw.send(req(gw, "GET", "/_up/no-content", "X-Request-Id: st-204")).readResponse();
            RawResponse nm = raw.send(req(gw, "GET", "/_up/not-modified", "X-Request-Id: st-304",
                    "If-None-Match: \"v1\"")).readResponse();
            RawResponse un = raw.send(req(gw, "GET", "/_up/unavailable", "X-Request-Id: st-503")).readResponse();
            assertThat(List.of(nc.status(), nm.status(), un.status())).containsExactly(204, 304, 503);
            assertThat(un.bodyText()).isEqualTo("upstream maintenance");
        }
        barrier(gw, "st-barrier");

        Map<String, int[]> expected = Map.of("st-204", new int[] {204, 0}, "st-304", new int[] {304, 0},
                "st-503", new int[] {503, "upstream maintenance".length()});
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            JsonNode l = access.jsonLineFor(e.getKey());
            assertThat(linesWithId(e.getKey())).as("lines for %s", e.getKey()).isEqualTo(1);
            assertThat(l.get("status").asInt()).as("%s", l).isEqualTo(e.getValue()[0]);
            assertThat(l.get("upstream_status").asInt()).as("%s", l).isEqualTo(e.getValue()[0]);
            assertThat(l.get("bytes_out").asLong()).as("%s", l).isEqualTo(e.getValue()[1]);
            assertThat(l.get("decision").asText()).as("%s", l).isEqualTo("allow");
            assertThat(l.get("rule").asText()).as("%s", l).isEqualTo("upstream-routes");
            assertThat(l.has("error")).as("%s", l).isFalse();
        }
    }

    /**
     * Expect: 100-continue on an allowed request: the interim 100 is not a response of its own in the log; exactly
     * one line, with the final status 200 and bytes_out the echoed body.
     */
    @Test
    void expectContinueGivesOneLineWithTheFinalStatusNotThe100() throws Exception {
        Gateway gw = start();
        byte[] body = "hello there".getBytes(StandardCharsets.US_ASCII);
        try (RawHttp raw = gw.raw()) {
            raw.send(req(gw, "POST", "/_up/echo", "X-Request-Id: ec-1", "Expect: 100-continue",
                    "Content-Length: " + body.length));
            RawResponse interim = raw.readResponse();
            assertThat(interim.status()).isEqualTo(100);
            raw.send(body);
            RawResponse fin = raw.readResponse();
            assertThat(fin.status()).isEqualTo(200);
            assertThat(fin.body()).isEqualTo(body);
        }
        barrier(gw, "ec-barrier");
        JsonNode l = access.jsonLineFor("ec-1");
        assertThat(linesWithId("ec-1")).isEqualTo(1);
        assertThat(l.get("status").asInt()).isEqualTo(200);
        assertThat(l.get("upstream_status").asInt()).isEqualTo(200);
        assertThat(l.get("method").asText()).isEqualTo("POST");
        assertThat(l.get("bytes_out").asLong()).isEqualTo(body.length);
    }

    // ------------------------------------------------------------------ ts, duration_ms

    /**
     * A slow upstream (400 ms): duration_ms covers the wait and not more than the client's own wall time, has at
     * most three decimals (README "duration_ms (three decimals)"); ts is an ISO-8601 UTC instant within the
     * exchange; request_id is the id the upstream was sent and the client got back (a generated one).
     */
    @Test
    void slowUpstreamDurationIsPlausibleWithThreeDecimalsAndTsIsWithinTheExchange() throws Exception {
        Gateway gw = start();
        Instant before = Instant.now();
        long t0 = System.nanoTime();
        RawResponse r = RawHttp.exchange(gw.port(), req(gw, "GET", "/_up/delay/400", "Connection: close"));
        double wallMs = (System.nanoTime() - t0) / 1e6;
        assertThat(r.status()).isEqualTo(200);
        String id = r.header("X-Request-Id").orElseThrow();
        RecordedRequest up = harness.upstream().awaitRequest(q -> q.path().equals("/_up/delay/400"), Duration.ofSeconds(5));
        assertThat(up.header("X-Request-Id")).contains(id);

        JsonNode l = access.jsonLineFor(id);
        assertThat(l.get("duration_ms").asDouble()).as("%s", l).isBetween(400.0, wallMs + 1.0);
        String rawLine = access.snapshot().stream().map(ILoggingEvent::getFormattedMessage)
                .filter(s -> s.contains("\"" + id + "\"")).findFirst().orElseThrow();
        // "three decimals": rounded to the microsecond (a JSON number drops trailing zeros, e.g. 3.22)
        assertThat(rawLine).as("duration_ms with at most three decimals")
                .containsPattern("\"duration_ms\":\\d+(\\.\\d{1,3})?[,}]");
        Instant seen = Instant.now();
        // SPEC/README do not say whether ts is the request's arrival or its completion: only that it is an
        // ISO-8601 UTC instant of this exchange, i.e. not before the request was sent nor after its line appeared
        String ts = l.get("ts").asText();
        assertThat(ts).endsWith("Z");
        assertThat(Instant.parse(ts)).isBetween(before.minusMillis(1), seen);
    }

    // ------------------------------------------------------------------ upstream failures

    /**
     * 504: no response head within response_timeout (1.5 s). Gateway-made, so upstream_status null; the policy's
     * rule and decision stay; error upstream_timeout; duration at least the timeout; bytes_out the error body.
     */
    @Test
    void upstreamTimeoutIsLoggedWithErrorUpstreamTimeoutAndTheRuleThatAllowed() throws Exception {
        Gateway gw = start();
        RawResponse r = RawHttp.exchange(gw.port(), req(gw, "GET", "/_up/delay/4000", "Connection: close"));
        assertThat(r.status()).isEqualTo(504);
        JsonNode l = lineOf(r);
        assertThat(l.get("status").asInt()).isEqualTo(504);
        assertThat(isNull(l, "upstream_status")).as("%s", l).isTrue();
        assertThat(l.get("rule").asText()).isEqualTo("upstream-routes");
        assertThat(l.get("decision").asText()).isEqualTo("allow");
        assertThat(l.path("error").asText()).as("%s", l).isEqualTo("upstream_timeout");
        assertThat(l.get("duration_ms").asDouble()).isGreaterThanOrEqualTo(1400.0);
        assertThat(l.get("bytes_out").asLong()).isEqualTo(r.body().length);
    }

    /**
     * 502 from an unreachable upstream: error upstream_unreachable, rule and decision kept, upstream_status null,
     * bytes_out the error body; and neither the access line nor any operational message (at DEBUG) holds the
     * Authorization value, a cookie or the query string (README "What is never logged").
     */
    @Test
    void unreachableUpstreamIsLoggedWithErrorUpstreamUnreachableAndNoSecretsAnywhere() throws Exception {
        Gateway gw = harness.startYaml(dir, CONFIG, vars(GatewayHarness.deadPort(), "[\"127.0.0.1/32\"]"));
        String basic = Base64.getEncoder().encodeToString("svc:pw-basic-5e1d".getBytes(StandardCharsets.US_ASCII));
        RawResponse r = RawHttp.exchange(gw.port(), req(gw, "GET", "/_up/x?api_key=qs-502-a9c4",
                "Authorization: Basic " + basic, "Cookie: session=cookie-502-77e0", "Connection: close"));
        assertThat(r.status()).isEqualTo(502);
        JsonNode l = lineOf(r);
        assertThat(l.get("status").asInt()).isEqualTo(502);
        assertThat(isNull(l, "upstream_status")).as("%s", l).isTrue();
        assertThat(l.get("rule").asText()).isEqualTo("upstream-routes");
        assertThat(l.get("decision").asText()).isEqualTo("allow");
        assertThat(l.path("error").asText()).as("%s", l).isEqualTo("upstream_unreachable");
        assertThat(l.get("path").asText()).isEqualTo("/_up/x");
        assertThat(l.get("bytes_out").asLong()).isEqualTo(r.body().length);
        String everything = access.text() + operational.text();
        for (String secret : List.of(basic, "pw-basic-5e1d", "qs-502-a9c4", "api_key", "cookie-502-77e0")) {
            assertThat(everything).as("logged: %s", secret).doesNotContain(secret);
        }
    }

    /**
     * An upstream that announces 100000 bytes and closes after 30000: the client got a 200 head and 30000 bytes;
     * the line says status 200 / upstream_status 200, error upstream_closed_mid_response (README), bytes_out the
     * 30000 bytes actually sent, and the query string of the request is nowhere in the logs.
     */
    @Test
    void upstreamDyingMidBodyIsLoggedWithErrorAndTheBytesActuallySent() throws Exception {
        Gateway gw = start();
        harness.upstream().handler(rq -> rq.path().equals("/_up/broken") ? Reply.truncated(100_000, 30_000)
                : Reply.echo());
        long received;
        RawResponse head;
        try (RawHttp raw = gw.raw()) {
            raw.send(req(gw, "GET", "/_up/broken?sig=qs-mid-31f7", "X-Request-Id: mid-1"));
            head = raw.readHead();
            received = drain(raw.inputStream(), 200_000);
        }
        assertThat(head.status()).isEqualTo(200);
        assertThat(received).isEqualTo(30_000);
        JsonNode l = access.jsonLineFor("mid-1");
        assertThat(l.get("status").asInt()).as("%s", l).isEqualTo(200);
        assertThat(l.get("upstream_status").asInt()).as("%s", l).isEqualTo(200);
        assertThat(l.get("decision").asText()).isEqualTo("allow");
        assertThat(l.get("rule").asText()).isEqualTo("upstream-routes");
        assertThat(l.path("error").asText()).as("%s", l).isEqualTo("upstream_closed_mid_response");
        assertThat(l.get("bytes_out").asLong()).as("%s", l).isEqualTo(30_000);
        barrier(gw, "mid-barrier");
        assertThat(linesWithId("mid-1")).isEqualTo(1);
        assertThat(access.text() + operational.text()).doesNotContain("qs-mid-31f7");
    }

    // ------------------------------------------------------------------ clients that go away

    /**
     * README: "A client that goes away before its response is logged with status 499" and error client_closed;
     * the policy's rule and decision stay on the line; one line.
     */
    @Test
    void clientGoneBeforeTheResponseIsLoggedOnceWith499AndClientClosed() throws Exception {
        Gateway gw = start();
        CountDownLatch answered = new CountDownLatch(1);
        harness.upstream().handler(rq -> rq.path().equals("/_up/delay/800")
                ? (r, out) -> {
                    boolean keep = Reply.delayed(Duration.ofMillis(800), Reply.echo()).write(r, out);
                    out.flush();
                    answered.countDown();
                    return keep;
                }
                : Reply.echo());
        try (RawHttp raw = gw.raw()) {
            raw.send(req(gw, "GET", "/_up/delay/800", "X-Request-Id: gone-early"));
            harness.upstream().awaitHeads(1, Duration.ofSeconds(5));
        } // closed while the upstream is still thinking
        JsonNode l = access.jsonLineFor("gone-early");
        assertThat(l.get("status").asInt()).as("%s", l).isEqualTo(499);
        assertThat(l.path("error").asText()).as("%s", l).isEqualTo("client_closed");
        assertThat(l.get("rule").asText()).as("%s", l).isEqualTo("upstream-routes");
        assertThat(l.get("decision").asText()).as("%s", l).isEqualTo("allow");
        assertThat(l.get("bytes_out").asLong()).as("%s", l).isEqualTo(0);
        // the upstream's late answer (or its failure to write it) must not produce a second line
        assertThat(answered.await(5, TimeUnit.SECONDS)).isTrue();
        barrier(gw, "gone-early-barrier");
        assertThat(linesWithId("gone-early")).isEqualTo(1);
    }

    /**
     * A client that reads the head and a little of a slowly trickling 320 KiB body, then closes: one line, error
     * client_closed, the upstream's 200 as upstream_status, bytes_out below the full body.
     */
    @Test
    void clientGoneMidResponseIsLoggedOnceWithClientClosedAndPartialBytes() throws Exception {
        Gateway gw = start();
        harness.upstream().handler(rq -> rq.path().equals("/_up/trickle")
                ? Reply.slowBody(40, 8192, Duration.ofMillis(50)) : Reply.echo());
        try (RawHttp raw = gw.raw()) {
            raw.send(req(gw, "GET", "/_up/trickle", "X-Request-Id: gone-mid"));
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(raw.inputStream().readNBytes(8192)).hasSize(8192);
        }
        JsonNode l = access.jsonLineFor("gone-mid");
        assertThat(l.path("error").asText()).as("%s", l).isEqualTo("client_closed");
        assertThat(l.get("upstream_status").asInt()).as("%s", l).isEqualTo(200);
        assertThat(l.get("decision").asText()).isEqualTo("allow");
        assertThat(l.get("bytes_out").asLong()).as("%s", l).isBetween(8192L, 40L * 8192 - 1);
        barrier(gw, "gone-mid-barrier");
        assertThat(linesWithId("gone-mid")).isEqualTo(1);
    }

    // ------------------------------------------------------------------ client_ip, country

    /**
     * SPEC 3.3 behind trusted proxies (loopback, 10/8): several X-Forwarded-For headers are joined in order and
     * walked from the right; a non-IP entry stops the walk at the last valid address seen; Forwarded: for= is used
     * without X-Forwarded-For. client_ip is what the walk found, country its GeoIP code (ZZ for private).
     */
    @Test
    void clientIpAndCountryFollowTheTrustedProxyWalk() throws Exception {
        Gateway gw = start();
        record Case(String label, List<String> headers, String ip, String country) { }
        List<Case> cases = List.of(
                new Case("one hop", List.of("X-Forwarded-For: 81.2.69.5"), "81.2.69.5", "GB"),
                new Case("trusted hop skipped", List.of("X-Forwarded-For: 81.2.69.5, 10.0.0.2"), "81.2.69.5", "GB"),
                new Case("two headers joined", List.of("X-Forwarded-For: 81.2.69.5", "X-Forwarded-For: 10.1.1.1"),
                        "81.2.69.5", "GB"),
                new Case("walk stops at a non-IP", List.of("X-Forwarded-For: 81.2.69.5, bogus, 10.0.0.2"),
                        "10.0.0.2", "ZZ"),
                new Case("Forwarded for=", List.of("Forwarded: for=\"[2a02:2e0::1]\""), "2a02:2e0::1", "DE"));
        for (Case c : cases) {
            List<String> h = new ArrayList<>(c.headers());
            h.add("Connection: close");
            RawResponse r = RawHttp.exchange(gw.port(), req(gw, "GET", "/open/ip", h.toArray(String[]::new)));
            assertThat(r.status()).as(c.label()).isEqualTo(200);
            JsonNode l = lineOf(r);
            assertThat(l.get("client_ip").asText()).as("%s: %s", c.label(), l).isEqualTo(c.ip());
            assertThat(l.get("country").asText()).as("%s: %s", c.label(), l).isEqualTo(c.country());
        }
    }

    /**
     * The same spoofed X-Forwarded-For (an address of a deny rule) from a peer that is not a trusted proxy: ignored,
     * so client_ip is the TCP peer, country ZZ, and the request is allowed.
     */
    @Test
    void spoofedForwardedForFromAnUntrustedPeerLeavesThePeerAsClientIp() throws Exception {
        Gateway gw = harness.startYaml(dir, CONFIG, vars(harness.upstream().port(), "[]"));
        RawResponse r = RawHttp.exchange(gw.port(), req(gw, "GET", "/open/spoof",
                "X-Forwarded-For: 203.0.113.9", "Forwarded: for=81.2.69.5", "Connection: close"));
        assertThat(r.status()).isEqualTo(200);
        JsonNode l = lineOf(r);
        assertThat(l.get("client_ip").asText()).isEqualTo("127.0.0.1");
        assertThat(l.get("country").asText()).isEqualTo("ZZ");
        assertThat(l.get("rule").asText()).isEqualTo("upstream-routes");
    }

    // ------------------------------------------------------------------ subject

    /**
     * SPEC 3.5: subject is the JWT's sub; the forwarded user from the authenticating proxy (loopback); null when
     * anonymous; null when a presented token fails verification, whatever forwarded headers say (and that line's
     * reason names the cause, not the token).
     */
    @Test
    void subjectIsTheVerifiedIdentityOrNull() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("alice", "reader").build());
        String forged = JwtMint.sign(attacker, JWSAlgorithm.RS256, JwtMint.claims("mallory", "admin").build());

        RawResponse jwt = RawHttp.exchange(gw.port(), req(gw, "GET", "/api/orders",
                "Authorization: Bearer " + token, "Connection: close"));
        assertThat(jwt.status()).isEqualTo(200);
        JsonNode jl = lineOf(jwt);
        assertThat(jl.get("subject").asText()).isEqualTo("alice");
        assertThat(jl.get("rule").asText()).isEqualTo("api");
        assertThat(jl.get("decision").asText()).isEqualTo("allow");

        RawResponse fwd = RawHttp.exchange(gw.port(), req(gw, "GET", "/admin/panel",
                "X-Forwarded-User: bob", "X-Forwarded-Groups: staff,admin", "Connection: close"));
        assertThat(fwd.status()).isEqualTo(200);
        JsonNode fl = lineOf(fwd);
        assertThat(fl.get("subject").asText()).isEqualTo("bob");
        assertThat(fl.get("rule").asText()).isEqualTo("admin");

        RawResponse anon = RawHttp.exchange(gw.port(), req(gw, "GET", "/api/orders", "Connection: close"));
        assertThat(anon.status()).isEqualTo(401);
        JsonNode al = lineOf(anon);
        assertThat(isNull(al, "subject")).as("%s", al).isTrue();
        assertThat(al.get("rule").asText()).isEqualTo("api");
        assertThat(al.get("decision").asText()).isEqualTo("deny");
        assertThat(isNull(al, "upstream_status")).isTrue();

        RawResponse bad = RawHttp.exchange(gw.port(), req(gw, "GET", "/api/orders",
                "Authorization: Bearer " + forged, "X-Forwarded-User: bob", "Connection: close"));
        assertThat(bad.status()).isEqualTo(401);
        JsonNode bl = lineOf(bad);
        assertThat(isNull(bl, "subject")).as("a rejected token makes the request anonymous: %s", bl).isTrue();
        assertThat(bl.get("reason").asText()).contains("bad_signature");
        assertThat(access.text()).doesNotContain(token).doesNotContain(forged).doesNotContain("mallory");
    }

    // ------------------------------------------------------------------ rule, decision, reason

    /**
     * rule/decision/reason: a deny rule on ip names the rule and the address (SPEC 4's example reason is "ip
     * 198.51.100.7 in block-abusive-networks"; only the address and the rule name are asserted, not the wording); deny_status 404 is a deny of its rule; default deny names no rule
     * of the policy but has a reason; none of them reaches the upstream, so upstream_status is null.
     */
    @Test
    void ruleDecisionAndReasonOfIpDenyHiddenAndDefault() throws Exception {
        Gateway gw = start();
        RawResponse blocked = RawHttp.exchange(gw.port(), req(gw, "GET", "/open/x",
                "X-Forwarded-For: 203.0.113.9", "Connection: close"));
        assertThat(blocked.status()).isEqualTo(403);
        JsonNode b = lineOf(blocked);
        assertThat(b.get("rule").asText()).isEqualTo("block-abusive-networks");
        assertThat(b.get("decision").asText()).isEqualTo("deny");
        assertThat(b.get("client_ip").asText()).isEqualTo("203.0.113.9");
        // specific: the address and the rule (the exact wording of SPEC's example is not asserted, see report)
        assertThat(b.get("reason").asText()).as("%s", b).contains("ip 203.0.113.9 in")
                .contains("block-abusive-networks");

        RawResponse hidden = RawHttp.exchange(gw.port(), req(gw, "GET", "/hidden/thing", "Connection: close"));
        assertThat(hidden.status()).isEqualTo(404);
        JsonNode h = lineOf(hidden);
        assertThat(h.get("rule").asText()).isEqualTo("hidden");
        assertThat(h.get("decision").asText()).isEqualTo("deny");
        assertThat(h.get("status").asInt()).isEqualTo(404);
        assertThat(h.get("bytes_out").asLong()).isEqualTo(hidden.body().length);

        RawResponse dflt = RawHttp.exchange(gw.port(), req(gw, "GET", "/nowhere", "Connection: close"));
        assertThat(dflt.status()).isEqualTo(403);
        JsonNode d = lineOf(dflt);
        assertThat(d.get("decision").asText()).isEqualTo("deny");
        assertThat(d.get("rule").isNull() || !RULE_NAMES.contains(d.get("rule").asText()))
                .as("default is no rule of the policy: %s", d).isTrue();
        assertThat(d.get("reason").asText()).as("%s", d).isNotBlank();
        for (JsonNode l : List.of(b, h, d)) {
            assertThat(isNull(l, "upstream_status")).as("%s", l).isTrue();
        }
        harness.upstream().assertReceivedNothing(Duration.ofMillis(100));
    }

    // ------------------------------------------------------------------ hostile input, real stdout

    /**
     * Through a real process's stdout: quotes, backslashes, control bytes and bytes that are not UTF-8 in the
     * request target and in Host, a very long path and a very long Host. Every request gets exactly one stdout line
     * that is one JSON object carrying the id the client got and its status; a printable path survives escaping
     * exactly, a rejected one is the raw target cut at '?' (README); no stdout line is anything but JSON.
     */
    @Test
    void hostileBytesInTargetAndHostStillGiveOneValidJsonLineEachOnStdout() throws Exception {
        Path config = dir.resolve("hostile.yaml");
        Files.writeString(config, """
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:%d"
                default: allow
                rules: []
                """.formatted(harness.upstream().port()));
        String longPath = "/long/" + "a".repeat(6000);
        String longHost = "h" + "x".repeat(3000) + ".example";
        byte[][] requests = {
            ("GET /q\"uote'<x>{y} HTTP/1.1\r\nHost: a\r\nX-Request-Id: ho-quote\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
            ("GET /back\\slash\"?k=v HTTP/1.1\r\nHost: a\r\nX-Request-Id: ho-backslash\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
            ("GET /ctl\u0001\u001b[31m HTTP/1.1\r\nHost: a\r\nX-Request-Id: ho-control\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
            ("GET /bin\u00ff\u00fe\u00c3( HTTP/1.1\r\nHost: a\r\nX-Request-Id: ho-nonutf8\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
            ("GET /h HTTP/1.1\r\nHost: ev\"il\\ho\u00e9st\u007f\r\nX-Request-Id: ho-host\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
            ("GET " + longPath + " HTTP/1.1\r\nHost: a\r\nX-Request-Id: ho-longpath\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
            ("GET /lh HTTP/1.1\r\nHost: " + longHost + "\r\nX-Request-Id: ho-longhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1),
        };
        try (GatewayProcess p = GatewayProcess.start(config, Map.of(), List.of("-Xmx128m")).awaitListening()) {
            List<String> ids = new ArrayList<>();
            Map<String, Integer> statuses = new HashMap<>();
            for (byte[] request : requests) {
                try (RawHttp raw = RawHttp.connect(p.port())) {
                    RawResponse r = raw.send(request).readResponse();
                    String id = r.header("X-Request-Id").orElseThrow();
                    ids.add(id);
                    statuses.put(id, r.status());
                }
            }
            assertThat(ids).contains("ho-quote", "ho-longpath", "ho-longhost");
            // wait until every request's line is on stdout
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            Map<String, List<JsonNode>> byId = new HashMap<>();
            List<String> nonJson = new ArrayList<>();
            while (true) {
                byId.clear();
                nonJson.clear();
                for (String line : p.output().split("\n")) {
                    if (line.isEmpty()) {
                        continue;
                    }
                    JsonNode node;
                    try {
                        node = JSON.readTree(line);
                    } catch (IOException e) {
                        nonJson.add(line);
                        continue;
                    }
                    if (node == null || !node.isObject()) {
                        nonJson.add(line);
                        continue;
                    }
                    if (node.has("request_id") && node.has("status")) {
                        byId.computeIfAbsent(node.get("request_id").asText(), k -> new ArrayList<>()).add(node);
                    }
                }
                if (byId.keySet().containsAll(ids) || System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(20);
            }
            assertThat(nonJson).as("stdout lines that are not one JSON object").isEmpty();
            for (String id : ids) {
                assertThat(byId.get(id)).as("stdout lines for %s (status %s)", id, statuses.get(id)).hasSize(1);
                assertThat(byId.get(id).get(0).get("status").asInt()).isEqualTo(statuses.get(id));
            }
            if (statuses.get("ho-quote") == 200) {
                assertThat(byId.get("ho-quote").get(0).get("path").asText()).isEqualTo("/q\"uote'<x>{y}");
            }
            assertThat(byId.get("ho-longpath").get(0).get("path").asText()).isEqualTo(longPath);
            // README: a request rejected before canonicalisation logs the raw target cut at '?'
            if (statuses.get("ho-backslash") == 400) {
                assertThat(byId.get("ho-backslash").get(0).get("path").asText()).isEqualTo("/back\\slash\"");
            }
            if (statuses.get("ho-control") == 400) {
                assertThat(byId.get("ho-control").get(0).get("path").asText()).isEqualTo("/ctl\u0001\u001b[31m");
            }
            assertThat(p.output()).doesNotContain("k=v");
        }
    }
}
