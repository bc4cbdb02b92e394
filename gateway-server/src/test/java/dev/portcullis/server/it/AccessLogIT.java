package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
 * SPEC 4: the access line of allowed, denied, challenged and pre-policy-rejected requests, captured from
 * the real gateway's {@code portcullis.access} logger and parsed as JSON; no token and no query string in
 * anything the gateway logs (operational messages included, at DEBUG).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AccessLogIT {

    private static final List<String> FIELDS = List.of("ts", "request_id", "client_ip", "country", "method",
            "host", "path", "subject", "rule", "decision", "reason", "audit", "status", "upstream_status",
            "duration_ms", "bytes_out");

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path keysDir;

    static RSAKey key;
    static RSAKey attacker;
    static String jwksFile;

    private LogCapture access;
    private LogCapture operational;
    private Logger projectLogger;
    private Level projectLevel;

    @BeforeAll
    static void keys() throws Exception {
        key = JwtMint.rsa("k1");
        attacker = JwtMint.rsa("k1");
        jwksFile = JwtMint.writeJwks(keysDir.resolve("jwks.json"), List.of(key));
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

    private static Gateway start() throws Exception {
        return harness.start("accesslog.yaml", Map.of("JWKS_FILE", jwksFile));
    }

    private static String get(Gateway gw, String target, String... headers) {
        StringBuilder request = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\nHost: ")
                .append(gw.authority()).append("\r\nConnection: close\r\n");
        for (String h : headers) {
            request.append(h).append("\r\n");
        }
        return request.append("\r\n").toString();
    }

    /** The access line whose request_id is {@code requestId}, waited for (it is logged after the response). */
    private JsonNode lineFor(String requestId) throws Exception {
        return access.jsonLineFor(requestId);
    }

    private static void assertFieldsInOrder(JsonNode line) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = line.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        assertThat(names).startsWith(FIELDS.toArray(String[]::new));
        assertThat(names.size()).isLessThanOrEqualTo(FIELDS.size() + 1);
    }

    private static void assertCommon(JsonNode line, RawResponse response, String method, Instant before) {
        assertFieldsInOrder(line);
        assertThat(line.get("request_id").asText()).isEqualTo(response.header("X-Request-Id").orElseThrow());
        Instant ts = Instant.parse(line.get("ts").asText());
        assertThat(ts).isBetween(before, Instant.now());
        assertThat(line.get("ts").asText()).endsWith("Z");
        assertThat(line.get("client_ip").asText()).isEqualTo("127.0.0.1");
        assertThat(line.get("country").isNull()).isTrue();
        assertThat(line.get("method").asText()).isEqualTo(method);
        assertThat(line.get("status").isInt()).isTrue();
        assertThat(line.get("status").asInt()).isEqualTo(response.status());
        assertThat(line.get("duration_ms").isNumber()).isTrue();
        assertThat(line.get("duration_ms").asDouble()).isGreaterThanOrEqualTo(0.0);
        assertThat(line.get("bytes_out").asLong()).isEqualTo(response.body().length);
        assertThat(line.get("audit").isArray()).isTrue();
    }

    private void assertNothingLogged(String... secrets) {
        String everything = access.text() + operational.text();
        for (String secret : secrets) {
            assertThat(everything).doesNotContain(secret);
        }
    }

    @Test
    void allowedRequestLineHasEveryFieldAndNoTokenOrQuery() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("alice", "reader").build());
        Instant before = Instant.now();

        RawResponse response = RawHttp.exchange(gw.port(),
                get(gw, "/api/x/../orders/42?api_key=qs-allowed-7f3a", "Authorization: Bearer " + token));

        assertThat(response.status()).isEqualTo(200);
        JsonNode line = lineFor(response.header("X-Request-Id").orElseThrow());
        assertCommon(line, response, "GET", before);
        assertThat(line.get("host").asText()).isEqualTo("127.0.0.1");
        assertThat(line.get("path").asText()).isEqualTo("/api/orders/42");
        assertThat(line.get("subject").asText()).isEqualTo("alice");
        assertThat(line.get("rule").asText()).isEqualTo("api");
        assertThat(line.get("decision").asText()).isEqualTo("allow");
        assertThat(line.get("reason").isTextual()).isTrue();
        assertThat(line.get("audit")).hasSize(1);
        JsonNode audit = line.get("audit").get(0);
        assertThat(audit.get("rule").asText()).isEqualTo("auditors-trial");
        assertThat(audit.get("decision").asText()).isEqualTo("deny");
        assertThat(audit.get("reason").asText()).isEqualTo("rule auditors-trial: role auditor missing");
        assertThat(line.get("upstream_status").asInt()).isEqualTo(200);
        assertThat(line.has("error")).isFalse();
        assertNothingLogged(token, "qs-allowed-7f3a", "api_key");
    }

    @Test
    void deniedRequestLineNamesRuleAndReason() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("bob", "reader").build());
        Instant before = Instant.now();

        RawResponse response = RawHttp.exchange(gw.port(),
                get(gw, "/admin/panel?session=qs-denied-51c2", "Authorization: Bearer " + token));

        assertThat(response.status()).isEqualTo(403);
        JsonNode line = lineFor(response.header("X-Request-Id").orElseThrow());
        assertCommon(line, response, "GET", before);
        assertThat(line.get("path").asText()).isEqualTo("/admin/panel");
        assertThat(line.get("subject").asText()).isEqualTo("bob");
        assertThat(line.get("rule").asText()).isEqualTo("admin");
        assertThat(line.get("decision").asText()).isEqualTo("deny");
        assertThat(line.get("reason").asText()).isEqualTo("rule admin: role admin missing");
        assertThat(line.get("audit")).isEmpty();
        assertThat(line.get("upstream_status").isNull()).isTrue();
        assertNothingLogged(token, "qs-denied-51c2");
    }

    @Test
    void challengedRequestWithInvalidTokenLogsNoTokenText() throws Exception {
        Gateway gw = start();
        // a well-formed RS256 token with the published kid, signed by a key the gateway does not trust
        String forged = JwtMint.sign(attacker, JWSAlgorithm.RS256, JwtMint.claims("mallory", "admin").build());
        Instant before = Instant.now();

        RawResponse response = RawHttp.exchange(gw.port(),
                get(gw, "/api/orders?token=qs-challenged-9d0e", "Authorization: Bearer " + forged));

        assertThat(response.status()).isEqualTo(401);
        JsonNode line = lineFor(response.header("X-Request-Id").orElseThrow());
        assertCommon(line, response, "GET", before);
        assertThat(line.get("path").asText()).isEqualTo("/api/orders");
        assertThat(line.get("subject").isNull()).isTrue();
        assertThat(line.get("rule").asText()).isEqualTo("api");
        assertThat(line.get("decision").asText()).isEqualTo("deny");
        assertThat(line.get("reason").asText()).contains("bad_signature");
        assertThat(line.get("upstream_status").isNull()).isTrue();
        String[] parts = forged.split("\\.");
        assertNothingLogged(forged, parts[0], parts[1], parts[2], "qs-challenged-9d0e", "mallory");
    }

    @Test
    void challengeReasonNamesTheMissingIdentityNotAnEarlierFailingIp() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("bob", "reader").build());

        RawResponse anonymous = RawHttp.exchange(gw.port(), get(gw, "/office/x"));
        RawResponse identified = RawHttp.exchange(gw.port(), get(gw, "/office/x", "Authorization: Bearer " + token));

        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(lineFor(anonymous.header("X-Request-Id").orElseThrow()).get("reason").asText())
                .isEqualTo("rule office: role admin missing");
        assertThat(identified.status()).isEqualTo(403);
        assertThat(lineFor(identified.header("X-Request-Id").orElseThrow()).get("reason").asText())
                .isEqualTo("rule office: ip 127.0.0.1 not in [10.20.0.0/16]");
    }

    @Test
    void prePolicyRejectionLogsNullRuleAndNoQuery() throws Exception {
        Gateway gw = start();
        String token = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("carol", "admin").build());
        Instant before = Instant.now();

        RawResponse response = RawHttp.exchange(gw.port(),
                get(gw, "/x/..;/admin?password=qs-rejected-22b8", "Authorization: Bearer " + token));

        assertThat(response.status()).isEqualTo(400);
        JsonNode line = lineFor(response.header("X-Request-Id").orElseThrow());
        assertCommon(line, response, "GET", before);
        assertThat(line.get("path").asText()).isEqualTo("/x/..;/admin");
        assertThat(line.get("host").asText()).isEqualTo("127.0.0.1");
        assertThat(line.get("subject").isNull()).isTrue();
        assertThat(line.get("rule").isNull()).isTrue();
        assertThat(line.get("decision").asText()).isEqualTo("deny");
        assertThat(line.get("reason").isTextual()).isTrue();
        assertThat(line.get("audit")).isEmpty();
        assertThat(line.get("upstream_status").isNull()).isTrue();
        assertNothingLogged(token, "qs-rejected-22b8", "password");
    }

    @Test
    void rejectedTargetWithAFragmentLogsNeitherFragmentNorQuery() throws Exception {
        Gateway gw = start();
        Instant before = Instant.now();

        RawResponse response = RawHttp.exchange(gw.port(), get(gw, "/callback#access_token=frag-secret-0c41"));

        assertThat(response.status()).isEqualTo(400);
        JsonNode line = lineFor(response.header("X-Request-Id").orElseThrow());
        assertCommon(line, response, "GET", before);
        assertThat(line.get("path").asText()).isEqualTo("/callback");
        assertThat(line.get("host").asText()).isEqualTo("127.0.0.1");
        assertThat(line.get("rule").isNull()).isTrue();
        assertNothingLogged("frag-secret-0c41", "access_token");
    }

    @Test
    void rejectedAbsoluteFormTargetLogsNoUserinfo() throws Exception {
        Gateway gw = start();
        Instant before = Instant.now();

        RawResponse response = RawHttp.exchange(gw.port(),
                get(gw, "http://admin:pw-secret-77aa@other.example/api/orders?k=qs-absolute-3e19"));

        assertThat(response.status()).isEqualTo(400);
        JsonNode line = lineFor(response.header("X-Request-Id").orElseThrow());
        assertCommon(line, response, "GET", before);
        assertThat(line.get("path").asText()).isEqualTo("http://other.example/api/orders");
        assertThat(line.get("rule").isNull()).isTrue();
        assertNothingLogged("pw-secret-77aa", "qs-absolute-3e19");
    }
}
