package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The connection's single lazy timer: deadlines that move on every request (idle, head, body, response)
 * are enforced at the moment they pass, not at the moment the timer was first armed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LazyTimersIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void answers408WhenARequestBodyStopsForLongerThanIdleTimeout() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: 100\r\n\r\n0123456789");
            long start = System.nanoTime();
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            GatewayAssertions.assertGatewayError(r, 408);
            assertThat(took).as("408 about idle_timeout after the last body part").isBetween(
                    Duration.ofMillis(1200), Duration.ofSeconds(5));
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("connection closed after 408").isTrue();
        }
    }

    @Test
    void aBodyThatKeepsComingIsNotCutByTheDeadlineOfItsFirstPart() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            raw.send("POST /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: 8\r\n\r\n");
            for (int i = 0; i < 8; i++) {
                Thread.sleep(400); // 3.2 s in all, each pause well within idle_timeout
                raw.send("x");
            }
            RawResponse r = raw.readResponse();

            assertThat(r.status()).as("a body read in pauses shorter than idle_timeout:%n%s", r).isEqualTo(200);
        }
    }

    @Test
    void aKeptAliveConnectionUsedMoreOftenThanIdleTimeoutStaysOpenAcrossManyIdlePeriods() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            for (int i = 0; i < 6; i++) { // 6 x 600 ms idle: the connection outlives its first idle deadline
                RawResponse r = raw.send("GET /" + i + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
                assertThat(r.status()).as("request %d on a kept-alive connection", i).isEqualTo(200);
                assertThat(raw.awaitClosed(Duration.ofMillis(600))).as("open 600 ms after response %d", i).isFalse();
            }
            assertThat(raw.awaitClosed(Duration.ofSeconds(4))).as("closed once idle for idle_timeout").isTrue();
        }
    }

    @Test
    void aHeadStartedLateOnAKeptAliveConnectionGets408AboutHeaderTimeoutAfterItsFirstByte() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // header_timeout: 1s, idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            RawResponse first = raw.send("GET /a HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n").readResponse();
            assertThat(first.status()).isEqualTo(200);
            Thread.sleep(1200); // idle, but less than idle_timeout: the head deadline starts only now
            long start = System.nanoTime();
            raw.send("GET /b HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Slow: ");
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            GatewayAssertions.assertGatewayError(r, 408);
            assertThat(took).as("408 about header_timeout after the head's first byte, not the idle deadline")
                    .isBetween(Duration.ofMillis(800), Duration.ofSeconds(3));
        }
    }

    /**
     * SPEC 3.6 408: the beginning of a head sent behind a request, and never completed, is timed from that request's
     * response: sent in the same write (header lines, or a request line without its end), or while the exchange
     * before it waited for its upstream (a slowloris behind a request). It used to be closed silently at idle_timeout.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "header lines in the same write         | /a            | 0   | GET /b HTTP/1.1\\r\\nHost: h\\r\\n",
        "a request line without its end         | /a            | 0   | GET /b HT",
        "header lines while the upstream works  | /_up/delay/1000 | 200 | GET /b HTTP/1.1\\r\\nHost: h\\r\\nX-Slow: "
    })
    void theBeginningOfAHeadSentBehindARequestGets408AtHeaderTimeoutAfterThatResponse(String what, String first,
            long pauseMillis, String behind) throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // header_timeout: 1s, idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            String head = "GET " + first + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
            String tail = behind.replace("\\r\\n", "\r\n");
            if (pauseMillis == 0) {
                raw.send(head + tail);
            } else {
                raw.send(head);
                Thread.sleep(pauseMillis);
                raw.send(tail);
            }
            assertThat(raw.readResponse().status()).as("the request before it").isEqualTo(200);
            long start = System.nanoTime();
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            GatewayAssertions.assertGatewayError(r, 408);
            assertThat(took).as("408 about header_timeout after the first response, not a close at idle_timeout")
                    .isBetween(Duration.ofMillis(700), Duration.ofSeconds(3));
            assertThat(raw.awaitClosed(Duration.ofSeconds(3))).as("connection closed after 408").isTrue();
        }
    }

    /** Blank lines after a request (RFC 9112 2.2: ignored before a request line) begin no head: idle rules apply. */
    @Test
    void aBlankLineAfterARequestIsNoHeadAndTheConnectionStaysIdleForIdleTimeout() throws Exception {
        Gateway gw = harness.start("client-timeouts.yaml"); // header_timeout: 1s, idle_timeout: 1500ms
        try (RawHttp raw = gw.raw()) {
            String host = "Host: " + gw.authority() + "\r\n";
            RawResponse first = raw.send("POST /a HTTP/1.1\r\n" + host + "Content-Length: 2\r\n\r\nok\r\n")
                    .readResponse();
            assertThat(first.status()).isEqualTo(200);
            assertThat(raw.awaitClosed(Duration.ofMillis(1200))).as("open past header_timeout, idle").isFalse();
            RawResponse second = raw.send("GET /b HTTP/1.1\r\n" + host + "\r\n").readResponse();
            assertThat(second.status()).as("the next request on the idle connection:%n%s", second).isEqualTo(200);
        }
    }

    @Test
    void aResponseTimeoutShorterThanTheConnectionTimeoutsIsEnforcedOnEveryRequestOfAConnection() throws Exception {
        Gateway gw = harness.start("upstream-timeouts.yaml"); // response_timeout: 500ms
        try (RawHttp raw = gw.raw()) {
            for (int i = 0; i < 2; i++) {
                RawResponse ok = raw.send("GET /_up/delay/50 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                assertThat(ok.status()).isEqualTo(200);
                long start = System.nanoTime();
                RawResponse late = raw.send("GET /_up/delay/3000 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                        .readResponse();
                Duration took = Duration.ofNanos(System.nanoTime() - start);

                GatewayAssertions.assertGatewayError(late, 504);
                assertThat(took).as("504 about response_timeout after request %d", i).isBetween(
                        Duration.ofMillis(400), Duration.ofMillis(2500));
            }
        }
    }
}
