package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.RedisServer;
import dev.portcullis.server.it.support.StoreMeters;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box rate limit checks written from SPEC 3 ({@code rate_limits}, {@code rate_limit_store}), 3.1, 3.6, 5 and
 * README "Rate limits" / "Shared rate limits (Redis)" / "Status codes": Retry-After against limit/per/burst, even
 * refill, keys (client_ip spellings, anonymous subject, repeated key header), limiters shared by rules, the 429's
 * connection handling, and shared limiters (IPv4-mapped keys, reloads, Redis down with on_error deny).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecRateLimitCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    static RSAKey key;
    static String jwksFile;

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @BeforeAll
    static void keys() throws Exception {
        key = JwtMint.rsa("xrate-1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
    }

    private static final String HEAD = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
            """;

    private static final String LOCAL_POLICY = HEAD + """
            rate_limits:
              hourly6: { key: client_ip, limit: 6, per: 1h, burst: 3 }
              slow: { key: client_ip, limit: 1, per: 2s, burst: 2 }
              once-ip: { key: client_ip, limit: 1, per: 1h }
              other-ip: { key: client_ip, limit: 1, per: 1h }
              once-user: { key: subject, limit: 1, per: 1h }
              once-tenant: { key: "header:X-Tenant", limit: 1, per: 1h }
            default: deny
            rules:
              - name: hourly
                match: { paths: ["/hourly/**"] }
                rate_limit: hourly6
              - name: slow
                match: { paths: ["/slow/**"] }
                rate_limit: slow
              - name: first-of-two
                match: { paths: ["/a/**"] }
                rate_limit: once-ip
              - name: second-of-two
                match: { paths: ["/b/**"] }
                rate_limit: once-ip
              - name: other
                match: { paths: ["/c/**"] }
                rate_limit: other-ip
              - name: by-ip
                match: { paths: ["/ip/**"] }
                rate_limit: once-ip
              - name: by-user
                match: { paths: ["/user/**"] }
                rate_limit: once-user
              - name: by-tenant
                match: { paths: ["/tenant/**"] }
                rate_limit: once-tenant
              - name: open
                match: { paths: ["/open/**"] }
            """;

    private static Gateway startLocal() throws Exception {
        return harness.startYaml(dir, LOCAL_POLICY, Map.of("JWKS_FILE", jwksFile));
    }

    private static String token(String sub) {
        return bearer(JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims(sub).build()));
    }

    private JsonNode lineOf(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id").orElseThrow(() -> new AssertionError("no X-Request-Id: " + r)));
    }

    private static double rateLimited(Gateway gw, String limiter) throws Exception {
        return PrometheusText.parse(StoreMeters.metricsText(harness, gw))
                .valueOrZero("portcullis_rate_limited_total", Map.of("limiter", limiter));
    }

    private static double awaitRateLimited(Gateway gw, String limiter, double expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        double v = rateLimited(gw, limiter);
        while (v < expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            v = rateLimited(gw, limiter);
        }
        return v;
    }

    /** A 429 exactly as SPEC 3.6 says, that the upstream never saw; returns its Retry-After. */
    private static int limited(Probe p, String target, String... lines) throws Exception {
        RawResponse r = p.rejected(429, "GET", target, lines);
        assertThat(r.bodyText()).as("429 body of %s", target).isEqualTo(GatewayAssertions.RATE_LIMITED_BODY);
        String ra = r.header("Retry-After").orElseThrow(() -> new AssertionError("no Retry-After on " + r));
        assertThat(ra).as("Retry-After is whole seconds: %s", r).matches("[0-9]+");
        int seconds = Integer.parseInt(ra);
        assertThat(seconds).as("Retry-After at least 1: %s", r).isGreaterThanOrEqualTo(1);
        return seconds;
    }

    // ------------------------------------------------------------------ 1

    /**
     * README Rate limits: "capacity limit + burst, full at first use, refilled evenly at limit per per (not a fixed
     * window)"; SPEC 3.6 429 with Retry-After (seconds) and the exact body; SPEC 4 the access line names the rule
     * and a reason; SPEC 5 rate_limited_total{limiter}. 6 per hour + burst 3: 9 admitted, then the next token is
     * 10 minutes away (not the hour of a fixed window).
     */
    @Test
    void retryAfterIsTheTimeToTheNextEvenlyRefilledTokenAndEvery429IsCountedAndLogged() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);
        for (int i = 0; i < 9; i++) {
            p.allowed("/hourly/" + i);
        }
        int retryAfter = limited(p, "/hourly/9");
        assertThat(retryAfter).as("6 per hour: one token every 600 s").isBetween(590, 600);
        int again = limited(p, "/hourly/10");
        assertThat(again).isBetween(590, 600);
        assertThat(harness.upstream().requests()).as("only the admitted requests reached the upstream").hasSize(9);

        RawResponse third = p.send("GET", "/hourly/11");
        assertThat(third.status()).isEqualTo(429);
        JsonNode line = lineOf(third);
        assertThat(line.path("status").asInt()).as("access line %s", line).isEqualTo(429);
        assertThat(line.path("rule").asText(null)).as("access line %s", line).isEqualTo("hourly");
        assertThat(line.path("reason").asText("")).as("a specific reason in %s", line).isNotBlank();
        assertThat(line.get("upstream_status") == null || line.get("upstream_status").isNull())
                .as("no upstream status for a 429: %s", line).isTrue();
        assertThat(awaitRateLimited(gw, "hourly6", 3)).as("rate_limited_total{limiter=hourly6}").isEqualTo(3);
        assertThat(rateLimited(gw, "slow")).isZero();
    }

    // ------------------------------------------------------------------ 2

    /**
     * README: "refilled evenly at limit per per (not a fixed window)". 1 per 2 s with burst 2 (capacity 3): after
     * the bucket is emptied, one interval gives back one token, not the whole capacity; the next 429 says 1..2 s.
     */
    @Test
    void anEmptiedBucketRefillsOneTokenPerIntervalNotTheWholeCapacity() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);
        for (int i = 0; i < 3; i++) {
            p.allowed("/slow/" + i);
        }
        long emptied = System.nanoTime(); // after every take, so at least as late as the bucket's refill started
        int ra = limited(p, "/slow/3");
        assertThat(ra).as("1 per 2 s: the next token within 2 s").isBetween(1, 2);
        // refilling goes by wall-clock time, so this stays a wait: one interval (2 s) from the emptying plus a
        // margin, well short of the 4 s a second token would need
        TimeUnit.NANOSECONDS.sleep(emptied + TimeUnit.MILLISECONDS.toNanos(2_150) - System.nanoTime());
        p.allowed("/slow/4");
        int ra2 = limited(p, "/slow/5");
        assertThat(ra2).as("after one refilled token is used, the next within 2 s").isBetween(1, 2);
        assertThat(harness.upstream().requests()).hasSize(4);
    }

    // ------------------------------------------------------------------ 3

    /**
     * SPEC 3 "named limiters that rules refer to" / README "Each limiter is a token bucket per key": two rules
     * naming one limiter draw on one bucket per key; another limiter with the same definition has its own.
     */
    @Test
    void twoRulesNamingOneLimiterDrawOnOneBucket() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);
        String ip = "X-Forwarded-For: 198.51.100.31";
        p.allowed("/a/x", ip);
        int ra = limited(p, "/b/x", ip);
        assertThat(ra).isBetween(3500, 3600);
        assertThat(lineOf(p.send("GET", "/b/y", ip)).path("rule").asText()).isEqualTo("second-of-two");
        limited(p, "/ip/x", ip);
        p.allowed("/c/x", ip);
        limited(p, "/c/y", ip);
        p.allowed("/b/x", "X-Forwarded-For: 198.51.100.32");
        assertThat(awaitRateLimited(gw, "once-ip", 3)).isEqualTo(3);
        assertThat(awaitRateLimited(gw, "other-ip", 1)).isEqualTo(1);
    }

    // ------------------------------------------------------------------ 4

    /**
     * README: the key is "the resolved client_ip (IPv4 and IPv4-mapped IPv6 are one key)"; SPEC 3.3 tolerates an
     * IPv4 entry with a port ("1.2.3.4:80") and reads Forwarded: for= when there is no X-Forwarded-For. The key is
     * the address, so another spelling of the same address must not get a fresh bucket.
     */
    @Test
    void aClientIpBucketIsTheAddressWhateverItsSpelling() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);

        p.allowed("/ip/v6", "X-Forwarded-For: 2001:db8::7");
        limited(p, "/ip/v6", "X-Forwarded-For: 2001:DB8:0:0:0:0:0:7");
        limited(p, "/ip/v6", "X-Forwarded-For: 2001:0db8::0007");
        limited(p, "/ip/v6", "Forwarded: for=\"[2001:db8::7]:4711\"");
        p.allowed("/ip/v6", "X-Forwarded-For: 2001:db8::8");

        p.allowed("/ip/v4", "X-Forwarded-For: 198.51.100.41");
        limited(p, "/ip/v4", "X-Forwarded-For: 198.51.100.41:8080");
        limited(p, "/ip/v4", "Forwarded: for=198.51.100.41");
        limited(p, "/ip/v4", "X-Forwarded-For: ::ffff:198.51.100.41");
        limited(p, "/ip/v4", "X-Forwarded-For: 0:0:0:0:0:ffff:c633:6429");
        assertThat(harness.upstream().requests()).hasSize(3);
    }

    // ------------------------------------------------------------------ 5

    /**
     * README: key subject = "the identity's subject (anonymous requests share one bucket)". Anonymous requests from
     * different addresses share one bucket; subjects, including ones spelled like a placeholder for "nobody", each
     * have their own and are never counted against the anonymous one.
     */
    @Test
    void anonymousRequestsShareOneSubjectBucketAndNoSubjectFallsIntoIt() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);
        p.allowed("/user/x", "X-Forwarded-For: 198.51.100.51");
        limited(p, "/user/x", "X-Forwarded-For: 198.51.100.52");
        limited(p, "/user/x", "X-Forwarded-For: 2001:db8::52");

        for (String sub : List.of("alice", "anonymous", "null", "-", "(anonymous)")) {
            RecordedRequest up = p.allowed("/user/" + sub, token(sub));
            assertThat(up.headerValues("Authorization")).as("the token goes on").hasSize(1);
            limited(p, "/user/" + sub, token(sub));
        }
    }

    // ------------------------------------------------------------------ 6

    /**
     * README Status codes 400: "a repeated header, in any spelling of its name (X_Tenant for X-Tenant), that decides
     * access: ... or the header: key of its rate limit (ambiguous_header)", connection closed. Such a request draws
     * no token and never reaches the upstream. The header name is case-insensitive for the key.
     */
    @Test
    void aRepeatedRateLimitKeyHeaderIsRefusedAsAmbiguousAndDrawsNoToken() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);
        for (String[] lines : List.of(
                new String[] {"X-Tenant: acme", "X-Tenant: globex"},
                new String[] {"X-Tenant: acme", "x-tenant: acme"},
                new String[] {"X-Tenant: acme", "X_Tenant: globex"})) {
            try (RawHttp raw = gw.raw()) {
                RawResponse r = raw.send(p.request("GET", "/tenant/x", lines)).readResponse();
                assertThat(r.status()).as("repeated limiter key header %s: %s", List.of(lines), r).isEqualTo(400);
                GatewayAssertions.assertGatewayError(r, 400);
                assertThat(lineOf(r).path("reason").asText()).isEqualTo("ambiguous_header");
                assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("400 closes the connection").isTrue();
            }
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
        p.allowed("/tenant/x", "X-Tenant: acme");
        p.allowed("/tenant/x", "X-Tenant: globex");
        limited(p, "/tenant/x", "x-tenant: acme");
        // a header the limiter does not read may repeat
        p.allowed("/tenant/x", "X-Tenant: initech", "X-Other: 1", "X-Other: 2");
        assertThat(rateLimited(gw, "once-tenant")).isEqualTo(1);
    }

    // ------------------------------------------------------------------ 7

    /**
     * README Status codes: 429 "as 403" = "kept alive (closed if the request had a body)". A 429 to a bodiless
     * request leaves the connection usable; a 429 to a request with a body closes it, and the body is never read as
     * a request.
     */
    @Test
    void a429KeepsTheConnectionAliveUnlessTheRequestHadABody() throws Exception {
        Gateway gw = startLocal();
        Probe p = new Probe(harness, gw);
        String ip = "X-Forwarded-For: 198.51.100.71";
        try (RawHttp raw = gw.raw()) {
            assertThat(raw.send(p.request("GET", "/ip/1", ip)).readResponse().status()).isEqualTo(200);
            RawResponse r = raw.send(p.request("GET", "/ip/2", ip)).readResponse();
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.connectionTokens()).doesNotContain("close");
            RawResponse next = raw.send(p.request("GET", "/open/after-429", ip)).readResponse();
            assertThat(next.status()).as("the connection is still served after a 429: %s", next).isEqualTo(200);
        }
        int before = harness.upstream().headsReceived();
        String smuggled = "GET /open/smuggled HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
        try (RawHttp raw = gw.raw()) {
            String head = "POST /ip/3 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n" + ip + "\r\n"
                    + "Content-Type: text/plain\r\nContent-Length: " + smuggled.length() + "\r\n\r\n";
            raw.send(head + smuggled);
            RawResponse r = raw.readResponse();
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.bodyText()).isEqualTo(GatewayAssertions.RATE_LIMITED_BODY);
            assertThat(raw.awaitClosed(Duration.ofSeconds(3)))
                    .as("a 429 to a request with a body closes the connection").isTrue();
        }
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
    }

    // ------------------------------------------------------------------ shared

    private static final String SHARED_POLICY = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            rate_limits:
              ip-shared: { key: client_ip, limit: {{LIMIT}}, per: 1h, scope: shared }
              steady: { key: "header:X-Tenant", limit: 1, per: 1h, scope: shared }
            rate_limit_store:
              redis:
                url: "{{REDIS_URL}}"
                timeout: 200ms
                on_error: {{ON_ERROR}}
            default: deny
            rules:
              - name: ip
                match: { paths: ["/ip/**"] }
                rate_limit: ip-shared
              - name: tenant
                match: { paths: ["/tenant/**"] }
                rate_limit: steady
              - name: open
                match: { paths: ["/open/**"] }
            """;

    private static String shared(RedisServer redis, String limit, String onError) {
        return harness.fill(SHARED_POLICY, Map.of("REDIS_URL", redis.url(), "LIMIT", limit, "ON_ERROR", onError));
    }

    private static Gateway startShared(Path file) throws Exception {
        Gateway gw = harness.startFile(file);
        StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(5));
        return gw;
    }

    // ------------------------------------------------------------------ 8

    /**
     * README Shared: "the same token bucket as the local one" — whose key is "the resolved client_ip (IPv4 and
     * IPv4-mapped IPv6 are one key)". With two gateways on one Redis, another spelling of the same address sent
     * to the other replica must not get a fresh bucket.
     */
    @Test
    void aSharedClientIpBucketIsTheAddressAcrossReplicasAndSpellings() throws Exception {
        RedisServer redis = RedisServer.start();
        try {
            Path file = dir.resolve("shared-ip.yaml");
            Files.writeString(file, shared(redis, "1", "deny"));
            Gateway a = startShared(file);
            Gateway b = startShared(file);
            Probe pa = new Probe(harness, a);
            Probe pb = new Probe(harness, b);

            pa.allowed("/ip/x", "X-Forwarded-For: 198.51.100.81");
            limited(pb, "/ip/x", "X-Forwarded-For: 198.51.100.81");
            limited(pb, "/ip/x", "X-Forwarded-For: ::ffff:198.51.100.81");
            limited(pa, "/ip/x", "X-Forwarded-For: ::FFFF:198.51.100.81");

            pb.allowed("/ip/y", "X-Forwarded-For: 2001:db8::81");
            limited(pa, "/ip/y", "X-Forwarded-For: 2001:0DB8:0:0::81");
            pa.allowed("/ip/z", "X-Forwarded-For: 198.51.100.82");
            assertThat(harness.upstream().requests()).hasSize(3);
        } finally {
            harness.closeGateways();
            redis.stop();
        }
    }

    // ------------------------------------------------------------------ 9

    /**
     * README Rate limits: "A reload keeps the buckets of every limiter whose definition did not change; a changed
     * one starts full", and shared buckets are "the same token bucket as the local one". A shared limiter whose
     * limit a reload raises from 1 to 2 starts full (2 admitted); an unchanged shared limiter keeps its empty
     * bucket. rate_limited_total "starts again when a reload changes that limiter".
     */
    @Test
    void aReloadThatChangesASharedLimiterStartsItFullAndKeepsAnUnchangedOne() throws Exception {
        RedisServer redis = RedisServer.start();
        try {
            Path file = dir.resolve("shared-reload.yaml");
            Files.writeString(file, shared(redis, "1", "deny"));
            Gateway gw = startShared(file);
            Probe p = new Probe(harness, gw);
            String ip = "X-Forwarded-For: 198.51.100.91";

            p.allowed("/ip/x", ip);
            limited(p, "/ip/x", ip);
            p.allowed("/tenant/x", "X-Tenant: acme");
            limited(p, "/tenant/x", "X-Tenant: acme");
            assertThat(awaitRateLimited(gw, "ip-shared", 1)).isEqualTo(1);

            Files.writeString(file, shared(redis, "2", "deny"));
            ConfigAdmin.Answer answer = new ConfigAdmin(gw.adminPort()).reload();
            assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
            StoreMeters.awaitUp(harness, gw, Duration.ofSeconds(5));

            limited(p, "/tenant/x", "X-Tenant: acme");
            p.allowed("/ip/x", ip);
            p.allowed("/ip/x", ip);
            int ra = limited(p, "/ip/x", ip);
            assertThat(ra).as("2 per hour: next token within 1800 s").isBetween(1, 1800);
            assertThat(awaitRateLimited(gw, "ip-shared", 1))
                    .as("rate_limited_total{limiter=ip-shared} starts again after the change").isEqualTo(1);
        } finally {
            harness.closeGateways();
            redis.stop();
        }
    }

    // ------------------------------------------------------------------ 10

    /**
     * README Shared, on_error deny: "429 (Retry-After: 1) for every limited route while Redis is away (fail
     * closed)"; SPEC 3.6 the 429 body; README Metrics rate_limited_total counts "requests answered 429". The request
     * is never silently proxied, the answer is the exact 429, and each one is counted; a rule without a limiter is
     * unaffected.
     */
    @Test
    void onErrorDenyWithRedisGoneAnswersTheExact429CountsItAndNeverProxies() throws Exception {
        RedisServer redis = RedisServer.start();
        try {
            Path file = dir.resolve("shared-deny.yaml");
            Files.writeString(file, shared(redis, "100", "deny"));
            Gateway gw = startShared(file);
            Probe p = new Probe(harness, gw);
            p.allowed("/ip/x", "X-Forwarded-For: 198.51.100.101");
            redis.stop();

            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                int ra = limited(p, "/ip/x" + i, "X-Forwarded-For: 198.51.100.101");
                assertThat(ra).isEqualTo(1);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
            }
            limited(p, "/tenant/x", "X-Tenant: fresh");
            p.allowed("/open/x");
            assertThat(harness.upstream().requests()).extracting(RecordedRequest::path)
                    .containsExactly("/ip/x", "/open/x");
            assertThat(awaitRateLimited(gw, "ip-shared", 3)).as("rate_limited_total{limiter=ip-shared}")
                    .isEqualTo(3);
            assertThat(awaitRateLimited(gw, "steady", 1)).as("rate_limited_total{limiter=steady}").isEqualTo(1);
        } finally {
            harness.closeGateways();
            redis.stop();
        }
    }
}
