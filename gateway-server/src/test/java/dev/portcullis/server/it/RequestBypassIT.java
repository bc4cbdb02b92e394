package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests that would pass the policy as one thing and reach the upstream as another (SPEC 3.6, 3.7):
 * method spellings, override headers, trailers, requests pipelined behind a closing error, and pooled
 * upstream connections left dirty by a response.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RequestBypassIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void aMethodThatIsNotAnUpperCaseTokenIsRejectedWith400() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        for (String method : List.of("delete", "Get", "pOST", "GET1")) {
            RawResponse r = RawHttp.exchange(gw.port(), method + " /x HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(r.status()).as(method).isEqualTo(400);
        }
        Thread.sleep(Probe.QUIET.toMillis());
        assertThat(harness.upstream().requests()).isEmpty();
        RawResponse ok = RawHttp.exchange(gw.port(), "M-SEARCH /x HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
        assertThat(ok.status()).as("an upper-case extension method is proxied").isEqualTo(200);
    }

    @Test
    void methodAndUrlOverrideHeadersNeverReachTheUpstreamInAnySpelling() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        RecordedRequest up = new Probe(harness, gw).allowed("/items/1",
                "X-HTTP-Method-Override: DELETE", "x_http_method: PUT", "X-METHOD-OVERRIDE: PATCH",
                "X-Original-URL: /blocked/x", "x-rewrite_url: /blocked/y");
        assertThat(up.method()).isEqualTo("GET");
        assertThat(up.path()).isEqualTo("/items/1");
        assertThat(up.headers()).noneMatch(h -> {
            String name = h.name().toLowerCase().replace('_', '-');
            return name.equals("x-http-method-override") || name.equals("x-http-method")
                    || name.equals("x-method-override") || name.equals("x-original-url")
                    || name.equals("x-rewrite-url");
        });
    }

    @Test
    void requestTrailersAreNotForwardedButTheBodyIs() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        String request = "POST /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nTransfer-Encoding: chunked\r\n"
                + "Trailer: X-Auth-Subject\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Auth-Subject: admin\r\n"
                + "X-Evil: 1\r\n\r\n";
        try (RawHttp raw = gw.raw()) {
            assertThat(raw.send(request).readResponse().status()).isEqualTo(200);
        }
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(new String(up.body(), StandardCharsets.US_ASCII)).isEqualTo("hello world");
        assertThat(up.trailers()).isEmpty();
        assertThat(up.hasHeader("X-Auth-Subject")).isFalse();
        assertThat(up.hasHeader("X-Evil")).isFalse();
    }

    @Test
    void aRequestPipelinedBehindA400IsNeverDecidedOrForwarded() throws Exception {
        Gateway gw = harness.start("default-allow.yaml");
        String smuggled = "GET /second HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
        String first = "GET /first HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: 3\r\n\r\nabc";
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(first + smuggled).readResponse();
            assertThat(r.status()).as("a body on GET").isEqualTo(400);
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).isTrue();
        }
        String badMethod = "get /first HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n";
        try (RawHttp raw = gw.raw()) {
            assertThat(raw.send(badMethod + smuggled).readResponse().status()).isEqualTo(400);
            assertThat(raw.awaitClosed(Duration.ofSeconds(5))).isTrue();
        }
        Thread.sleep(Probe.QUIET.toMillis());
        assertThat(harness.upstream().requests()).isEmpty();
    }

    /*
     * The poisoned connection matters when it is handed straight to a request that waits for it: with
     * max_connections: 1, a second client on the same event loop waits while the first one's response
     * arrives with extra bytes in the same read. Accepted connections go to the event loops in turn, so
     * the first and third connections share a loop (the second stays idle).
     */
    @SuppressWarnings("try") // the idle connection only takes an event-loop slot
    private void assertExtraBytesPoisonNothing(String method, String path, byte[] answerWithExtra) throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        harness.upstream().handler(req -> req.path().equals(path)
                ? (r, out) -> {
                    sleep(400);
                    out.write(answerWithExtra);
                    out.flush();
                    return true;
                }
                : Reply.echo());
        try (RawHttp first = gw.raw(); RawHttp idle = gw.raw(); RawHttp victim = gw.raw()) {
            first.send(method + " " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            harness.upstream().awaitHeads(1, Duration.ofSeconds(5));
            victim.send("GET /victim HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse answered = first.readResponse("HEAD".equals(method));
            assertThat(answered.status()).isIn(200, 204);
            assertThat(answered.header("X-Poison")).isEmpty();
            RawResponse next = victim.readResponse();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.header("X-Poison")).as("the victim got the stray response").isEmpty();
            assertThat(next.header("X-Echo-Target")).contains("/victim");
        }
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("the dirty connection was not reused")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final String STRAY = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Poison: 1\r\n\r\nstolen";

    @Test
    void aHeadAnswerWithAStrayBodyPoisonsNoOtherRequest() throws Exception {
        assertExtraBytesPoisonNothing("HEAD", "/h", ("HTTP/1.1 200 OK\r\nContent-Length: " + STRAY.length()
                + "\r\n\r\n" + STRAY).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void anUnsolicitedSecondResponsePoisonsNoOtherRequest() throws Exception {
        assertExtraBytesPoisonNothing("GET", "/double",
                ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + STRAY).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void bytesPastContentLengthPoisonNoOtherRequest() throws Exception {
        assertExtraBytesPoisonNothing("GET", "/long",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nX-Poi".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void wholeLinesPastContentLengthPoisonNoOtherRequest() throws Exception {
        // complete lines leave no readable bytes behind: the decoder has taken them in as a new response's head
        assertExtraBytesPoisonNothing("GET", "/lines",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nX-Poison: 1\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void linesArrivingWhileTheConnectionIdlesPoisonNoOtherRequest() throws Exception {
        Gateway gw = harness.start("pool-one.yaml");
        harness.upstream().handler(req -> req.path().equals("/late")
                ? (r, out) -> {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    sleep(300);
                    out.write("HTTP/1.1 200 OK\r\nX-Poison: 1\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    return true;
                }
                : Reply.echo());
        // one client connection, so one event loop: the next request would take the same pooled connection
        try (RawHttp client = gw.raw()) {
            client.send("GET /late HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            assertThat(client.readResponse().status()).isEqualTo(200);
            sleep(800); // the stray lines reach the pooled connection while it idles
            client.send("GET /victim HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse next = client.readResponse();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.header("X-Echo-Target")).contains("/victim");
        }
        List<RecordedRequest> seen = harness.upstream().awaitRequests(2, Duration.ofSeconds(5));
        assertThat(seen.get(1).connectionId()).as("the dirty connection was not lent again")
                .isNotEqualTo(seen.get(0).connectionId());
    }

    @Test
    void aBodyOn204PoisonsNoOtherRequest() throws Exception {
        assertExtraBytesPoisonNothing("GET", "/nocontent",
                ("HTTP/1.1 204 No Content\r\n\r\n" + STRAY).getBytes(StandardCharsets.US_ASCII));
    }
}
