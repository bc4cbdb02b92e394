package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Rate limits (SPEC 3, 3.1, 3.6: 429 with Retry-After) and custom response bodies, through the real server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RateLimitIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void admitsLimitPlusBurstThenAnswers429WithRetryAfterThenAdmitsAgainAfterTheRefill() throws Exception {
        Gateway gw = harness.start("rate-limit.yaml");
        Probe p = new Probe(harness, gw);
        for (int i = 0; i < 3; i++) {
            assertThat(p.send("GET", "/limited/" + i).status()).as("request %d within limit + burst", i).isEqualTo(200);
        }
        RawResponse limited = p.send("GET", "/limited/x");
        assertThat(limited.status()).isEqualTo(429);
        assertThat(Integer.parseInt(limited.header("Retry-After").orElseThrow())).isBetween(1, 1);
        assertThat(limited.bodyText()).isEqualTo("{\"error\":\"Too Many Requests\",\"message\":\"Slow down\"}");
        assertThat(limited.header("Content-Type")).contains("application/json");
        assertThat(limited.header("X-Request-Id")).isPresent();
        int before = harness.upstream().headsReceived();

        // one token every 500 ms: allowed again within the Retry-After, polled with a deadline
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int status;
        do {
            Thread.sleep(100);
            status = p.send("GET", "/limited/again").status();
        } while (status == 429 && System.nanoTime() < deadline);
        assertThat(status).isEqualTo(200);
        assertThat(harness.upstream().headsReceived()).isEqualTo(before + 1);
    }

    @Test
    void aHeaderKeyedLimiterCountsEachValueApartAndRequestsWithoutItShareOneBucket() throws Exception {
        Gateway gw = harness.start("rate-limit.yaml");
        Probe p = new Probe(harness, gw);
        assertThat(p.send("GET", "/tenant/x", "X-Tenant: acme").status()).isEqualTo(200);
        RawResponse again = p.send("GET", "/tenant/x", "X-Tenant: acme");
        assertThat(again.status()).isEqualTo(429);
        assertThat(Integer.parseInt(again.header("Retry-After").orElseThrow())).isBetween(55, 60);
        assertThat(p.send("GET", "/tenant/x", "X-Tenant: globex").status()).isEqualTo(200);
        assertThat(p.send("GET", "/tenant/x").status()).isEqualTo(200);
        assertThat(p.send("GET", "/tenant/x").status()).isEqualTo(429);
        // X_Tenant is X-Tenant to a CGI-style upstream, and to the limiter: acme's bucket, not the keyless one
        assertThat(p.send("GET", "/tenant/x", "X_Tenant: acme").status()).isEqualTo(429);
        assertThat(p.send("GET", "/tenant/x", "x_tenant: initech").status()).isEqualTo(200);
    }

    @Test
    void aDeniedRequestIsNotCountedAndGetsTheCustomBodyFromItsFile() throws Exception {
        Gateway gw = harness.start("rate-limit.yaml");
        Probe p = new Probe(harness, gw);
        RawResponse denied = p.send("GET", "/blocked/x");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.header("Content-Type")).contains("text/html; charset=utf-8");
        assertThat(denied.bodyText()).contains("<h1>Not for you</h1>");
        assertThat(denied.header("Content-Length")).contains(Integer.toString(
                denied.bodyText().getBytes(StandardCharsets.UTF_8).length));
        RawResponse unmatched = p.send("GET", "/elsewhere");
        assertThat(unmatched.status()).as("default deny").isEqualTo(403);
        assertThat(unmatched.bodyText()).contains("Not for you");
    }

    @Test
    void rateLimitedRequestsAreCountedPerLimiterInMetrics() throws Exception {
        Gateway gw = harness.start("rate-limit.yaml");
        Probe p = new Probe(harness, gw);
        for (int i = 0; i < 5; i++) {
            p.send("GET", "/limited/" + i);
        }
        HttpResponse<String> metrics = harness.client().send(
                HttpRequest.newBuilder(gw.adminUri("/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.body()).containsPattern("portcullis_rate_limited_total\\{limiter=\"per-ip\"\\} 2(\\.0)?\\n");
        assertThat(metrics.body()).containsPattern("portcullis_rate_limited_total\\{limiter=\"per-tenant\"\\} 0(\\.0)?\\n");
    }
}
