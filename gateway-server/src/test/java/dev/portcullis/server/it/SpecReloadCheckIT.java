package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import dev.portcullis.server.it.support.WebSocketEchoServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box checks of SPEC 3.8 (Reload) and the README's "Reload" section against the running gateway, where the
 * existing reload ITs (ReloadEffectsIT, ReloadRejectionIT, ReloadProcessIT, ReloadUnderLoadIT, ConfigWatchIT,
 * UpstreamReloadIT, GeoIpReloadIT, SpecAdminMetricsCheckIT) do not already look: requests, response streams,
 * uploads and WebSocket tunnels in flight across a reload; per-connection limits and timeouts versus per-request
 * rules and upstream settings; the verified-token cache against a changed identity block; what a rejected reload
 * leaves untouched (limiter buckets, generation, loaded_at, metrics); SIGHUP on the packaged jar while serving;
 * SIGHUP, POST /reload and watch together; watch switched on and off by a reload; a watched file that disappears
 * or turns into a directory; a listen change together with a rule change.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecReloadCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    /** A policy on loopback: default deny, {@code /ALLOWED/**} allowed; {@code EXTRA} is inserted at the top level. */
    private static String open(String allowed, String extra) {
        return harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                extra,
                "default: deny",
                "rules:",
                "  - name: allow-" + allowed,
                "    match: { paths: [\"/" + allowed + "/**\"] }",
                ""), Map.of());
    }

    // --------------------------------------------------------------------------------------- in flight

    /**
     * SPEC 3.8 "a request is decided wholly by the old or wholly by the new policy ... No request fails because of a
     * reload"; README "decided wholly by the generation that was live when its head arrived". A request waiting on a
     * slow upstream when a reload starts denying its path is answered 200 with its whole body; the same path asked
     * after the reload is 403 and never reaches the upstream.
     */
    @Test
    void aSlowRequestInFlightFinishesUnderTheOldPolicyWhileNewOnesUseTheNew(@TempDir Path dir) throws Exception {
        harness.upstream().handler(req -> req.path().startsWith("/slow/")
                ? Reply.delayed(Duration.ofMillis(1500), Reply.echo()) : Reply.echo());
        Path file = dir.resolve("policy.yaml");
        String before = open("slow", "");
        String after = open("other", "");
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        try (RawHttp inFlight = gw.raw()) {
            inFlight.send("POST /slow/1 HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: 5\r\n\r\nhello");
            harness.upstream().awaitHeads(1, DEADLINE);

            Files.writeString(file, after);
            ConfigAdmin.Answer answer = admin.reload();
            assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
            assertThat(harness.get(gw, "/slow/2").statusCode()).as("/slow asked after the reload").isEqualTo(403);
            assertThat(harness.get(gw, "/other/2").statusCode()).as("the new policy's path").isEqualTo(200);

            RawResponse r = inFlight.readResponse();
            assertThat(r.status()).as("the request in flight during the reload: %s", r).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello");
        }
        assertThat(harness.upstream().requests().stream().map(RecordedRequest::path))
                .as("only the in-flight /slow request and /other reached the upstream")
                .containsExactlyInAnyOrder("/slow/1", "/other/2");
    }

    /**
     * SPEC 3.8 / README Reload "upstream.* applies to new requests: a new connection pool is opened, and the old
     * pool's connections are closed once their request is done (drained, not cut)". A response body still streaming
     * from the old upstream when a reload moves {@code upstream.url} arrives whole; a new request goes to the new
     * upstream; the old upstream's connection is closed after its response ended.
     */
    @Test
    void aResponseStreamingFromTheOldUpstreamArrivesWholeWhenAReloadMovesTheUpstream(@TempDir Path dir)
            throws Exception {
        int pieces = 20;
        int pieceSize = 4096;
        harness.upstream().handler(req -> Reply.slowBody(pieces, pieceSize, Duration.ofMillis(75)));
        try (UpstreamServer second = UpstreamServer.start()) {
            Path file = dir.resolve("policy.yaml");
            String before = harness.fill("""
                    listen: "127.0.0.1:0"
                    admin:
                      listen: "127.0.0.1:0"
                    upstream:
                      url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                    default: allow
                    rules: []
                    """, Map.of());
            Files.writeString(file, before);
            Gateway gw = harness.startFile(file);
            ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

            try (RawHttp stream = gw.raw()) {
                stream.send("GET /stream HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
                RawResponse head = stream.readHead();
                assertThat(head.status()).isEqualTo(200);
                int oldConnection = harness.upstream().awaitSingleRequest().connectionId();

                Files.writeString(file, before.replace(":" + harness.upstream().port() + "\"", ":" + second.port() + "\""));
                ConfigAdmin.Answer answer = admin.reload();
                assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
                assertThat(harness.get(gw, "/after").statusCode()).isEqualTo(200);
                assertThat(second.requests().stream().map(RecordedRequest::path)).as("the new upstream")
                        .containsExactly("/after");

                byte[] body = readExactly(stream.inputStream(), (long) pieces * pieceSize);
                assertThat(PatternBytes.sha256(body)).as("the streamed body, whole and in order")
                        .isEqualTo(PatternBytes.sha256((long) pieces * pieceSize));
                assertThat(harness.upstream().awaitConnectionEnded(oldConnection, DEADLINE))
                        .as("the old pool's connection is closed once its response is done").isTrue();
                assertThat(harness.upstream().requests().stream().map(RecordedRequest::path))
                        .as("the old upstream got only the request admitted before the reload").containsExactly("/stream");
            }
        }
    }

    /** A policy allowing everything with {@code limits.max_body_size: 64KiB}. */
    private static String bodyLimitPolicy() {
        return harness.fill("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                limits:
                  max_body_size: 64KiB
                default: allow
                rules: []
                """, Map.of());
    }

    /**
     * SPEC 3.8 "No request fails because of a reload" and README Reload "limits ... apply to connections accepted
     * after the reload". A reload lowers {@code max_body_size} from 64KiB to 1KiB while a 4 KiB upload is half sent:
     * it completes (200, echoed whole); the same upload on a connection accepted after the reload gets 413.
     */
    @Test
    void anUploadInFlightKeepsTheOldBodyLimitAndANewConnectionGetsTheNewOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String before = bodyLimitPolicy();
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        byte[] body = PatternBytes.bytes(4096);
        String head = "POST /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: 4096\r\n\r\n";

        try (RawHttp old = gw.raw()) {
            old.send(head).send(Arrays.copyOf(body, 1000));
            harness.upstream().awaitHeads(1, DEADLINE);

            Files.writeString(file, before.replace("64KiB", "1KiB"));
            assertThat(admin.reload().status()).isEqualTo(200);

            old.send(Arrays.copyOfRange(body, 1000, 4096));
            RawResponse first = old.readResponse();
            assertThat(first.status()).as("the upload in flight during the reload: %s", first).isEqualTo(200);
            assertThat(first.body()).isEqualTo(body);
        }
        try (RawHttp fresh = gw.raw()) {
            fresh.send(head).send(body);
            assertThat(fresh.readResponse().status()).as("4 KiB on a connection accepted after the reload")
                    .isEqualTo(413);
        }
    }

    /**
     * README Reload "each request is decided wholly by the generation that was live when its head arrived: its ...
     * max_body_size ..., also on a keep-alive connection opened before the reload" and README Limits "A reload applies
     * max_body_size ... from the next request on, also on an open connection". A keep-alive connection accepted while
     * {@code max_body_size} was 64KiB sends a 4 KiB upload after a reload lowered it to 1KiB: 413. (The README said
     * the opposite, that a connection keeps the limits it was accepted with, until this test found that it does
     * not; the README was corrected, since per request is what nginx does too.)
     */
    @Test
    void aKeepAliveConnectionsNextRequestIsHeldToTheReloadedBodyLimit(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String before = bodyLimitPolicy();
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        byte[] body = PatternBytes.bytes(4096);
        String head = "POST /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: 4096\r\n\r\n";

        try (RawHttp old = gw.raw()) {
            old.send(head).send(body);
            assertThat(old.readResponse().status()).as("4 KiB before the reload").isEqualTo(200);

            Files.writeString(file, before.replace("64KiB", "1KiB"));
            assertThat(admin.reload().status()).isEqualTo(200);
            try (RawHttp fresh = gw.raw()) {
                fresh.send(head).send(body);
                assertThat(fresh.readResponse().status()).as("the reload is live for new connections").isEqualTo(413);
            }

            old.send(head).send(body);
            RawResponse second = old.readResponse();
            assertThat(second.status()).as("4 KiB on the connection accepted before the reload: %s", second)
                    .isEqualTo(413);
        }
    }

    /**
     * README Reload: timeouts apply to connections accepted after the reload. {@code header_timeout} lowered from
     * 10s to 600ms: an incomplete head on a connection accepted after the reload gets 408, one on a connection
     * accepted before it is still open well past 600ms and is answered 200 once completed.
     */
    @Test
    void aConnectionKeepsTheHeaderTimeoutItWasAcceptedWith(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String before = harness.fill("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                limits:
                  header_timeout: 10s
                default: allow
                rules: []
                """, Map.of());
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        String partial = "GET /slowloris HTTP/1.1\r\nHost: " + gw.authority() + "\r\n";

        try (RawHttp old = gw.raw()) {
            old.send("GET /warm HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(old.readResponse().status()).isEqualTo(200);

            Files.writeString(file, before.replace("header_timeout: 10s", "header_timeout: 600ms"));
            assertThat(admin.reload().status()).isEqualTo(200);

            long sent = System.nanoTime();
            old.send(partial);
            try (RawHttp fresh = gw.raw()) {
                fresh.send(partial);
                RawResponse timedOut = fresh.readResponse();
                assertThat(timedOut.status()).as("incomplete head on a connection accepted after the reload")
                        .isEqualTo(408);
            }
            long waited = Duration.ofNanos(System.nanoTime() - sent).toMillis();
            assertThat(old.await(Duration.ofMillis(Math.max(1, 2000 - waited))))
                    .as("the older connection (header_timeout 10s) 2 s into an incomplete head").isEqualTo(RawHttp.State.OPEN);
            old.send("\r\n");
            assertThat(old.readResponse().status()).as("its head, completed after 2 s").isEqualTo(200);
        }
    }

    /**
     * README Proxying "A tunnel keeps the config generation that allowed it (a reload does not re-decide it)"; SPEC 3.8
     * "No request fails because of a reload". A tunnel open across a reload that denies its path keeps echoing; a new
     * handshake is decided by the new policy (403).
     */
    @Test
    void anOpenWebSocketTunnelSurvivesAReloadThatDeniesNewHandshakes(@TempDir Path dir) throws Exception {
        WebSocketEchoServer echo = WebSocketEchoServer.start();
        try {
            Path file = dir.resolve("policy.yaml");
            String allowWs = String.join("\n",
                    "listen: \"127.0.0.1:0\"",
                    "admin:",
                    "  listen: \"127.0.0.1:0\"",
                    "upstream:",
                    "  url: \"http://127.0.0.1:" + echo.port() + "\"",
                    "default: deny",
                    "rules:",
                    "  - name: sockets",
                    "    match: { paths: [\"/ws\"] }",
                    "");
            Files.writeString(file, allowWs);
            Gateway gw = harness.startFile(file);
            ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            Messages in = new Messages();
            WebSocket ws = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                    .buildAsync(URI.create("ws://" + gw.authority() + WebSocketEchoServer.PATH), in)
                    .get(15, TimeUnit.SECONDS);
            assertThat(in.next()).isEqualTo("welcome");
            ws.sendText("before", true).get(10, TimeUnit.SECONDS);
            assertThat(in.next()).isEqualTo("before");

            Files.writeString(file, allowWs.replace("[\"/ws\"] }", "[\"/nothing\"] }"));
            assertThat(admin.reload().status()).isEqualTo(200);

            ws.sendText("after", true).get(10, TimeUnit.SECONDS);
            assertThat(in.next()).as("the tunnel admitted before the reload still echoes").isEqualTo("after");
            assertThat(in.closed).as("the tunnel is still open").isNotDone();

            CompletableFuture<WebSocket> denied = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                    .buildAsync(URI.create("ws://" + gw.authority() + WebSocketEchoServer.PATH), new Messages());
            Throwable failure = null;
            try {
                denied.get(15, TimeUnit.SECONDS).abort();
            } catch (ExecutionException e) {
                failure = e.getCause();
            }
            assertThat(failure).as("a handshake after the reload").isInstanceOf(WebSocketHandshakeException.class);
            assertThat(((WebSocketHandshakeException) failure).getResponse().statusCode()).isEqualTo(403);
            assertThat(echo.handshakes()).as("the denied handshake never reached the upstream").hasSize(1);
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        } finally {
            echo.close();
        }
    }

    /**
     * README Reload "upstream.* applies to new requests" and SPEC 3.8 (a request is decided wholly by one
     * generation). {@code upstream.response_timeout} lowered from 10s to 400ms: a request waiting on the upstream
     * when the reload happens keeps its 10s and gets 200; the same slow request sent after it on a new connection
     * gets 504.
     */
    @Test
    void aLoweredResponseTimeoutSparesTheRequestInFlightAndAppliesToTheNextOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String before = harness.fill("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                  response_timeout: 10s
                default: allow
                rules: []
                """, Map.of());
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        try (RawHttp inFlight = gw.raw()) {
            inFlight.send("GET /_up/delay/1500 HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Request-Id: in-flight\r\n\r\n");
            harness.upstream().awaitHeads(1, DEADLINE);
            Files.writeString(file, before.replace("response_timeout: 10s", "response_timeout: 400ms"));
            assertThat(admin.reload().status()).isEqualTo(200);

            try (RawHttp fresh = gw.raw()) {
                fresh.send("GET /_up/delay/1500 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
                assertThat(fresh.readResponse().status()).as("a slow request sent after the reload").isEqualTo(504);
            }
            RawResponse r = inFlight.readResponse();
            assertThat(r.status()).as("the slow request in flight during the reload: %s", r).isEqualTo(200);
        }
    }

    // --------------------------------------------------------------------------------------- kept / reset

    /**
     * SPEC 3.5 + 3.8 (identity is reloaded) and README "Verified tokens are cached": the cache must not let a token
     * verified before a reload keep the identity the old {@code identity.jwt} block gave it. A reload switching
     * {@code roles_claim} to {@code groups} gives the same token the role {@code ops}; one changing the audience
     * makes it 401 (invalid_token), although both times the JWKS file and the token are unchanged.
     */
    @Test
    void aChangedIdentityBlockAppliesToATokenVerifiedBeforeTheReload(@TempDir Path dir) throws Exception {
        RSAKey key = JwtMint.rsa("k1");
        JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        String template = harness.fill("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                identity:
                  jwt:
                    issuer: "https://issuer.test/"
                    audience: ["AUDIENCE"]
                    algorithms: [RS256]
                    jwks_file: "jwks.json"
                    roles_claim: "ROLES_CLAIM"
                  upstream_headers:
                    subject: "X-Auth-Subject"
                    roles: "X-Auth-Roles"
                default: deny
                rules:
                  - name: ops
                    match: { paths: ["/ops/**"] }
                    require: { roles: [ops] }
                  - name: any
                    match: { paths: ["/any/**"] }
                    require: { authenticated: true }
                """, Map.of());
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, template.replace("AUDIENCE", "orders-api").replace("ROLES_CLAIM", "roles"));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        String bearer = "Bearer " + JwtMint.sign(key, JWSAlgorithm.RS256,
                claims("alice", "viewer").claim("groups", List.of("ops")).build());

        assertThat(harness.get(gw, "/any/1", "Authorization", bearer).statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/any/2", "Authorization", bearer).statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/ops/1", "Authorization", bearer).statusCode()).as("roles [viewer]").isEqualTo(403);
        awaitMetrics(gw, m -> m.valueOrZero("portcullis_jwt_cache_hits_total", Map.of()) >= 1,
                "the token answered from the verified-token cache");

        Files.writeString(file, template.replace("AUDIENCE", "orders-api").replace("ROLES_CLAIM", "groups"));
        assertThat(admin.reload().status()).isEqualTo(200);
        assertThat(harness.get(gw, "/ops/2", "Authorization", bearer).statusCode())
                .as("roles read from groups after the reload").isEqualTo(200);
        assertThat(harness.upstream().awaitRequest(r -> r.path().equals("/ops/2"), DEADLINE).header("X-Auth-Roles"))
                .as("roles told to the upstream").hasValueSatisfying(v -> assertThat(v).contains("ops"));

        Files.writeString(file, template.replace("AUDIENCE", "billing-api").replace("ROLES_CLAIM", "groups"));
        assertThat(admin.reload().status()).isEqualTo(200);
        HttpResponse<byte[]> r = harness.get(gw, "/any/3", "Authorization", bearer);
        assertThat(r.statusCode()).as("a token for another audience after the reload").isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                .contains("invalid_token"));
    }

    /**
     * SPEC 3.8 "An invalid config is rejected, the old one keeps serving" and README Reload ("rate limiters whose
     * definition did not change keep their buckets"). A rejected file that would also have changed a limiter leaves
     * everything as it was: its empty bucket, /config's version, generation, loaded_at and rule count,
     * config_info and reloads_total{success}. A later valid reload of the unchanged definition still keeps that
     * bucket and clears last_error.
     */
    @Test
    void aRejectedReloadLeavesBucketsGenerationAndMetricsAsTheyWere(@TempDir Path dir) throws Exception {
        String template = harness.fill(String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\"",
                "rate_limits:",
                "  tight: { key: client_ip, limit: LIMIT, per: 1h }",
                "default: DEFAULT",
                "rules:",
                "  - name: limited",
                "    match: { paths: [\"/limited/**\"] }",
                "    rate_limit: tight",
                "  - name: open",
                "    match: { paths: [\"/open/**\"] }",
                ""), Map.of());
        String live = template.replace("LIMIT", "2").replace("DEFAULT", "deny");
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, live);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertThat(List.of(status(gw, "/limited/1"), status(gw, "/limited/2"), status(gw, "/limited/3")))
                .containsExactly(200, 200, 429);
        JsonNode c0 = admin.config();
        PrometheusText m0 = scrape(gw);

        Files.writeString(file, template.replace("LIMIT", "50").replace("DEFAULT", "perhaps"));
        ConfigAdmin.Answer rejected = admin.reload();
        assertThat(rejected.status()).as("reload: %s", rejected.body()).isEqualTo(422);

        JsonNode c1 = admin.config();
        for (String field : List.of("version", "generation", "loaded_at", "rules", "source")) {
            assertThat(c1.path(field)).as("/config %s after a rejected reload", field).isEqualTo(c0.path(field));
        }
        assertThat(c1.path("last_error").path("problems").toString()).contains("perhaps");
        assertThat(status(gw, "/limited/4")).as("the limiter's bucket is still empty").isEqualTo(429);
        assertThat(status(gw, "/open/1")).isEqualTo(200);
        assertThat(status(gw, "/elsewhere")).as("still default deny").isEqualTo(403);
        PrometheusText m1 = scrape(gw);
        assertThat(m1.samples("portcullis_config_info")).isEqualTo(m0.samples("portcullis_config_info"));
        assertThat(m1.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success")))
                .isEqualTo(m0.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success")));

        Files.writeString(file, live + "# a comment: a new version, the same limiter\n");
        ConfigAdmin.Answer applied = admin.reload();
        assertThat(applied.status()).as("reload: %s", applied.body()).isEqualTo(200);
        JsonNode c2 = admin.config();
        assertThat(c2.path("last_error").isNull()).as("last_error after a later applied reload: %s", c2).isTrue();
        assertThat(c2.path("generation").asLong()).isGreaterThan(c0.path("generation").asLong());
        assertThat(status(gw, "/limited/5")).as("an unchanged limiter keeps its bucket").isEqualTo(429);
    }

    // --------------------------------------------------------------------------------------- addresses

    /**
     * SPEC 3.8 "`listen` and `admin.listen` changes need a restart (logged as a warning)"; README "the reload is
     * applied and answers with a warning saying so, and the old addresses keep serving". A reload that moves
     * {@code listen} and also changes a rule: the rule change is live on the old port, the new port is not bound.
     */
    @Test
    void aReloadMovingListenAppliesItsOtherChangesAndLeavesTheNewAddressUnbound(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String before = open("a", "");
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        int newPort = GatewayHarness.deadPort();
        String after = open("b", "").replaceFirst("127\\.0\\.0\\.1:0", "127.0.0.1:" + newPort);

        Files.writeString(file, after);
        ConfigAdmin.Answer answer = admin.reload();

        assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
        assertThat(answer.body().path("warnings").toString()).contains("listen").contains("restart");
        assertThat(status(gw, "/b/x")).as("the new rule, on the old port").isEqualTo(200);
        assertThat(status(gw, "/a/x")).as("the old rule is gone").isEqualTo(403);
        assertThat(admin.config().path("version").asText()).isEqualTo(ConfigAdmin.version(after));
        try (Socket s = new Socket()) {
            boolean refused = false;
            try {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), newPort), 2000);
            } catch (ConnectException e) {
                refused = true;
            }
            assertThat(refused).as("nothing listens on the new address until a restart").isTrue();
        }
    }

    // --------------------------------------------------------------------------------------- real process

    /**
     * SPEC 3.8 / README: SIGHUP on the packaged jar, three in a row while a slow request is in flight: each applies
     * its file (generation 2, 3, 4), the request admitted under the first policy is answered 200 even though the
     * later ones deny its path, and the process keeps serving.
     */
    @Test
    void sighupsInARowOnTheRealProcessWhileARequestIsInFlight(@TempDir Path dir) throws Exception {
        try (UpstreamServer upstream = UpstreamServer.start()) {
            upstream.handler(req -> req.path().startsWith("/slow/")
                    ? Reply.delayed(Duration.ofMillis(4000), Reply.echo()) : Reply.echo());
            Path config = dir.resolve("policy.yaml");
            Files.writeString(config, processPolicy(upstream.port(), "slow", false));
            try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), List.of())) {
                gateway.awaitListening();
                ConfigAdmin admin = new ConfigAdmin(gateway.adminPort());
                try (RawHttp inFlight = RawHttp.connect(gateway.port())) {
                    inFlight.send("GET /slow/1 HTTP/1.1\r\nHost: gw\r\n\r\n");
                    upstream.awaitHeads(1, DEADLINE);
                    long generation = 1;
                    for (String allowed : List.of("b", "c", "d")) {
                        String next = processPolicy(upstream.port(), allowed, false);
                        ConfigAdmin.replaceAtomically(config, next);
                        gateway.signal("HUP");
                        JsonNode applied = admin.awaitVersion(ConfigAdmin.version(next), DEADLINE);
                        assertThat(applied.path("generation").asLong()).isEqualTo(++generation);
                        assertThat(rawStatus(gateway.port(), "/" + allowed + "/x")).isEqualTo(200);
                    }
                    RawResponse r = inFlight.readResponse();
                    assertThat(r.status()).as("the request in flight across three SIGHUPs: %s", r).isEqualTo(200);
                }
                assertThat(rawStatus(gateway.port(), "/slow/2")).as("/slow after the reloads").isEqualTo(403);
                JsonNode status = admin.config();
                assertThat(status.path("reloads").path("applied").asLong()).isEqualTo(3);
                assertThat(status.path("reloads").path("rejected").asLong()).isZero();
                assertThat(gateway.process().isAlive()).as("output: %s", gateway.output()).isTrue();
            }
        }
    }

    /**
     * README Reload "Reloads run one at a time and coalesce ... ends on the newest file"; SPEC 6 "POST /reload:
     * reload as SIGHUP; 200 with the new version". With {@code watch: true}, a file renamed into place and at once a
     * SIGHUP and a POST /reload (three triggers for one change): the POST answers 200 with that version, the gateway
     * settles on it with no rejection, generation = 1 + applied reloads, and reloads_total{success} agrees.
     */
    @Test
    void sighupPostReloadAndWatchTogetherSettleOnTheNewestFile(@TempDir Path dir) throws Exception {
        try (UpstreamServer upstream = UpstreamServer.start()) {
            Path config = dir.resolve("policy.yaml");
            Files.writeString(config, processPolicy(upstream.port(), "a", true));
            try (GatewayProcess gateway = GatewayProcess.start(config, Map.of(), List.of())) {
                gateway.awaitListening();
                ConfigAdmin admin = new ConfigAdmin(gateway.adminPort());
                String last = null;
                for (String allowed : List.of("b", "c")) {
                    last = processPolicy(upstream.port(), allowed, true);
                    ConfigAdmin.replaceAtomically(config, last);
                    CompletableFuture<ConfigAdmin.Answer> post = CompletableFuture.supplyAsync(() -> {
                        try {
                            return admin.reload();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    gateway.signal("HUP");
                    ConfigAdmin.Answer answer = post.get(20, TimeUnit.SECONDS);
                    assertThat(answer.status()).as("POST /reload: %s", answer.body()).isEqualTo(200);
                    assertThat(answer.body().path("version").asText()).isEqualTo(ConfigAdmin.version(last));
                }
                JsonNode settled = awaitSettled(admin, ConfigAdmin.version(last), Duration.ofMillis(1500));
                long applied = settled.path("reloads").path("applied").asLong();
                assertThat(applied).as("applied reloads for 2 changes x 3 triggers: %s", settled).isBetween(2L, 6L);
                assertThat(settled.path("reloads").path("rejected").asLong()).isZero();
                assertThat(settled.path("generation").asLong()).isEqualTo(1 + applied);
                assertThat(rawStatus(gateway.port(), "/c/x")).isEqualTo(200);
                assertThat(rawStatus(gateway.port(), "/b/x")).isEqualTo(403);
                PrometheusText m = PrometheusText.parse(httpGet(gateway.adminPort(), "/metrics"));
                assertThat(m.valueOrZero("portcullis_config_reloads_total", Map.of("result", "success")))
                        .isEqualTo((double) applied);
                assertThat(gateway.process().isAlive()).as("output: %s", gateway.output()).isTrue();
            }
        }
    }

    // --------------------------------------------------------------------------------------- watch

    /**
     * README Reload "`watch` itself can be switched on or off by a reload". Started with {@code watch: false}; a POST
     * /reload switches it on, so the next in-place write is applied without a trigger; a watched write switching it
     * off is applied, and the write after that is not (until a POST /reload).
     */
    @Test
    void watchIsSwitchedOnAndOffByAReload(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, open("a", "watch: false"));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        Files.writeString(file, open("b", "watch: true"));
        assertThat(admin.reload().status()).isEqualTo(200);
        Files.writeString(file, open("c", "watch: true"));
        admin.awaitVersion(ConfigAdmin.version(open("c", "watch: true")), DEADLINE);
        assertThat(status(gw, "/c/x")).isEqualTo(200);

        Files.writeString(file, open("d", "watch: false"));
        JsonNode off = admin.awaitVersion(ConfigAdmin.version(open("d", "watch: false")), DEADLINE);
        Files.writeString(file, open("e", "watch: false"));
        assertVersionStays(admin, off.path("version").asText(), Duration.ofMillis(3000));
        assertThat(status(gw, "/d/x")).isEqualTo(200);
        assertThat(status(gw, "/e/x")).isEqualTo(403);

        ConfigAdmin.Answer answer = admin.reload();
        assertThat(answer.body().path("version").asText()).isEqualTo(ConfigAdmin.version(open("e", "watch: false")));
        assertThat(status(gw, "/e/x")).isEqualTo(200);
    }

    /**
     * SPEC 3.8 (an invalid config is rejected, the old one keeps serving) and README (a missing file is rejected;
     * "An empty file is never a policy with no rules"). A watched config file is deleted: the old policy keeps
     * serving and /readyz stays 200; then a directory takes its place: POST /reload is 422 naming the file, the old
     * policy still serves; then a valid file is renamed into place and the watcher applies it.
     */
    @Test
    void aWatchedFileThatDisappearsOrBecomesADirectoryLeavesTheOldPolicyServing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String before = open("a", "watch: true");
        Files.writeString(file, before);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        Files.delete(file);
        assertVersionStays(admin, ConfigAdmin.version(before), Duration.ofMillis(2500));
        assertThat(status(gw, "/a/x")).as("the old policy after the file vanished").isEqualTo(200);
        assertThat(status(gw, "/b/x")).isEqualTo(403);
        assertThat(httpStatus(gw.adminUri("/readyz"))).isEqualTo(200);

        Files.createDirectory(file);
        ConfigAdmin.Answer answer = admin.reload();
        assertThat(answer.status()).as("POST /reload with a directory at the config path: %s", answer.body())
                .isEqualTo(422);
        assertThat(answer.body().path("problems").toString()).contains("policy.yaml");
        assertThat(status(gw, "/a/x")).isEqualTo(200);
        assertThat(admin.config().path("version").asText()).isEqualTo(ConfigAdmin.version(before));

        Files.delete(file);
        String after = open("b", "watch: true");
        ConfigAdmin.replaceAtomically(file, after);
        JsonNode applied = admin.awaitVersion(ConfigAdmin.version(after), DEADLINE);
        assertThat(applied.path("last_error").isNull()).as("last_error once a good file is back: %s", applied).isTrue();
        assertThat(status(gw, "/b/x")).isEqualTo(200);
        assertThat(status(gw, "/a/x")).isEqualTo(403);
    }

    // --------------------------------------------------------------------------------------- helpers

    private static String processPolicy(int upstreamPort, String allowed, boolean watch) {
        return String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "watch: " + watch,
                "upstream:",
                "  url: \"http://127.0.0.1:" + upstreamPort + "\"",
                "default: deny",
                "rules:",
                "  - name: allow-" + allowed,
                "    match: { paths: [\"/" + allowed + "/**\"] }",
                "");
    }

    private static int status(Gateway gw, String path) throws Exception {
        return harness.get(gw, path).statusCode();
    }

    private static int rawStatus(int port, String path) throws IOException {
        return RawHttp.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n").status();
    }

    private static int httpStatus(URI uri) throws Exception {
        return harness.client().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static String httpGet(int port, String path) throws Exception {
        return harness.client().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static PrometheusText scrape(Gateway gw) throws Exception {
        return PrometheusText.parse(httpGet(gw.adminPort(), "/metrics"));
    }

    private static PrometheusText awaitMetrics(Gateway gw, Predicate<PrometheusText> condition, String what)
            throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            PrometheusText m = scrape(gw);
            if (condition.test(m)) {
                return m;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("/metrics did not show " + what + " within " + DEADLINE);
            }
            Thread.sleep(20);
        }
    }

    /** Asserts that /config's version stays {@code version} (and no reload is applied) for {@code period}. */
    private static void assertVersionStays(ConfigAdmin admin, String version, Duration period) throws Exception {
        long applied = admin.config().path("reloads").path("applied").asLong();
        long end = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < end) {
            JsonNode c = admin.config();
            assertThat(c.path("version").asText()).as("/config version: %s", c).isEqualTo(version);
            assertThat(c.path("reloads").path("applied").asLong()).as("applied reloads: %s", c).isEqualTo(applied);
            Thread.sleep(50);
        }
    }

    /** Waits until {@code version} is live without last_error and no reload has finished for {@code quiet}. */
    private static JsonNode awaitSettled(ConfigAdmin admin, String version, Duration quiet) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long count = -1;
        long stableSince = System.nanoTime();
        while (true) {
            JsonNode c = admin.config();
            long now = c.path("reloads").path("applied").asLong() + c.path("reloads").path("rejected").asLong();
            if (now != count) {
                count = now;
                stableSince = System.nanoTime();
            }
            if (version.equals(c.path("version").asText()) && c.path("last_error").isNull()
                    && System.nanoTime() - stableSince >= quiet.toNanos()) {
                return c;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not settled on " + version + "; last: " + c);
            }
            Thread.sleep(25);
        }
    }

    private static byte[] readExactly(InputStream in, long n) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (out.size() < n) {
            int k = in.read(buf, 0, (int) Math.min(buf.length, n - out.size()));
            if (k < 0) {
                throw new IOException("the stream ended after " + out.size() + " of " + n + " bytes");
            }
            out.write(buf, 0, k);
        }
        return out.toByteArray();
    }

    /** Collects text messages of a client WebSocket. */
    private static final class Messages implements WebSocket.Listener {
        final LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }

        String next() throws InterruptedException {
            String m = messages.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no WebSocket message within 10 s");
            }
            return m;
        }
    }
}
