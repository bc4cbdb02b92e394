package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Header;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-feature checks of SPEC 3.6 / 3.7 / 4 against README "Status codes", "Logs" and "Proxying": the access
 * line of every gateway-made status (405, 408, 413, 414, 431, 429), Expect: 100-continue on challenged, limited
 * and allowed requests, X-Request-Id on every kind of answer, hop-by-hop and override headers with a policy in
 * front of them, and bytes pipelined behind a closing answer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecCrossCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final String UNAUTHORIZED_BODY =
            "{\"error\":\"Unauthorized\",\"message\":\"Authentication is required\"}";
    private static final int MAX_BODY = 64 * 1024;
    private static final String MARKER = "/marker";

    /*
     * One policy for every case: small limits, header_timeout 1s, a JWT provider for /api (401), a deny rule
     * (/blocked, 403), a DELETE ban (decides on the real method), and a limiter of one request an hour (/limited,
     * 429). The loopback peer is not a trusted proxy.
     */
    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
            limits:
              max_uri_length: 1KiB
              max_header_size: 4KiB
              max_body_size: 64KiB
              header_timeout: 1s
            clients:
              trusted_proxies: []
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
            rate_limits:
              once: { key: client_ip, limit: 1, per: 1h }
            default: allow
            rules:
              - name: api
                match: { paths: ["/api/**"] }
                require: { authenticated: true }
              - name: blocked
                match: { paths: ["/blocked/**"] }
                action: deny
              - name: no-delete
                match: { methods: [DELETE] }
                action: deny
              - name: limited
                match: { paths: ["/limited/**"] }
                rate_limit: once
            """;

    static RSAKey key;
    static RSAKey attacker;
    static String jwksFile;

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @BeforeAll
    static void keys() throws Exception {
        key = JwtMint.rsa("k1");
        attacker = JwtMint.rsa("k1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
    }

    private static Gateway start() throws Exception {
        return harness.startYaml(dir, CONFIG, Map.of("JWKS_FILE", jwksFile));
    }

    private static String head(Gateway gw, String method, String target, String... headerLines) {
        StringBuilder sb = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: ")
                .append(gw.authority()).append("\r\n");
        for (String h : headerLines) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /** Fields every gateway-made answer's access line must have (SPEC 4, README "Logs"); all mismatches at once. */
    private static void assertGatewayMadeLine(JsonNode line, RawResponse r, String method, String path,
            boolean deny) {
        String d = "access line " + line + " for " + r.statusLine();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(line.path("status").asInt()).as("status: " + d).isEqualTo(r.status());
        soft.assertThat(line.has("upstream_status") && line.get("upstream_status").isNull())
                .as("upstream_status null: " + d).isTrue();
        soft.assertThat(line.path("bytes_out").asLong()).as("bytes_out = body bytes sent: " + d)
                .isEqualTo(r.body().length);
        if (deny) {
            soft.assertThat(line.path("decision").asText()).as("decision: " + d).isEqualTo("deny");
        }
        soft.assertThat(line.path("reason").isTextual() && !line.path("reason").asText().isBlank())
                .as("a specific reason: " + d).isTrue();
        soft.assertThat(line.path("client_ip").asText()).as("client_ip: " + d).isEqualTo("127.0.0.1");
        soft.assertThat(line.path("method").asText(null)).as("method: " + d).isEqualTo(method);
        if (path != null) {
            soft.assertThat(line.path("path").asText(null)).as("path: " + d).isEqualTo(path);
        }
        soft.assertThat(line.path("host").asText(null)).as("host: " + d).isEqualTo("127.0.0.1");
        soft.assertAll();
    }

    private static void assertPrePolicyLine(JsonNode line, RawResponse r, String method, String path) {
        assertThat(line.has("rule") && line.get("rule").isNull()).as("rule null before any rule ran: %s", line)
                .isTrue();
        assertGatewayMadeLine(line, r, method, path, true);
    }

    /**
     * Barrier for "nothing reached the upstream": a later, allowed request through the same gateway, awaited at
     * the upstream. Anything the gateway forwarded for the earlier exchanges left it before the marker did, so
     * once the upstream has the marker it has had that anything too.
     */
    private static void awaitMarkerAtUpstream(Gateway gw) throws IOException {
        RawResponse r = RawHttp.exchange(gw.port(), head(gw, "GET", MARKER));
        assertThat(r.status()).as("the marker request is proxied: %s", r).isEqualTo(200);
        harness.upstream().awaitRequest(up -> up.path().equals(MARKER), Duration.ofSeconds(5));
    }

    private JsonNode lineOf(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id").orElseThrow(
                () -> new AssertionError("no X-Request-Id on " + r)));
    }

    private List<JsonNode> allLines() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ILoggingEvent e : access.snapshot()) {
            out.add(JSON.readTree(e.getFormattedMessage()));
        }
        return out;
    }

    // ------------------------------------------------------------------ access lines of gateway-made answers

    @Test
    void traceGets405WithAllowAndAPrePolicyAccessLine() throws Exception {
        Gateway gw = start();
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "TRACE", "/trace/me")).readResponse();
            GatewayAssertions.assertGatewayError(r, 405);
            assertThat(r.header("Allow")).as("Allow on 405: %s", r).isPresent();
            assertThat(r.header("Allow").orElseThrow().toUpperCase(Locale.ROOT)).contains("GET")
                    .doesNotContain("TRACE");
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("405 closes the connection (README)").isTrue();
            assertPrePolicyLine(lineOf(r), r, "TRACE", "/trace/me");
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void contentLengthOverMaxBodySizeGets413AndAPrePolicyAccessLine() throws Exception {
        Gateway gw = start();
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "POST", "/upload/big", "Content-Length: " + (MAX_BODY + 1)))
                    .readResponse();
            GatewayAssertions.assertGatewayError(r, 413);
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("413 closes the connection").isTrue();
            assertPrePolicyLine(lineOf(r), r, "POST", "/upload/big");
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void chunkedBodyGrowingPastMaxBodySizeGets413AndTheUpstreamNeverSeesItComplete() throws Exception {
        Gateway gw = start();
        RawResponse r;
        try (RawHttp raw = gw.raw()) {
            raw.send(head(gw, "POST", "/upload/chunked", "Transfer-Encoding: chunked"));
            String chunk = "z".repeat(16 * 1024);
            try {
                for (int i = 0; i < 5; i++) { // 80 KiB, no last chunk
                    raw.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
                }
            } catch (IOException answeredAlready) {
                // the gateway may stop reading once it has answered
            }
            r = raw.readResponse();
            GatewayAssertions.assertGatewayError(r, 413);
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("413 closes the connection").isTrue();
        }
        JsonNode line = lineOf(r);
        // the head was decided (default: allow) before the body grew too large: rule and decision are the
        // policy's; the line must still say why the answer was 413
        assertGatewayMadeLine(line, r, "POST", "/upload/chunked", false);
        assertThat(line.path("reason").asText() + " " + line.path("error").asText())
                .as("the 413's cause is in the line: %s", line).contains("body_too_large");
        awaitMarkerAtUpstream(gw);
        assertThat(harness.upstream().requests())
                .as("an oversized chunked body must not reach the upstream as a complete (truncated) request")
                .extracting(RecordedRequest::path).containsExactly(MARKER);
    }

    @Test
    void uriAndHeaderLimitAnswersLogWhatWasReadOfTheRequest() throws Exception {
        Gateway gw = start();
        JsonNode line414;
        RawResponse resp414;
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "POST", "/long/" + "a".repeat(2048))).readResponse();
            GatewayAssertions.assertGatewayError(r, 414);
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("414 closes the connection").isTrue();
            line414 = lineOf(r);
            resp414 = r;
        }
        JsonNode line431;
        RawResponse resp431;
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "GET", "/headers/big", "Accept: */*", "X-Big: " + "v".repeat(8192)))
                    .readResponse();
            GatewayAssertions.assertGatewayError(r, 431);
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("431 closes the connection").isTrue();
            line431 = lineOf(r);
            resp431 = r;
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
        // README "Logs": the request line of a 414 was never read, so method, path and host are unknown (""),
        // not the decoder's stand-in "GET /bad-request"
        String d = "access line of a 414: " + line414;
        assertThat(line414.path("status").asInt()).as(d).isEqualTo(414);
        assertThat(line414.path("reason").asText()).as(d).isEqualTo("uri_too_long");
        assertThat(line414.get("rule").isNull()).as(d).isTrue();
        assertThat(line414.path("decision").asText()).as(d).isEqualTo("deny");
        assertThat(line414.path("method").asText()).as(d).isEmpty();
        assertThat(line414.path("path").asText()).as(d).isEmpty();
        assertThat(line414.path("host").asText()).as(d).isEmpty();
        assertThat(line414.get("upstream_status").isNull()).as(d).isTrue();
        assertThat(line414.path("bytes_out").asLong()).as(d).isEqualTo(resp414.body().length);
        // the request line and the headers before the one that overflowed were read (Host among them)
        assertPrePolicyLine(line431, resp431, "GET", "/headers/big");
    }

    @Test
    void headerTimeoutGets408AndAnAccessLineWithReasonHeaderTimeout() throws Exception {
        Gateway gw = start();
        try (RawHttp raw = gw.raw()) {
            long t0 = System.nanoTime();
            raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Slow: ");
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            GatewayAssertions.assertGatewayError(r, 408);
            assertThat(took).isBetween(Duration.ofMillis(800), Duration.ofSeconds(5));
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("408 closes the connection").isTrue();
            JsonNode line = lineOf(r);
            String d = "access line of a 408: " + line;
            assertThat(line.path("status").asInt()).as(d).isEqualTo(408);
            assertThat(line.get("rule").isNull()).as(d).isTrue();
            assertThat(line.path("reason").asText()).as(d).isEqualTo("header_timeout");
            assertThat(line.get("upstream_status").isNull()).as(d).isTrue();
            assertThat(line.path("bytes_out").asLong()).as(d).isEqualTo(r.body().length);
            assertThat(line.path("decision").asText()).as(d).isEqualTo("deny");
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void rateLimitedAnswerHasExactBodyAndAnAccessLineNamingTheRule() throws Exception {
        Gateway gw = start();
        RawResponse ok = RawHttp.exchange(gw.port(), head(gw, "GET", "/limited/a"));
        assertThat(ok.status()).isEqualTo(200);

        RawResponse r = RawHttp.exchange(gw.port(), head(gw, "GET", "/limited/b?k=v"));
        GatewayAssertions.assertGatewayError(r, 429);
        assertThat(r.bodyText()).isEqualTo(GatewayAssertions.RATE_LIMITED_BODY);
        assertThat(r.header("Content-Type")).contains("application/json");
        assertThat(r.header("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
        assertThat(r.hasHeader("Server")).isFalse();

        JsonNode line = lineOf(r);
        assertGatewayMadeLine(line, r, "GET", "/limited/b", true);
        assertThat(line.path("rule").asText(null)).as("rule of a 429: %s", line).isEqualTo("limited");
        assertThat(harness.upstream().requests()).hasSize(1);
    }

    // ------------------------------------------------------------------ Expect: 100-continue

    @Test
    void expectContinueOnChallengedAndRateLimitedRequestsGetsTheFinalStatusNever100() throws Exception {
        Gateway gw = start();
        // anonymous -> 401
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "POST", "/api/orders", "Content-Length: 5000",
                    "Expect: 100-continue")).readResponse();
            assertThat(r.status()).as("first answer to an anonymous Expect request: %s", r).isEqualTo(401);
            assertThat(r.header("Content-Type")).contains("application/json");
            assertThat(r.hasHeader("Server")).isFalse();
            assertThat(r.header("X-Request-Id")).isPresent();
            assertThat(r.bodyText()).isEqualTo(UNAUTHORIZED_BODY);
            assertThat(r.header("WWW-Authenticate")).contains("Bearer realm=\"portcullis\"");
        }
        // rejected token -> 401 with error="invalid_token"
        String forged = JwtMint.sign(attacker, JWSAlgorithm.RS256, JwtMint.claims("mallory").build());
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "PUT", "/api/orders/1", "Authorization: Bearer " + forged,
                    "Content-Length: 5000", "Expect: 100-continue")).readResponse();
            assertThat(r.status()).as("first answer with a forged token: %s", r).isEqualTo(401);
            assertThat(r.bodyText()).isEqualTo(UNAUTHORIZED_BODY);
            assertThat(r.header("WWW-Authenticate").orElse("")).contains("Bearer realm=\"portcullis\"")
                    .contains("error=\"invalid_token\"");
        }
        // limiter exhausted -> 429
        assertThat(RawHttp.exchange(gw.port(), head(gw, "GET", "/limited/first")).status()).isEqualTo(200);
        harness.upstream().reset();
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(head(gw, "POST", "/limited/upload", "Content-Length: 5000",
                    "Expect: 100-continue")).readResponse();
            assertThat(r.status()).as("first answer to a rate-limited Expect request: %s", r).isEqualTo(429);
            assertThat(r.bodyText()).isEqualTo(GatewayAssertions.RATE_LIMITED_BODY);
            assertThat(r.header("Retry-After")).isPresent();
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void expectContinueOnAnAllowedRequestGetsOne100AndTheUpstreamGetsTheBodyWithoutExpect() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("alice").build());
        try (RawHttp raw = gw.raw()) {
            raw.send(head(gw, "POST", "/api/orders", "Authorization: Bearer " + token, "Content-Length: 11",
                    "Expect: 100-continue"));
            raw.readTimeout(Duration.ofSeconds(3));
            RawResponse interim = raw.readResponse();
            raw.readTimeout(RawHttp.READ_TIMEOUT);
            assertThat(interim.status()).as("README: an allowed one gets 100 Continue from the gateway")
                    .isEqualTo(100);
            raw.send("hello world");
            RawResponse r = raw.readResponse();
            assertThat(r.status()).as("exactly one 100, then the final answer: %s", r).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello world");
            // the connection is still usable
            RawResponse next = raw.send(head(gw, "GET", "/after")).readResponse();
            assertThat(next.status()).isEqualTo(200);
        }
        RecordedRequest up = harness.upstream().awaitRequest(q -> q.path().equals("/api/orders"),
                Duration.ofSeconds(5));
        assertThat(up.bodyLength()).isEqualTo(11);
        assertThat(new String(up.body(), StandardCharsets.US_ASCII)).isEqualTo("hello world");
        assertThat(up.hasHeader("Expect")).as("README: the upstream receives the body without Expect: %s", up)
                .isFalse();
        assertThat(up.header("X-Auth-Subject")).contains("alice");
    }

    // ------------------------------------------------------------------ X-Request-Id

    @Test
    void aSaneClientRequestIdIsEchoedOnProxiedAndEveryGatewayMadeAnswer() throws Exception {
        Gateway gw = start();
        Map<String, String> requests = new LinkedHashMap<>();
        requests.put("xc-200.a:1_Z", head(gw, "GET", "/ok", "X-Request-Id: xc-200.a:1_Z"));
        requests.put("xc-401", head(gw, "GET", "/api/x", "X-Request-Id: xc-401"));
        requests.put("xc-403", head(gw, "GET", "/blocked/x", "X-Request-Id: xc-403"));
        requests.put("xc-403-delete", head(gw, "DELETE", "/ok", "X-Request-Id: xc-403-delete"));
        requests.put("xc-400", head(gw, "GET", "/a;b", "X-Request-Id: xc-400"));
        requests.put("xc-400-method", head(gw, "get", "/ok", "X-Request-Id: xc-400-method"));
        requests.put("xc-405", head(gw, "TRACE", "/ok", "X-Request-Id: xc-405"));
        requests.put("xc-413", head(gw, "POST", "/ok", "X-Request-Id: xc-413", "Content-Length: " + (MAX_BODY + 1)));
        requests.put("xc-200-limited", head(gw, "GET", "/limited/1", "X-Request-Id: xc-200-limited"));
        requests.put("xc-429", head(gw, "GET", "/limited/2", "X-Request-Id: xc-429"));
        Map<String, Integer> expected = Map.of("xc-200.a:1_Z", 200, "xc-401", 401, "xc-403", 403,
                "xc-403-delete", 403, "xc-400", 400, "xc-400-method", 400, "xc-405", 405, "xc-413", 413,
                "xc-200-limited", 200, "xc-429", 429);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : requests.entrySet()) {
            RawResponse r = RawHttp.exchange(gw.port(), e.getValue());
            int want = expected.get(e.getKey());
            if (r.status() != want) {
                problems.add(e.getKey() + ": status " + r.status() + ", expected " + want);
            }
            if (!r.headerValues("X-Request-Id").equals(List.of(e.getKey()))) {
                problems.add(e.getKey() + " (" + r.status() + "): X-Request-Id " + r.headerValues("X-Request-Id"));
            }
            if (want != 200 && r.hasHeader("Server")) {
                problems.add(e.getKey() + ": Server header on a gateway-made " + r.status());
            }
        }
        assertThat(problems).as("sane ids must be echoed on every answer").isEmpty();
        RecordedRequest up = harness.upstream().awaitRequest(q -> q.path().equals("/ok"), Duration.ofSeconds(5));
        assertThat(up.headerValues("X-Request-Id")).containsExactly("xc-200.a:1_Z");
        // and the access line carries the client's id too
        assertThat(access.jsonLineFor("xc-429").path("status").asInt()).isEqualTo(429);
        assertThat(access.jsonLineFor("xc-405").path("status").asInt()).isEqualTo(405);
    }

    @Test
    void limitAnswersUseTheClientsRequestIdOnlyWhereItWasRead() throws Exception {
        Gateway gw = start();
        // 414: the request line was too long, nothing after it is read: a new id, shared by answer and log line
        RawResponse r414 = RawHttp.exchange(gw.port(), head(gw, "GET", "/" + "u".repeat(2048),
                "X-Request-Id: xc-414"));
        assertThat(r414.status()).isEqualTo(414);
        String id414 = r414.header("X-Request-Id").orElseThrow();
        assertThat(id414).isNotEqualTo("xc-414").matches(SANE_ID);
        assertThat(access.jsonLineFor(id414).path("status").asInt()).isEqualTo(414);
        // 431: the id was read before the header that overflowed: the client's id
        RawResponse r431 = RawHttp.exchange(gw.port(), head(gw, "GET", "/ok", "X-Request-Id: xc-431",
                "Accept: */*", "X-Big: " + "v".repeat(8192)));
        assertThat(r431.status()).isEqualTo(431);
        assertThat(r431.headerValues("X-Request-Id")).containsExactly("xc-431");
        assertThat(access.jsonLineFor("xc-431").path("status").asInt()).isEqualTo(431);
        // 408: the head never arrived whole and was never decoded: a new id
        try (RawHttp raw = gw.raw()) {
            raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Request-Id: xc-408\r\nX-Slow: ");
            RawResponse r408 = raw.readResponse();
            assertThat(r408.status()).isEqualTo(408);
            String id408 = r408.header("X-Request-Id").orElseThrow();
            assertThat(id408).isNotEqualTo("xc-408").matches(SANE_ID);
            assertThat(access.jsonLineFor(id408).path("reason").asText()).isEqualTo("header_timeout");
        }
    }

    @Test
    void insaneRequestIdsAreReplacedWithASaneOneThatTheUpstreamAndTheLogShare() throws Exception {
        Gateway gw = start();
        Map<String, String> insane = new LinkedHashMap<>();
        insane.put("129 chars", "r".repeat(129));
        insane.put("inner space", "abc def");
        insane.put("inner tab", "abc\tdef");
        insane.put("slash", "abc/def");
        insane.put("quote and angle", "\"<x>\"");
        insane.put("non-ASCII byte", "abc\u00e9");
        insane.put("empty", "");
        List<String> problems = new ArrayList<>();
        int n = 0;
        for (Map.Entry<String, String> e : insane.entrySet()) {
            String path = "/rid/" + (n++);
            RawResponse r = RawHttp.exchange(gw.port(), head(gw, "GET", path, "X-Request-Id: " + e.getValue()));
            List<String> ids = r.headerValues("X-Request-Id");
            if (r.status() != 200) {
                problems.add(e.getKey() + ": status " + r.status());
                continue;
            }
            if (ids.size() != 1 || ids.get(0).equals(e.getValue()) || !SANE_ID.matcher(ids.get(0)).matches()) {
                problems.add(e.getKey() + ": response X-Request-Id " + ids);
                continue;
            }
            RecordedRequest up = harness.upstream().awaitRequest(q -> q.path().equals(path), Duration.ofSeconds(5));
            if (!up.headerValues("X-Request-Id").equals(ids)) {
                problems.add(e.getKey() + ": upstream got X-Request-Id " + up.headerValues("X-Request-Id")
                        + ", client got " + ids);
            }
            assertThat(access.jsonLineFor(ids.get(0)).path("path").asText()).isEqualTo(path);
        }
        // a control character: either 400 (malformed field value) or a replaced id; never echoed
        RawResponse ctl = RawHttp.exchange(gw.port(), head(gw, "GET", "/rid/ctl", "X-Request-Id: ab\u0001cd"));
        assertThat(ctl.headerValues("X-Request-Id")).hasSize(1);
        assertThat(ctl.header("X-Request-Id").orElseThrow()).matches(SANE_ID).isNotEqualTo("ab\u0001cd");
        // the boundary: exactly 128 sane characters are kept
        String max = "K".repeat(127) + "9";
        RawResponse kept = RawHttp.exchange(gw.port(), head(gw, "GET", "/rid/max", "X-Request-Id: " + max));
        assertThat(kept.headerValues("X-Request-Id")).containsExactly(max);
        // an insane id on a gateway-made 403 is replaced too
        RawResponse denied = RawHttp.exchange(gw.port(), head(gw, "GET", "/blocked/x", "X-Request-Id: a b"));
        GatewayAssertions.assertForbidden(denied);
        assertThat(denied.header("X-Request-Id").orElseThrow()).matches(SANE_ID);
        // an id the upstream sets is replaced by the request's id
        harness.upstream().handler(req -> Reply.fixed(200, "OK", List.of(new Header("X-Request-Id", "from-upstream")),
                "ok".getBytes(StandardCharsets.US_ASCII)));
        RawResponse replaced = RawHttp.exchange(gw.port(), head(gw, "GET", "/rid/up", "X-Request-Id: xc-client-1"));
        assertThat(replaced.headerValues("X-Request-Id")).as("README: replacing one the upstream set")
                .containsExactly("xc-client-1");
        assertThat(problems).as("insane X-Request-Id values").isEmpty();
    }

    // ------------------------------------------------------------------ hop-by-hop and overrides

    @Test
    void headersNamedByConnectionCloseAndOverridesInOddSpellingsNeverReachTheUpstream() throws Exception {
        Gateway gw = start();
        harness.upstream().handler(req -> Reply.fixed(200, "OK", List.of(
                        new Header("Connection", "X-Up-Hop, keep-alive"),
                        new Header("X-Up-Hop", "secret"),
                        new Header("Keep-Alive", "timeout=5"),
                        new Header("Proxy-Authenticate", "Basic realm=\"up\""),
                        new Header("Upgrade", "h2c"),
                        new Header("X-Up-Kept", "yes")),
                "ok".getBytes(StandardCharsets.US_ASCII)));
        RawResponse r;
        try (RawHttp raw = gw.raw()) {
            r = raw.send(head(gw, "GET", "/hop",
                    "Connection: close, X-Foo, x-bar",
                    "X-Foo: named-by-connection",
                    "X-Bar: also-named",
                    "x-Http-Method-OVERRIDE: DELETE",
                    "X_HTTP_METHOD_OVERRIDE: DELETE",
                    "x-http-method: DELETE",
                    "X-Method_Override: DELETE",
                    "X-ORIGINAL-URL: /blocked/x",
                    "x_rewrite_url: /blocked/y",
                    "X-Kept: yes")).readResponse();
            assertThat(r.status()).as("decided on the real method and path: %s", r).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok");
            assertThat(Header.names(r.headers())).as("response hop-by-hop removed: %s", r)
                    .doesNotContain("x-up-hop", "keep-alive", "proxy-authenticate", "upgrade");
            assertThat(r.header("X-Up-Kept")).contains("yes");
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("Connection: close from the client is honoured")
                    .isTrue();
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.method()).isEqualTo("GET");
        assertThat(up.path()).isEqualTo("/hop");
        assertThat(up.header("X-Kept")).contains("yes");
        assertThat(up.headers()).as("upstream headers: %s", up.headers()).noneMatch(h -> {
            String name = h.name().toLowerCase(Locale.ROOT).replace('_', '-');
            return List.of("x-foo", "x-bar", "x-http-method-override", "x-http-method", "x-method-override",
                    "x-original-url", "x-rewrite-url").contains(name);
        });
        JsonNode line = lineOf(r);
        assertThat(line.has("removed_headers")).as("README: the decision log lists what was removed: %s", line)
                .isTrue();
        String removed = line.get("removed_headers").toString().toLowerCase(Locale.ROOT).replace('_', '-');
        assertThat(removed).contains("x-http-method-override", "x-http-method", "x-method-override",
                "x-original-url", "x-rewrite-url");

        // and the real method decides: DELETE claiming to be GET is still denied
        harness.upstream().reset();
        RawResponse denied = RawHttp.exchange(gw.port(), head(gw, "DELETE", "/hop", "X-HTTP-Method-Override: GET",
                "X-Original-URL: /ok"));
        GatewayAssertions.assertForbidden(denied);
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    // ------------------------------------------------------------------ pipelining behind closing answers

    @Test
    void nothingPipelinedBehindAClosingGatewayAnswerIsDecidedOrForwarded() throws Exception {
        Gateway gw = start();
        String second = "GET /second HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
        Map<String, String> firsts = new LinkedHashMap<>();
        firsts.put("405 TRACE", head(gw, "TRACE", "/x"));
        firsts.put("413 Content-Length", head(gw, "POST", "/x", "Content-Length: " + (MAX_BODY + 1)));
        firsts.put("414", head(gw, "GET", "/" + "a".repeat(2048)));
        firsts.put("431", head(gw, "GET", "/x", "X-Big: " + "v".repeat(8192)));
        firsts.put("403 with body", head(gw, "POST", "/blocked/x", "Content-Length: 5") + "hello");
        firsts.put("401 with body", head(gw, "POST", "/api/x", "Content-Length: 5") + "hello");
        firsts.put("400 bad path", head(gw, "GET", "/a%2Fb"));
        Map<String, Integer> status = Map.of("405 TRACE", 405, "413 Content-Length", 413, "414", 414, "431", 431,
                "403 with body", 403, "401 with body", 401, "400 bad path", 400);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : firsts.entrySet()) {
            try (RawHttp raw = gw.raw()) {
                RawResponse r = raw.send(e.getValue() + second).readResponse();
                if (r.status() != status.get(e.getKey())) {
                    problems.add(e.getKey() + ": first answer " + r.status());
                }
                RawHttp.State after = raw.await(Duration.ofSeconds(4));
                if (after != RawHttp.State.CLOSED) {
                    String extra = "";
                    if (after == RawHttp.State.DATA) {
                        try {
                            extra = " " + raw.readResponse().statusLine();
                        } catch (IOException | RuntimeException unreadable) {
                            extra = " (unreadable)";
                        }
                    }
                    problems.add(e.getKey() + ": after the answer the connection was " + after + extra);
                }
            } catch (SocketTimeoutException e2) {
                problems.add(e.getKey() + ": no answer");
            }
        }
        awaitMarkerAtUpstream(gw);
        assertThat(harness.upstream().headsReceived()).as("heads at the upstream besides the marker: %s",
                harness.upstream().describeRequests()).isOne();
        assertThat(allLines()).as("no access line for the pipelined request")
                .noneMatch(l -> "/second".equals(l.path("path").asText(null)));
        assertThat(problems).isEmpty();
    }
}
