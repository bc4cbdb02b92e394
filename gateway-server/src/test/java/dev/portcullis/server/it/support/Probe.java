package dev.portcullis.server.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Sends one raw request per call through a gateway and asserts whether it was proxied (200 from the
 * upstream, which recorded it) or answered by the gateway (and the upstream saw nothing).
 */
public final class Probe {

    /** How long "the upstream received nothing" is watched after a gateway-made answer. */
    public static final Duration QUIET = Duration.ofMillis(150);

    private final GatewayHarness harness;
    private final Gateway gw;
    private final @Nullable String from;
    private final String to;

    public Probe(GatewayHarness harness, Gateway gw) {
        this(harness, gw, null, "127.0.0.1");
    }

    private Probe(GatewayHarness harness, Gateway gw, @Nullable String from, String to) {
        this.harness = harness;
        this.gw = gw;
        this.from = from;
        this.to = to;
    }

    /**
     * The same probe connecting from local address {@code localAddress} (127.0.0.2, ::1, ...): other loopback
     * addresses stand for other peers, e.g. a trusted proxy and an untrusted client of one gateway.
     */
    public Probe from(String localAddress) {
        return new Probe(harness, gw, localAddress, to);
    }

    /** The same probe connecting to the gateway's port on {@code address} (e.g. ::1) instead of 127.0.0.1. */
    public Probe to(String address) {
        return new Probe(harness, gw, from, address);
    }

    /**
     * Builds a bodiless request; {@code headerLines} are "Name: value" lines. A Host header for the gateway
     * is added unless one of the lines is a Host header.
     */
    public String request(String method, String target, String... headerLines) {
        StringBuilder sb = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        boolean hasHost = false;
        for (String line : headerLines) {
            if (line.regionMatches(true, 0, "Host:", 0, 5)) {
                hasHost = true;
            }
        }
        if (!hasHost) {
            sb.append("Host: ").append(gw.authority()).append("\r\n");
        }
        for (String line : headerLines) {
            sb.append(line).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /** Sends a bodiless request on a fresh connection (from this probe's local address, if it has one). */
    public RawResponse send(String method, String target, String... headerLines) throws IOException {
        String request = request(method, target, headerLines);
        if (from == null && to.equals("127.0.0.1")) {
            return RawHttp.exchange(gw.port(), request);
        }
        try (RawHttp raw = RawHttp.connect(from == null ? "127.0.0.1" : from, to, gw.port())) {
            return raw.send(request).readResponse(method.equals("HEAD"));
        }
    }

    /** How a request is named in a failed assertion: method, target, source address, abbreviated headers. */
    private String described(String method, String target, String... headerLines) {
        return method + " " + target + (from == null ? "" : " from " + from) + " "
                + JwtAssertions.abbreviate(headerLines);
    }

    /** Asserts the request is proxied (200) and returns what the upstream received. */
    public RecordedRequest allowedAs(String method, String target, String... headerLines) throws IOException {
        int before = harness.upstream().headsReceived();
        RawResponse r = send(method, target, headerLines);
        assertThat(r.status())
                .as("%s should be proxied; got:%n%s", described(method, target, headerLines), r)
                .isEqualTo(200);
        assertThat(r.header("X-Request-Id")).as("X-Request-Id on a proxied answer").isPresent();
        harness.upstream().awaitHeads(before + 1, Duration.ofSeconds(5));
        List<RecordedRequest> all = harness.upstream().awaitRequests(before + 1, Duration.ofSeconds(5));
        return all.get(all.size() - 1);
    }

    /** GET shorthand for {@link #allowedAs}. */
    public RecordedRequest allowed(String target, String... headerLines) throws IOException {
        return allowedAs("GET", target, headerLines);
    }

    /** Asserts the gateway answers the exact 403 of SPEC 3.6 and the upstream receives nothing. */
    public RawResponse forbiddenAs(String method, String target, String... headerLines) throws IOException {
        int before = harness.upstream().headsReceived();
        RawResponse r = send(method, target, headerLines);
        assertThat(r.status())
                .as("%s should be denied with 403; got:%n%s", described(method, target, headerLines), r)
                .isEqualTo(403);
        GatewayAssertions.assertForbidden(r);
        harness.upstream().assertHeadsStayAt(before, QUIET);
        return r;
    }

    /** GET shorthand for {@link #forbiddenAs}. */
    public RawResponse forbidden(String target, String... headerLines) throws IOException {
        return forbiddenAs("GET", target, headerLines);
    }

    /** Asserts a gateway-made error with {@code status} and that the upstream receives nothing. */
    public RawResponse rejected(int status, String method, String target, String... headerLines)
            throws IOException {
        int before = harness.upstream().headsReceived();
        RawResponse r = send(method, target, headerLines);
        assertThat(r.status())
                .as("%s should be answered %d by the gateway; got:%n%s", described(method, target, headerLines),
                        status, r)
                .isEqualTo(status);
        GatewayAssertions.assertGatewayError(r, status);
        harness.upstream().assertHeadsStayAt(before, QUIET);
        return r;
    }
}
