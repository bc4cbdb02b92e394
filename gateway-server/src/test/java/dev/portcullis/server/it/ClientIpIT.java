package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SPEC 3.2 ip and 3.3: client IP from X-Forwarded-For / Forwarded only behind a trusted peer (the test
 * client is always 127.0.0.1), walked from the right; CIDR boundaries; what the upstream is told.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClientIpIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void usesThePeerAddressWhenATrustedPeerSendsNoForwardingHeaders() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-trusted.yaml"));

        p.allowed("/local/x");
        p.forbidden("/x");
    }

    @Test
    void allowsAndDeniesByCidrFromTrustedXForwardedFor() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-trusted.yaml"));

        p.allowed("/x", "X-Forwarded-For: 198.51.100.7");
        p.allowed("/x", "X-Forwarded-For: 198.51.100.0");
        p.allowed("/x", "X-Forwarded-For: 198.51.100.255");
        p.forbidden("/x", "X-Forwarded-For: 198.51.101.0");
        p.forbidden("/x", "X-Forwarded-For: 198.51.99.255");
        p.forbidden("/x", "X-Forwarded-For: 203.0.113.9");
        p.forbidden("/local/x", "X-Forwarded-For: 203.0.113.9");
        p.forbidden("/local/x", "X-Forwarded-For: 198.51.101.1");
    }

    @Test
    void comparesIpv6AndIpv4MappedAddresses() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-trusted.yaml"));

        p.allowed("/x", "X-Forwarded-For: 2001:db8::1");
        p.allowed("/x", "X-Forwarded-For: 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
        p.forbidden("/x", "X-Forwarded-For: 2001:db9::1");
        p.allowed("/x", "X-Forwarded-For: ::ffff:198.51.100.7");
        p.forbidden("/x", "X-Forwarded-For: ::ffff:203.0.113.9");
        // an IPv4-mapped CIDR matches the plain IPv4 address and the mapped form
        p.allowed("/x", "X-Forwarded-For: 192.0.2.5");
        p.allowed("/x", "X-Forwarded-For: ::ffff:192.0.2.255");
        p.forbidden("/x", "X-Forwarded-For: 192.0.3.1");
    }

    @Test
    void walksXForwardedForFromTheRightSkippingTrustedProxies() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-trusted.yaml"));

        p.allowed("/x", "X-Forwarded-For: 203.0.113.9, 198.51.100.7");
        p.forbidden("/x", "X-Forwarded-For: 198.51.100.7, 203.0.113.9");
        p.allowed("/x", "X-Forwarded-For: 203.0.113.9, 198.51.100.7, 10.1.2.3");
        p.forbidden("/x", "X-Forwarded-For: 198.51.100.7, 203.0.113.9, 10.1.2.3, 10.9.9.9");
        // every header, in order, comma-joined
        p.allowed("/x", "X-Forwarded-For: 203.0.113.9", "X-Forwarded-For: 198.51.100.7");
        p.forbidden("/x", "X-Forwarded-For: 198.51.100.7", "X-Forwarded-For: 203.0.113.9");
        // "1.2.3.4:80" is tolerated
        p.allowed("/x", "X-Forwarded-For: 198.51.100.7:8080");
    }

    @Test
    void stopsTheWalkAtAnEntryThatIsNotAnIpLiteral() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-trusted.yaml"));

        // the walk stops at "unknown": the client is the last valid address seen, here the peer itself
        p.allowed("/local/x", "X-Forwarded-For: 203.0.113.9, unknown");
        p.forbidden("/x", "X-Forwarded-For: 198.51.100.7, unknown");
        p.allowed("/local/x", "X-Forwarded-For: 203.0.113.9, ");
        p.forbidden("/x", "X-Forwarded-For: 198.51.100.7, proxy.example.com");
    }

    @Test
    void usesForwardedForWhenThereIsNoXForwardedFor() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-trusted.yaml"));

        p.allowed("/x", "Forwarded: for=198.51.100.7");
        p.allowed("/x", "Forwarded: for=\"[2001:db8::1]:4711\";proto=https");
        p.forbidden("/x", "Forwarded: for=203.0.113.9;proto=http");
    }

    @Test
    void ignoresForwardingHeadersFromAnUntrustedPeer() throws Exception {
        Probe p = new Probe(harness, harness.start("ip-untrusted.yaml"));

        // the client IP stays 127.0.0.1 whatever the headers claim
        p.forbidden("/x", "X-Forwarded-For: 198.51.100.7");
        p.forbidden("/x", "Forwarded: for=198.51.100.7");
        p.allowed("/local/x", "X-Forwarded-For: 203.0.113.9");
        p.allowed("/local/x", "Forwarded: for=203.0.113.9");
        p.allowed("/local/x");
    }

    @Test
    void tellsTheUpstreamTheForwardingChainFromATrustedPeer() throws Exception {
        var gw = harness.start("ip-trusted.yaml");
        Probe p = new Probe(harness, gw);

        RecordedRequest up = p.allowed("/x", "Host: app.example.com:8443", "X-Forwarded-For: 198.51.100.7");

        assertThat(xffChain(up)).containsExactly("198.51.100.7", "127.0.0.1");
        assertThat(up.headerValues("X-Forwarded-Proto")).containsExactly("http");
        assertThat(up.headerValues("X-Forwarded-Host")).hasSize(1);
        assertThat(up.header("X-Forwarded-Host").orElseThrow()).isIn("app.example.com:8443", "app.example.com");
    }

    /** Only the dashed spellings are read and extended, so the others would reach a CGI-style upstream unread. */
    @Test
    void dropsUnderscoreSpellingsOfForwardingHeadersFromATrustedPeer() throws Exception {
        var gw = harness.start("ip-trusted.yaml");
        Probe p = new Probe(harness, gw);

        RecordedRequest up = p.allowed("/x", "X-Forwarded-For: 198.51.100.7", "X-Forwarded_For: 203.0.113.1",
                "X_Forwarded_Host: internal.example", "x_forwarded_proto: https", "X_Real_IP: 203.0.113.1");

        assertThat(xffChain(up)).containsExactly("198.51.100.7", "127.0.0.1");
        assertThat(up.hasHeader("X-Forwarded_For")).isFalse();
        assertThat(up.hasHeader("X_Forwarded_Host")).isFalse();
        assertThat(up.hasHeader("x_forwarded_proto")).isFalse();
        assertThat(up.hasHeader("X_Real_IP")).isFalse();
        assertThat(up.headerValues("X-Forwarded-Proto")).containsExactly("http");
    }

    @Test
    void tellsTheUpstreamThePeerWhenTheClientSentNoForwardingHeaders() throws Exception {
        var gw = harness.start("proxy.yaml");
        Probe p = new Probe(harness, gw);

        RecordedRequest up = p.allowed("/x");

        assertThat(xffChain(up)).containsExactly("127.0.0.1");
        assertThat(up.headerValues("X-Forwarded-Proto")).containsExactly("http");
        assertThat(up.headerValues("X-Forwarded-Host")).hasSize(1);
        assertThat(up.header("X-Forwarded-Host").orElseThrow()).isIn(gw.authority(), "127.0.0.1");
    }

    @Test
    void appendsTheUntrustedPeerAndDoesNotPassSpoofedProtoOrHost() throws Exception {
        var gw = harness.start("proxy.yaml");
        Probe p = new Probe(harness, gw);

        RecordedRequest up = p.allowed("/x", "Host: app.example.com", "X-Forwarded-For: 203.0.113.9",
                "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example.net");

        List<String> chain = xffChain(up);
        assertThat(chain).as("X-Forwarded-For at the upstream ends with the peer").isNotEmpty();
        assertThat(chain.get(chain.size() - 1)).isEqualTo("127.0.0.1");
        assertThat(chain).as("the client-sent value is either kept before the peer or dropped")
                .isIn(List.of("203.0.113.9", "127.0.0.1"), List.of("127.0.0.1"));
        assertThat(up.headerValues("X-Forwarded-Proto"))
                .as("an untrusted peer cannot claim https")
                .containsExactly("http");
        assertThat(up.headerValues("X-Forwarded-Host"))
                .as("an untrusted peer cannot choose X-Forwarded-Host")
                .containsExactly("app.example.com");
    }

    private static List<String> xffChain(RecordedRequest up) {
        return up.headerValues("X-Forwarded-For").stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }
}
