package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box attacks on the client identity the policy decides on, written from SPEC 3.2 (ip, countries, asns),
 * 3.3 (Client IP), 3.5 (identity: forwarded user headers, upstream_headers), 3.7, 4 (access log).
 *
 * <p>One gateway sees three peers, told apart by the loopback source address the test binds:
 * 127.0.0.1 is a load balancer ({@code clients.trusted_proxies} only), 127.0.0.2 the authenticating proxy
 * (both {@code clients.trusted_proxies} and {@code identity.forwarded.trusted_proxies}), 127.0.0.3 anybody.
 * 192.168.100.0/24 is a trusted intermediate hop that can appear inside X-Forwarded-For. The office is
 * 10.20.0.0/16 and 2001:db8:ff1::/48; 203.0.113.0/24 and 2001:db8:bad::/48 are blocked; GeoIP says
 * 175.45.176.0/22 is KP (embargoed), 81.2.69.0/24 is GB and 81.2.69.128/25 is AS64500 (denied).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecClientIpSpoofCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path dir;

    static final String LB = "127.0.0.1";
    static final String IDP = "127.0.0.2";
    static final String ANYONE = "127.0.0.3";
    static final String OFFICE = "10.20.0.5";
    static final String BLOCKED = "203.0.113.9";
    static final String KP = "175.45.176.1";
    static final String GB = "81.2.69.10";
    static final String BAD_ASN = "81.2.69.200";

    private static final String CONFIG = """
            listen: "{{LISTEN}}"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
            limits:
              max_header_size: 64KiB
            clients:
              trusted_proxies: ["127.0.0.1/32", "127.0.0.2/32", "192.168.100.0/24"]
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_file: "{{JWKS_FILE}}"
              forwarded:
                trusted_proxies: ["127.0.0.2/32"]
                user_header: "X-Forwarded-User"
                roles_header: "X-Forwarded-Groups"
              upstream_headers:
                subject: "X-Auth-Subject"
                roles: "X-Auth-Roles"
            geoip:
              database: "{{COUNTRY_DB}}"
              asn_database: "{{ASN_DB}}"
            rate_limits:
              per-ip: { key: client_ip, limit: 2, per: 1h }
            default: deny
            rules:
              - name: blocked-network
                match: { ip: ["203.0.113.0/24", "2001:db8:bad::/48"] }
                action: deny
              - name: embargo
                match: { countries: [KP] }
                action: deny
              - name: bad-asn
                match: { asns: [64500] }
                action: deny
              - name: office
                match: { paths: ["/office/**"] }
                require: { ip: ["10.20.0.0/16", "2001:db8:ff1::/48"] }
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
              - name: limited
                match: { paths: ["/limited/**"] }
                rate_limit: per-ip
              - name: public
                match: { paths: ["/public/**"] }
            """;

    static RSAKey key;
    static String jwksFile;
    static Path countryDb;
    static Path asnDb;

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @BeforeAll
    static void setUp() throws Exception {
        key = JwtMint.rsa("spoof-1");
        jwksFile = JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(key));
        countryDb = MmdbWriter.countries(Map.of(
                        "175.45.176.0/22", "KP",
                        "81.2.69.0/24", "GB"))
                .buildEpoch(Instant.parse("2025-06-01T12:00:00Z"))
                .write(dir.resolve("country.mmdb"));
        asnDb = MmdbWriter.asns(Map.of("81.2.69.128/25", 64500L))
                .buildEpoch(Instant.parse("2025-06-01T12:00:00Z"))
                .write(dir.resolve("asn.mmdb"));
    }

    private static Gateway start() throws Exception {
        return start("127.0.0.1:0");
    }

    private static Gateway start(String listen) throws Exception {
        return harness.startYaml(dir, CONFIG, Map.of("JWKS_FILE", jwksFile, "LISTEN", listen,
                "COUNTRY_DB", countryDb.toString(), "ASN_DB", asnDb.toString()));
    }

    // ------------------------------------------------------------------ 1. untrusted peer

    /**
     * SPEC 3.3: "Headers from untrusted peers are ignored for this purpose"; every forwarding header an attacker
     * could send naming an office address is ignored: the decision and the log are on the peer address, and the
     * upstream's X-Forwarded-For ends with the real peer ("with the peer appended").
     */
    @Test
    void untrustedPeerClaimingAnOfficeAddressIsDecidedOnItsPeerAddress() throws Exception {
        Gateway gw = start();
        String[] spoof = {"X-Forwarded-For: " + OFFICE, "Forwarded: for=" + OFFICE, "X-Real-IP: " + OFFICE,
            "True-Client-IP: " + OFFICE, "CF-Connecting-IP: " + OFFICE, "X-Client-IP: " + OFFICE};

        JsonNode l = lineOf(probe(gw, ANYONE).forbidden("/office/x", spoof));
        assertDecided(l, ANYONE, "ZZ", "office");

        // a second X-Forwarded-For line, and a Forwarded-only claim: still the peer
        assertDecided(lineOf(probe(gw, ANYONE).forbidden("/office/x", "X-Forwarded-For: 1.1.1.1",
                "X-Forwarded-For: " + OFFICE)), ANYONE, "ZZ", "office");
        assertDecided(lineOf(probe(gw, ANYONE).forbidden("/office/x", "Forwarded: for=\"" + OFFICE + "\"")),
                ANYONE, "ZZ", "office");
        assertDecided(lineOf(probe(gw, ANYONE).forbidden("/office/x", "X-Forwarded-For: ::ffff:" + OFFICE)),
                ANYONE, "ZZ", "office");

        RecordedRequest up = probe(gw, ANYONE).allowed("/public/x", spoof);
        List<String> chain = xffChain(up);
        System.out.println("[spoof] untrusted peer, upstream headers: " + up.headers());
        assertThat(chain).as("X-Forwarded-For at the upstream: %s", up.headers()).isNotEmpty();
        assertThat(chain.get(chain.size() - 1)).as("the peer is appended last").isEqualTo(ANYONE);
        // the upstream is told the real protocol and host (SPEC 3.3), not a client-chosen one
        assertThat(up.header("X-Forwarded-Proto")).hasValue("http");
    }

    /**
     * SPEC 3.3 + 3.2 countries/ip: an untrusted peer can neither be attributed a blocked network or country by
     * its headers (decided and logged on its own address, country ZZ for loopback) nor escape one.
     */
    @Test
    void untrustedPeerCannotBeAttributedASpoofedNetworkCountryOrAsn() throws Exception {
        Gateway gw = start();
        for (String spoofed : List.of(BLOCKED, KP, BAD_ASN, "::ffff:" + BLOCKED, "2001:db8:bad::1")) {
            RecordedRequest up = probe(gw, ANYONE).allowed("/public/" + spoofed.replace(':', '-'),
                    "X-Forwarded-For: " + spoofed, "Forwarded: for=\"" + spoofed + "\"");
            JsonNode l = lineOf(up);
            assertDecided(l, ANYONE, "ZZ", "public");
            assertThat(l.get("decision").asText()).isEqualTo("allow");
        }
    }

    // ------------------------------------------------------------------ 2. trusted peer: X-Forwarded-For walk

    /**
     * SPEC 3.3: walk X-Forwarded-For "(all such headers, in order, comma-joined) from the right and take the first
     * address that is not a trusted proxy". The attacker controls the left part only.
     */
    @Test
    void trustedPeerWalksXForwardedForFromTheRight() throws Exception {
        Gateway gw = start();
        // attacker prepends the office address; the LB appended the real (blocked) client
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + OFFICE + ", " + BLOCKED);
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + OFFICE + "," + BLOCKED);
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For:   " + OFFICE + " ,\t " + BLOCKED + "  ");
        // several lines are one list, in order: the last line's last entry is the rightmost
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + OFFICE, "X-Forwarded-For: " + BLOCKED);
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + OFFICE, "X-Request-Id: sp-1",
                "x-forwarded-for: " + BLOCKED);
        // trusted intermediate hops are skipped
        assertBlocked(gw, LB, "/office/x", BLOCKED,
                "X-Forwarded-For: " + OFFICE + ", " + BLOCKED + ", 192.168.100.7, 127.0.0.1");

        // the other way round the office client is believed, through trusted hops too
        RecordedRequest up = probe(gw, LB).allowed("/office/a", "X-Forwarded-For: " + BLOCKED + ", " + OFFICE);
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");
        assertThat(xffChain(up)).as("upstream X-Forwarded-For: %s", up.headers())
                .containsExactly(BLOCKED, OFFICE, LB);
        up = probe(gw, LB).allowed("/office/b", "X-Forwarded-For: " + BLOCKED, "X-Forwarded-For: " + OFFICE);
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");
        assertThat(xffChain(up)).containsExactly(BLOCKED, OFFICE, LB);
        up = probe(gw, LB).allowed("/office/c", "X-Forwarded-For: " + BLOCKED + ", " + OFFICE + ", 192.168.100.7");
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");
    }

    /**
     * SPEC 3.3: "An entry that is not an IP literal (empty entries, hostnames, ports on IPv4 are tolerated only as
     * 1.2.3.4:80) stops the walk: the client IP is then the last valid address already seen, which may be the peer
     * itself."
     */
    @Test
    void anEntryThatIsNotAnIpLiteralStopsTheWalkAtTheLastValidAddress() throws Exception {
        Gateway gw = start();
        // garbage right of the office address: the walk stops at once, the client is the peer
        for (String garbage : List.of("unknown", "_hidden", "", "office.example.com", "not an ip",
                "10.20.5", "0x0a.0x14.0.5", "10.20.0.5.6", "10.20.0.256", "2001:db8:ff1::5::1")) {
            RawResponse r = probe(gw, LB).forbidden("/office/x", "X-Forwarded-For: " + OFFICE + ", " + garbage);
            assertDecided(lineOf(r), LB, "ZZ", "office");
        }
        // trailing comma = an empty rightmost entry
        assertDecided(lineOf(probe(gw, LB).forbidden("/office/x", "X-Forwarded-For: " + OFFICE + ",")), LB, "ZZ",
                "office");
        // an empty X-Forwarded-For line after a good one: joined "10.20.0.5, " -> empty rightmost entry
        // (SPEC: all such headers, comma-joined) -- not asserted: an empty field value may or may not be a list member

        // garbage left of the client: the client is found before the walk gets there
        RecordedRequest up = probe(gw, LB).allowed("/office/y", "X-Forwarded-For: unknown, _x, , " + OFFICE);
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");

        // garbage between a trusted hop and the client: the last valid address seen is the trusted hop
        RawResponse r = probe(gw, LB).forbidden("/office/x", "X-Forwarded-For: " + OFFICE + ", unknown, 192.168.100.7");
        assertDecided(lineOf(r), "192.168.100.7", "ZZ", "office");
        r = probe(gw, LB).forbidden("/office/x", "X-Forwarded-For: " + OFFICE + ", , 192.168.100.7");
        assertDecided(lineOf(r), "192.168.100.7", "ZZ", "office");

        // garbage cannot hide a blocked client either: it is found first from the right
        assertBlocked(gw, LB, "/public/x", BLOCKED, "X-Forwarded-For: unknown, " + BLOCKED);

        // "ports on IPv4 are tolerated only as 1.2.3.4:80"
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + OFFICE + ", " + BLOCKED + ":80");
        up = probe(gw, LB).allowed("/office/z", "X-Forwarded-For: " + BLOCKED + ", " + OFFICE + ":443");
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");
    }

    /**
     * Non-canonical IPv4 spellings (leading zeros read as octal by inet_aton, short forms, hex) are not IP literals
     * in the RFC 3986 / inet_pton sense; SPEC 3.3 makes a non-literal stop the walk. A gateway that reads
     * "010.020.000.005" as 10.20.0.5 while the upstream's inet_aton reads 8.16.0.5 decides on another address than
     * the upstream logs. Expected: the walk stops, the client is the peer.
     */
    @Test
    void nonCanonicalIpv4SpellingsAreNotIpLiterals() throws Exception {
        Gateway gw = start();
        for (String s : List.of("010.020.000.005", "10.020.0.5", "012.24.0.5", "169082885", "0xa.20.0.5")) {
            RawResponse r = probe(gw, LB).send("GET", "/office/x", "X-Forwarded-For: " + BLOCKED + ", " + s);
            assertThat(r.status()).as("XFF %s, %s -> /office; got:%n%s", BLOCKED, s, r).isEqualTo(403);
            JsonNode l = lineOf(r);
            System.out.println("[spoof] XFF '" + s + "' -> client_ip=" + l.path("client_ip").asText()
                    + " rule=" + l.path("rule").asText());
            assertDecided(l, LB, "ZZ", "office");
        }
    }

    /** IPv6 zone ids and bracketed IPv6 in X-Forwarded-For: reported, and never an office or a crash. */
    @Test
    void bracketedAndZonedIpv6EntriesNeverYieldAnOfficeDecisionForABlockedClient() throws Exception {
        Gateway gw = start();
        for (String s : List.of("[2001:db8:bad::1]", "[2001:db8:bad::1]:443", "2001:db8:bad::1%eth0",
                "[::1]", "fe80::1%25lo")) {
            RawResponse r = probe(gw, LB).send("GET", "/office/x", "X-Forwarded-For: " + OFFICE + ", " + s);
            assertThat(r.status()).as("XFF %s, %s -> /office; got:%n%s", OFFICE, s, r).isEqualTo(403);
            JsonNode l = lineOf(r);
            System.out.println("[spoof] XFF '" + s + "' -> client_ip=" + l.path("client_ip").asText()
                    + " rule=" + l.path("rule").asText() + " reason=" + l.path("reason").asText());
            // either parsed (then it is the blocked / loopback client) or the walk stopped at the peer; never office
            assertThat(l.path("client_ip").asText()).isNotEqualTo(OFFICE);
        }
    }

    /** A 1000-entry chain is walked to its right end; an over-long header is 431 and never reaches the upstream. */
    @Test
    void veryLongChainsAreWalkedFromTheRightAndOverLongHeadersAreRejected() throws Exception {
        Gateway gw = start();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 999; i++) {
            sb.append("10.20.").append(i % 250).append('.').append(i % 200 + 1).append(", ");
        }
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + sb + BLOCKED);
        RecordedRequest up = probe(gw, LB).allowed("/office/x",
                "X-Forwarded-For: " + sb.toString().replace("10.20.", "203.0.") + OFFICE);
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");
        assertThat(xffChain(up)).hasSize(1001).endsWith(OFFICE, LB);

        String huge = "1.1.1.1, ".repeat(9000) + OFFICE; // ~80 KB > max_header_size 64KiB
        int before = harness.upstream().headsReceived();
        RawResponse r = probe(gw, LB).send("GET", "/office/x", "X-Forwarded-For: " + huge);
        assertThat(r.status()).as("over-long X-Forwarded-For; got:%n%s", r).isEqualTo(431);
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
    }

    /**
     * SPEC 3.3: "ports on IPv4 are tolerated only as 1.2.3.4:80": a bracketed IPv6 address with a port is not a
     * tolerated form, so it stops the walk and the client is the last valid address seen (here the peer).
     */
    @Test
    void bracketedIpv6WithPortInXForwardedForStopsTheWalk() throws Exception {
        Gateway gw = start();
        RawResponse r = probe(gw, LB).send("GET", "/office/x",
                "X-Forwarded-For: " + BLOCKED + ", [2001:db8:ff1::5]:443");
        assertThat(r.status()).as("XFF %s, [2001:db8:ff1::5]:443 -> /office; got:%n%s", BLOCKED, r).isEqualTo(403);
        assertDecided(lineOf(r), LB, "ZZ", "office");
    }

    /**
     * SPEC is silent on client-IP headers other than X-Forwarded-For / Forwarded. The gateway removes X-Real-IP,
     * X-Client-IP and Forwarded sent by an untrusted peer (so it treats them as spoofable client-IP claims); a
     * consistent treatment covers True-Client-IP, CF-Connecting-IP and the like too, which CDN-aware apps and rate
     * limiters read as the client address (it once passed those two through).
     */
    @Test
    void untrustedClientIpClaimsInEverySpellingAreRemovedConsistently() throws Exception {
        Gateway gw = start();
        RecordedRequest up = probe(gw, ANYONE).allowed("/public/x", "X-Real-IP: " + OFFICE, "X-Client-IP: " + OFFICE,
                "True-Client-IP: " + OFFICE, "CF-Connecting-IP: " + OFFICE, "X-Cluster-Client-IP: " + OFFICE,
                "Fastly-Client-IP: " + OFFICE, "Forwarded: for=" + OFFICE);
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-real-ip", "x-client-ip", "forwarded", "true-client-ip", "cf-connecting-ip",
                        "x-cluster-client-ip", "fastly-client-ip");
    }

    /**
     * Duplicated forwarded identity headers from the authenticating proxy (one that appended a client's copy instead
     * of replacing it): the gateway cannot know which line the proxy meant, so it refuses the request as it does any
     * repeated header that decides access (400 ambiguous_header), never taking either user.
     */
    @Test
    void duplicatedForwardedIdentityHeadersFromTheProxyAreRefused() throws Exception {
        Gateway gw = start();
        for (List<String> lines : List.of(List.of("X-Forwarded-User: alice", "X-Forwarded-User: root"),
                List.of("X-Forwarded-User: alice", "X_Forwarded_User: root"),
                List.of("X-Forwarded-User: alice", "X-Forwarded-Groups: user", "X-Forwarded-Groups: admin"))) {
            int before = harness.upstream().headsReceived();
            RawResponse r = probe(gw, IDP).send("GET", "/admin/x", lines.toArray(String[]::new));
            assertThat(r.status()).as("%s; got:%n%s", lines, r).isEqualTo(400);
            JsonNode l = lineOf(r);
            assertThat(l.path("reason").asText()).as("%s", lines).isEqualTo("ambiguous_header");
            assertThat(l.path("subject").isNull()).as("%s", lines).isTrue();
            harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        }
    }

    // ------------------------------------------------------------------ 3. RFC 7239 Forwarded

    /** SPEC 3.3: "RFC 7239 Forwarded: for= likewise when there is no X-Forwarded-For". */
    @Test
    void forwardedForIsWalkedLikewiseWhenThereIsNoXForwardedFor() throws Exception {
        Gateway gw = start();
        for (String f : List.of("for=" + OFFICE, "for=\"" + OFFICE + "\"", "For=" + OFFICE, "FOR=" + OFFICE,
                "for=\"" + OFFICE + ":4711\"", "proto=https;for=" + OFFICE + ";by=192.168.100.1",
                "for=" + BLOCKED + ", for=" + OFFICE, "for=\"[2001:db8:ff1::5]:4711\"", "for=\"[2001:db8:ff1::5]\"")) {
            RecordedRequest up = probe(gw, LB).allowed("/office/f", "Forwarded: " + f);
            JsonNode l = lineOf(up);
            assertThat(l.path("rule").asText()).as("Forwarded: %s", f).isEqualTo("office");
            assertThat(l.path("client_ip").asText()).as("Forwarded: %s", f).isIn(OFFICE, "2001:db8:ff1::5");
        }
        // rightmost wins; several Forwarded lines are one list
        assertBlocked(gw, LB, "/office/x", BLOCKED, "Forwarded: for=" + OFFICE + ", for=" + BLOCKED);
        assertBlocked(gw, LB, "/office/x", BLOCKED, "Forwarded: for=" + OFFICE, "Forwarded: for=" + BLOCKED);
        assertBlocked(gw, LB, "/office/x", BLOCKED, "Forwarded: for=\"[::ffff:" + BLOCKED + "]\"");
        assertBlocked(gw, LB, "/office/x", "2001:db8:bad::1", "Forwarded: for=\"[2001:db8:bad::1]:80\"");
        // trusted hop skipped
        assertBlocked(gw, LB, "/office/x", BLOCKED, "Forwarded: for=" + OFFICE + ", for=" + BLOCKED
                + ", for=192.168.100.3");

        // obfuscated / unknown identifiers are not IP literals: the walk stops at the peer
        for (String f : List.of("for=" + OFFICE + ", for=unknown", "for=" + OFFICE + ", for=_hidden",
                "for=" + OFFICE + ", for=\"_x\"")) {
            assertDecided(lineOf(probe(gw, LB).forbidden("/office/x", "Forwarded: " + f)), LB, "ZZ", "office");
        }
    }

    /** SPEC 3.3: Forwarded is used only "when there is no X-Forwarded-For": X-Forwarded-For wins either way. */
    @Test
    void xForwardedForWinsOverForwarded() throws Exception {
        Gateway gw = start();
        assertBlocked(gw, LB, "/office/x", BLOCKED, "Forwarded: for=" + OFFICE, "X-Forwarded-For: " + BLOCKED);
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + BLOCKED, "Forwarded: for=" + OFFICE);
        RecordedRequest up = probe(gw, LB).allowed("/office/x", "Forwarded: for=" + BLOCKED,
                "X-Forwarded-For: " + OFFICE);
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");
    }

    // ------------------------------------------------------------------ 4. IPv4-mapped / IPv6

    /** SPEC 3.2 ip: "IPv4, IPv6 and IPv4-mapped IPv6 all compare as the same address"; IPv6 CIDRs. */
    @Test
    void ipv4MappedAndIpv6ClientAddressesHitTheirCidrs() throws Exception {
        Gateway gw = start();
        for (String s : List.of("::ffff:" + BLOCKED, "::FFFF:" + BLOCKED, "::ffff:cb00:7109",
                "0:0:0:0:0:ffff:cb00:7109")) {
            RawResponse r = probe(gw, LB).forbidden("/public/x", "X-Forwarded-For: " + OFFICE + ", " + s);
            JsonNode l = lineOf(r);
            assertThat(l.path("rule").asText()).as("XFF %s", s).isEqualTo("blocked-network");
        }
        for (String s : List.of("2001:db8:bad::1", "2001:DB8:BAD:0:0:0:0:1", "2001:0db8:0bad:ffff::")) {
            RawResponse r = probe(gw, LB).forbidden("/public/x", "X-Forwarded-For: " + s);
            assertThat(lineOf(r).path("rule").asText()).as("XFF %s", s).isEqualTo("blocked-network");
        }
        for (String s : List.of("::ffff:" + OFFICE, "::ffff:a14:5", "2001:db8:ff1::5", "2001:DB8:FF1:0::5")) {
            RecordedRequest up = probe(gw, LB).allowed("/office/x", "X-Forwarded-For: " + BLOCKED + ", " + s);
            assertThat(lineOf(up).path("rule").asText()).as("XFF %s", s).isEqualTo("office");
        }
        // a KP address in mapped form is still KP
        RawResponse r = probe(gw, LB).forbidden("/public/x", "X-Forwarded-For: ::ffff:" + KP);
        assertThat(lineOf(r).path("rule").asText()).isEqualTo("embargo");
        assertThat(lineOf(r).path("country").asText()).isEqualTo("KP");
    }

    /**
     * A dual-stack listener sees an IPv4 peer as ::ffff:127.0.0.1 at the socket level: it must still match the
     * IPv4 trusted-proxy CIDR, and an untrusted IPv6 peer (::1) must still be untrusted.
     */
    @Test
    void dualStackListenerKeepsTrustByAddressNotSpelling() throws Exception {
        Gateway gw = start("[::]:0");
        assertBlocked(gw, LB, "/office/x", BLOCKED, "X-Forwarded-For: " + OFFICE + ", " + BLOCKED);
        RecordedRequest up = probe(gw, LB).allowed("/office/x", "X-Forwarded-For: " + OFFICE);
        assertDecided(lineOf(up), OFFICE, "ZZ", "office");

        RawResponse r = probe(gw, "::1").to("::1").send("GET", "/office/x", "X-Forwarded-For: " + OFFICE);
        assertThat(r.status()).as("untrusted ::1 claiming the office; got:%n%s", r).isEqualTo(403);
        JsonNode l = lineOf(r);
        assertThat(l.path("client_ip").asText()).isIn("::1", "0:0:0:0:0:0:0:1");
        assertThat(l.path("rule").asText()).isEqualTo("office");
        r = probe(gw, ANYONE).to("127.0.0.1").send("GET", "/office/x", "X-Forwarded-For: " + OFFICE);
        assertThat(r.status()).as("untrusted 127.0.0.3 via dual stack; got:%n%s", r).isEqualTo(403);
        assertThat(lineOf(r).path("client_ip").asText()).isIn(ANYONE, "::ffff:" + ANYONE);
    }

    // ------------------------------------------------------------------ 5. GeoIP

    /** SPEC 3.2 countries/asns on the walked address; SPEC 4 client_ip and country are what was decided on. */
    @Test
    void geoIpIsDerivedFromTheWalkedAddressOnly() throws Exception {
        Gateway gw = start();
        RawResponse r = probe(gw, LB).forbidden("/public/x", "X-Forwarded-For: " + KP);
        assertDecided(lineOf(r), KP, "KP", "embargo");
        r = probe(gw, LB).forbidden("/public/x", "X-Forwarded-For: " + GB + ", " + KP);
        assertDecided(lineOf(r), KP, "KP", "embargo");
        r = probe(gw, LB).forbidden("/public/x", "X-Forwarded-For: " + BAD_ASN);
        assertDecided(lineOf(r), BAD_ASN, "GB", "bad-asn");
        r = probe(gw, LB).forbidden("/public/x", "Forwarded: for=" + KP);
        assertDecided(lineOf(r), KP, "KP", "embargo");

        // the KP address claimed to the left of the real GB client is not attributed
        RecordedRequest up = probe(gw, LB).allowed("/public/x", "X-Forwarded-For: " + KP + ", " + GB);
        JsonNode l = lineOf(up);
        assertDecided(l, GB, "GB", "public");
        // GB but not AS64500: 81.2.69.10 is outside 81.2.69.128/25
        up = probe(gw, LB).allowed("/public/y", "X-Forwarded-For: " + BAD_ASN + ", " + GB);
        assertDecided(lineOf(up), GB, "GB", "public");

        // untrusted peer: headers ignored entirely, country of loopback is ZZ
        up = probe(gw, ANYONE).allowed("/public/z", "X-Forwarded-For: " + GB, "Forwarded: for=" + GB);
        assertDecided(lineOf(up), ANYONE, "ZZ", "public");
    }

    // ------------------------------------------------------------------ 6. rate limit keyed on client_ip

    /**
     * SPEC 3.3 + rate_limits key client_ip: an untrusted client rotating forwarding headers stays in one bucket;
     * a trusted proxy forwarding different clients gives each its own.
     */
    @Test
    void rateLimitBucketFollowsTheDecidedClientIp() throws Exception {
        Gateway gw = start();
        assertThat(probe(gw, ANYONE).send("GET", "/limited/1",
                "X-Forwarded-For: 198.51.100.1").status()).isEqualTo(200);
        assertThat(probe(gw, ANYONE).send("GET", "/limited/2", "X-Forwarded-For: 198.51.100.2",
                "Forwarded: for=198.51.100.2", "X-Real-IP: 198.51.100.2").status()).isEqualTo(200);
        RawResponse r = rateLimited(gw, ANYONE, "/limited/3", "X-Forwarded-For: 198.51.100.3");
        assertThat(lineOf(r).path("client_ip").asText()).isEqualTo(ANYONE);

        // through the trusted LB: separate clients, separate buckets
        for (String c : List.of("198.51.100.10", "198.51.100.11")) {
            assertThat(probe(gw, LB).send("GET", "/limited/a", "X-Forwarded-For: " + c).status()).isEqualTo(200);
            assertThat(probe(gw, LB).send("GET", "/limited/b", "X-Forwarded-For: 1.1.1.1, " + c).status())
                    .isEqualTo(200);
            // the client prepending a different address does not get it a new bucket; nor does a port
            r = rateLimited(gw, LB, "/limited/c", "X-Forwarded-For: 9.9.9.9, " + c + ":8080");
            assertThat(lineOf(r).path("client_ip").asText()).isEqualTo(c);
        }
        assertThat(probe(gw, LB).send("GET", "/limited/d", "X-Forwarded-For: 198.51.100.12").status()).isEqualTo(200);
    }

    // ------------------------------------------------------------------ 7. forwarded identity headers

    /**
     * SPEC 3.5: forwarded identity only when "the direct peer is inside forwarded.trusted_proxies (not merely
     * clients.trusted_proxies)"; "forwarded.* headers from a peer outside forwarded.trusted_proxies are removed
     * before proxying"; "upstream_headers are removed from every inbound request". Underscore spellings are read as
     * the dash name by CGI/PHP/WSGI/Rack upstreams (HTTP_X_FORWARDED_USER), so they must not reach it either (nginx
     * drops them by default: underscores_in_headers off).
     */
    @Test
    void forwardedIdentityFromALoadBalancerOrAnybodyIsIgnoredAndRemoved() throws Exception {
        Gateway gw = start();
        String[] claims = {"X-Forwarded-User: root", "X-Forwarded-Groups: admin", "x-forwarded-user: root2",
            "X_Forwarded_User: root3", "X_FORWARDED_GROUPS: admin", "X-Auth-Subject: root", "x-auth-roles: admin",
            "X_Auth_Subject: root", "X_AUTH_ROLES: admin"};
        for (String peer : List.of(LB, ANYONE)) {
            RawResponse r = JwtAssertions.unauthorized(harness, probe(gw, peer), false, "/admin/x", claims);
            JsonNode l = lineOf(r);
            assertThat(l.path("subject").isNull() || l.path("subject").isMissingNode()).as("subject in %s", l).isTrue();
            assertThat(l.path("rule").asText()).isEqualTo("admin");

            RecordedRequest up = probe(gw, peer).allowed("/public/x", claims);
            System.out.println("[spoof] identity claims from " + peer + ", upstream headers: " + up.headers());
            assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream from %s: %s", peer,
                    up.headers()).doesNotContain("x-forwarded-user", "x-forwarded-groups", "x-auth-subject",
                    "x-auth-roles");
        }
        // a load balancer whose X-Forwarded-For names the authenticating proxy makes that the client IP, not the peer
        RawResponse r = JwtAssertions.unauthorized(harness, probe(gw, LB), false, "/admin/x",
                "X-Forwarded-For: " + IDP, "X-Forwarded-User: root",
                "X-Forwarded-Groups: admin");
        assertThat(lineOf(r).path("client_ip").asText()).isEqualTo(IDP);
    }

    /**
     * SPEC 3.5: from the authenticating proxy the forwarded identity holds, and the upstream_headers carry it, with
     * every client-sent copy (any case, underscore spelling, duplicates) gone.
     */
    @Test
    void upstreamHeadersFromTheTrustedIdentityOverwriteEveryClientSpelling() throws Exception {
        Gateway gw = start();
        RecordedRequest up = probe(gw, IDP).allowed("/admin/x", "X-Auth-Subject: root", "x-auth-subject: root2",
                "X_Auth_Subject: root3", "X-AUTH-ROLES: superuser", "X_Auth_Roles: superuser",
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin, ops", "X-Auth-Subject: root4");
        System.out.println("[spoof] trusted identity, upstream headers: " + up.headers());
        assertThat(up.headerValues("X-Auth-Subject")).as("headers at the upstream: %s", up.headers())
                .containsExactly("alice");
        assertThat(up.headerValues("X-Auth-Roles")).hasSize(1);
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow())).containsExactlyInAnyOrder("admin",
                "ops");
        assertThat(JwtAssertions.normalizedNames(up.headers()).stream().filter(n -> n.equals("x-auth-subject")
                || n.equals("x-auth-roles")).count()).as("any spelling of upstream_headers: %s", up.headers())
                .isEqualTo(2);
        JsonNode l = lineOf(up);
        assertThat(l.path("subject").asText()).isEqualTo("alice");
        assertThat(l.path("client_ip").asText()).isEqualTo(IDP);

        // an underscore spelling of the user header from the proxy is not the user header
        RawResponse r = JwtAssertions.unauthorized(harness, probe(gw, IDP), false, "/admin/x",
                "X_Forwarded_User: alice",
                "X_Forwarded_Groups: admin");
        assertThat(lineOf(r).path("rule").asText()).isEqualTo("admin");

        // anonymous through the proxy: every client copy of upstream_headers still removed
        up = probe(gw, IDP).allowed("/public/x", "X-Auth-Subject: root", "X_Auth_Roles: admin");
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-auth-subject", "x-auth-roles");
    }

    /** SPEC 3.5: "A presented token that fails verification makes the request anonymous whatever forwarded headers say". */
    @Test
    void aBadTokenWithForwardedIdentityIsAnonymous() throws Exception {
        Gateway gw = start();
        RSAKey other = JwtMint.rsa("spoof-1");
        String forged = JwtMint.sign(other, JWSAlgorithm.RS256, JwtMint.claims("mallory", "admin").build());
        String[] lines = {"Authorization: Bearer " + forged, "X-Forwarded-User: alice", "X-Forwarded-Groups: admin"};
        RawResponse r = JwtAssertions.unauthorized(harness, probe(gw, IDP), true, "/admin/x", lines);
        JsonNode l = lineOf(r);
        assertThat(l.path("subject").isNull() || l.path("subject").isMissingNode()).as("subject in %s", l).isTrue();
        RecordedRequest up = probe(gw, IDP).allowed("/public/x", lines);
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-auth-subject", "x-auth-roles");
        // a valid token beats the forwarded headers
        String good = JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("bob", "admin").build());
        up = probe(gw, IDP).allowed("/admin/x", "Authorization: Bearer " + good, "X-Forwarded-User: alice");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("bob");
    }

    // ------------------------------------------------------------------ helpers

    private void assertBlocked(Gateway gw, String from, String target, String client, String... lines)
            throws Exception {
        RawResponse r = probe(gw, from).forbidden(target, lines);
        JsonNode l = lineOf(r);
        assertThat(l.path("rule").asText()).as("rule for %s", List.of(lines)).isEqualTo("blocked-network");
        // an IPv4-mapped spelling may be logged either way (SPEC 3.2: the same address)
        String logged = l.path("client_ip").asText();
        assertThat(logged).as("client_ip for %s", List.of(lines)).isIn(client, "::ffff:" + client);
        assertThat(l.path("decision").asText()).isEqualTo("deny");
        // SPEC 4 gives "ip 198.51.100.7 in block-abusive-networks" as the reason: it names the decided address
        assertThat(l.path("reason").asText()).as("reason for %s", List.of(lines)).contains(logged);
    }

    private static void assertDecided(JsonNode l, String clientIp, String country, String rule) {
        assertThat(l.path("client_ip").asText()).as("client_ip in %s", l).isEqualTo(clientIp);
        assertThat(l.path("country").asText()).as("country in %s", l).isEqualTo(country);
        assertThat(l.path("rule").asText()).as("rule in %s", l).isEqualTo(rule);
    }

    private JsonNode lineOf(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
    }

    private JsonNode lineOf(RecordedRequest up) throws Exception {
        return access.jsonLineFor(up.header("X-Request-Id").orElseThrow());
    }



    private static RawResponse rateLimited(Gateway gw, String from, String target, String... lines)
            throws IOException {
        int before = harness.upstream().headsReceived();
        RawResponse r = probe(gw, from).send("GET", target, lines);
        assertThat(r.status()).as("GET %s from %s %s should be 429; got:%n%s", target, from,
                JwtAssertions.abbreviate(lines), r).isEqualTo(429);
        assertThat(r.bodyText()).isEqualTo(GatewayAssertions.RATE_LIMITED_BODY);
        assertThat(r.header("Retry-After")).isPresent();
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        return r;
    }




    /** Requests to {@code gw} from local address {@code from}. */
    private static Probe probe(Gateway gw, String from) {
        return new Probe(harness, gw).from(from);
    }

    private static List<String> xffChain(RecordedRequest up) {
        return up.headerValues("X-Forwarded-For").stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }
}
