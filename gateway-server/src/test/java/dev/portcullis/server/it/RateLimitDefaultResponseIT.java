package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The 429 of SPEC 3.6 as the gateway makes it when {@code responses} does not replace it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RateLimitDefaultResponseIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void aRateLimitedRequestGetsTheDefaultJsonBodyAndRetryAfterInWholeSeconds() throws Exception {
        Probe p = new Probe(harness, harness.start("rate-limit-default.yaml"));
        p.allowed("/single/1");

        RawResponse limited = p.rejected(429, "GET", "/single/2");
        assertThat(limited.bodyText()).isEqualTo(GatewayAssertions.RATE_LIMITED_BODY);
        assertThat(limited.header("Content-Type")).contains("application/json");
        assertThat(limited.header("Content-Length")).contains(Integer.toString(limited.body().length));
        // limit 1 per 1h: the next token is an hour away, rounded up to whole seconds
        assertThat(limited.header("Retry-After")).hasValueSatisfying(
                v -> assertThat(Integer.parseInt(v)).isBetween(3500, 3600));
    }
}
