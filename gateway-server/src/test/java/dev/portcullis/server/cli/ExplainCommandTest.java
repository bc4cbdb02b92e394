package dev.portcullis.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.JwksServer;
import dev.portcullis.server.it.support.JwtMint;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import dev.portcullis.core.geo.MmdbWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ExplainCommandTest {
    private static final String POLICY = Path.of("..", "config", "policy.yaml").toString();
    private static final RSAKey KEY = JwtMint.rsa("k1");
    private static final RSAKey OTHER_KEY = JwtMint.rsa("k1");

    @TempDir
    static Path dir;

    private static Path jwtConfig;

    @Test
    void aRepeatedHeaderThatARuleDecidesOnIsRefusedAsTheServerWould() throws Exception {
        Path tenants = dir.resolve("tenants.yaml");
        Files.writeString(tenants, """
                upstream: { url: "http://127.0.0.1:3000" }
                default: deny
                rules:
                  - name: acme
                    match: { headers: { X-Tenant: [acme] } }
                """);

        Result once = run("explain", "-c", tenants.toString(), "--method", "GET", "--path", "/x",
                "--header", "X-Tenant: acme");
        assertThat(once.out()).contains("decision  200 proxied");
        Result twice = run("explain", "-c", tenants.toString(), "--method", "GET", "--path", "/x",
                "--header", "X-Tenant: initech", "--header", "x_tenant: acme");
        assertThat(twice.exit()).isZero();
        assertThat(twice.out()).contains("decision  400: the gateway would answer 400: ambiguous_header");
        Result other = run("explain", "-c", tenants.toString(), "--method", "GET", "--path", "/x",
                "--header", "X-Tenant: acme", "--header", "X-Other: 1", "--header", "X-Other: 2");
        assertThat(other.out()).contains("decision  200 proxied");
    }

    /** The server reads Host from the head like any header: --header 'Host: …' is the Host, one of them at most. */
    @Test
    void aHostGivenAsAHeaderIsTheRequestsHostAndTwoDifferentHostsAre400() throws Exception {
        Path hosts = dir.resolve("hosts.yaml");
        Files.writeString(hosts, """
                upstream: { url: "http://127.0.0.1:3000" }
                default: allow
                rules:
                  - name: staging
                    match: { hosts: ["staging.example.com"] }
                    action: deny
                """);

        Result header = run("explain", "-c", hosts.toString(), "--method", "GET", "--path", "/x",
                "--header", "Host: staging.example.com");
        assertThat(header.out()).contains("decision  403 forbidden, rule staging");
        Result both = run("explain", "-c", hosts.toString(), "--method", "GET", "--path", "/x",
                "--host", "a.example.com", "--header", "Host: staging.example.com");
        assertThat(both.exit()).isZero();
        assertThat(both.out()).contains("the gateway would answer 400: bad_host_header");
    }

    record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new PortcullisCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @BeforeAll
    static void writeConfig() throws Exception {
        JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(KEY));
        jwtConfig = dir.resolve("policy.yaml");
        Files.writeString(jwtConfig, """
                upstream: { url: "http://127.0.0.1:3000" }
                identity:
                  jwt:
                    issuer: "%s"
                    audience: ["%s"]
                    algorithms: [RS256]
                    jwks_file: "jwks.json"
                default: deny
                rules:
                  - name: admin
                    match: { paths: ["/admin/**"] }
                    require: { roles: [admin] }
                """.formatted(JwtMint.ISSUER, JwtMint.AUDIENCE));
    }

    @Test
    void allowShowsTheRequestTheRulesAndTheDecision() {
        Result result = run("explain", "-c", POLICY, "--method", "GET", "--path", "/x/../healthz", "--host",
                "Example.com:8080", "--at", "2025-03-14T09:30:00Z");

        assertThat(result.err()).isEmpty();
        assertThat(result.exit()).isZero();
        assertThat(result.out()).startsWith("""
                request   GET /x/../healthz  (canonical path /healthz)
                host      example.com
                client    127.0.0.1
                identity  anonymous
                time      2025-03-14T09:30:00Z

                rules
                  1. block-abusive-networks (deny, enforce): not matched
                       match fails: ip [203.0.113.0/24, 2001:db8:bad::/48] -- ip 127.0.0.1 not in [203.0.113.0/24, 2001:db8:bad::/48]
                  2. health (allow, enforce): matched
                       match holds: paths [/healthz] -- path /healthz matches /healthz
                       match holds: methods [GET, HEAD] -- method GET in [GET, HEAD]
                       require: none
                       -> 200 proxied: allowed by rule health
                """);
        assertThat(result.out()).endsWith("decision  200 proxied, rule health: allowed by rule health\n");
    }

    @Test
    void aGeoIpRuleShowsTheClientsCountryAndAsn() throws Exception {
        MmdbWriter.countries(Map.of("175.45.176.0/22", "KP", "81.2.69.0/24", "GB")).write(dir.resolve("country.mmdb"));
        MmdbWriter.asns(Map.of("81.2.69.0/24", 64500L)).write(dir.resolve("asn.mmdb"));
        Path geoConfig = dir.resolve("geo.yaml");
        Files.writeString(geoConfig, """
                upstream: { url: "http://127.0.0.1:3000" }
                geoip: { database: "country.mmdb", asn_database: "asn.mmdb" }
                default: allow
                rules:
                  - name: embargo
                    match: { countries: [KP] }
                    action: deny
                """);

        Result denied = run("explain", "-c", geoConfig.toString(), "--method", "GET", "--path", "/x",
                "--ip", "175.45.177.1");
        assertThat(denied.exit()).isZero();
        assertThat(denied.out())
                .contains("client    175.45.177.1, country KP, ASN unknown\n")
                .contains("1. embargo (deny, enforce): matched")
                .contains("decision  403 forbidden, rule embargo:");

        Result allowed = run("explain", "-c", geoConfig.toString(), "--method", "GET", "--path", "/x",
                "--ip", "81.2.69.7");
        assertThat(allowed.exit()).isZero();
        assertThat(allowed.out())
                .contains("client    81.2.69.7, country GB, ASN AS64500\n")
                .contains("1. embargo (deny, enforce): not matched")
                .contains("decision  200 proxied");
    }

    @Test
    void denyNamesTheRuleAndTheReason() {
        Result result = run("explain", "-c", POLICY, "--method", "GET", "--path", "/healthz", "--ip", "203.0.113.9");

        assertThat(result.exit()).isZero();
        assertThat(result.out())
                .contains("1. block-abusive-networks (deny, enforce): matched")
                .contains("decision  403 forbidden, rule block-abusive-networks: ip "
                        + "203.0.113.9 in [203.0.113.0/24, 2001:db8:bad::/48]")
                .doesNotContain("2. health");
    }

    @Test
    void aValidTokenIsVerifiedAsTheServerWould() throws Exception {
        String token = JwtMint.sign(KEY, JWSAlgorithm.RS256, JwtMint.claims("alice", "admin").build());

        Result result = run("explain", "-c", jwtConfig.toString(), "--method", "GET", "--path", "/admin/users",
                "--header", "Authorization: Bearer " + token);

        assertThat(result.err()).isEmpty();
        assertThat(result.out())
                .contains("identity  jwt alice, roles [admin]")
                .contains("require holds: roles [admin] -- role admin present")
                .contains("decision  200 proxied, rule admin");
    }

    @Test
    void aJwksUrlIsFetchedToVerifyTheToken() throws Exception {
        try (JwksServer jwks = JwksServer.start(List.of(KEY))) {
            Path remote = dir.resolve("remote.yaml");
            Files.writeString(remote, Files.readString(jwtConfig).replace("jwks_file: \"jwks.json\"",
                    "jwks_url: \"http://127.0.0.1:" + jwks.port() + JwksServer.PATH + "\""));
            String token = JwtMint.sign(KEY, JWSAlgorithm.RS256, JwtMint.claims("alice", "admin").build());

            Result result = run("explain", "-c", remote.toString(), "--method", "GET", "--path", "/admin/users",
                    "--header", "Authorization: Bearer " + token);

            assertThat(result.out())
                    .contains("identity  jwt alice, roles [admin]")
                    .contains("decision  200 proxied, rule admin");
            assertThat(result.exit()).isZero();
            assertThat(jwks.fetches()).isPositive();
        }
    }

    /** README: a jwks_url is fetched once and at most 10 s is waited, in all (the first fetch and a kid refetch). */
    @Test
    void aJwksUrlThatNeverAnswersIsWaitedForTenSecondsInAll() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Path remote = dir.resolve("silent.yaml");
            Files.writeString(remote, Files.readString(jwtConfig).replace("jwks_file: \"jwks.json\"",
                    "jwks_url: \"http://127.0.0.1:" + silent.getLocalPort() + "/jwks\""));
            String token = JwtMint.sign(KEY, JWSAlgorithm.RS256, JwtMint.claims("alice", "admin").build());

            long start = System.nanoTime();
            Result result = run("explain", "-c", remote.toString(), "--method", "GET", "--path", "/admin/users",
                    "--header", "Authorization: Bearer " + token);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);

            assertThat(result.exit()).isZero();
            assertThat(result.out()).contains("token rejected: no_key_source");
            assertThat(seconds).as("seconds explain waited for keys (before: 10 + 10)").isBetween(9L, 17L);
        }
    }

    @Test
    void aRejectedTokenLeavesTheRequestAnonymousAndChallenged() {
        String forged = JwtMint.sign(OTHER_KEY, JWSAlgorithm.RS256, JwtMint.claims("alice", "admin").build());

        Result result = run("explain", "-c", jwtConfig.toString(), "--method", "GET", "--path", "/admin/users",
                "--header", "Authorization: Bearer " + forged);

        assertThat(result.exit()).isZero();
        assertThat(result.out())
                .contains("identity  anonymous (token rejected: bad_signature)")
                .contains("decision  401 unauthorized, rule admin: role admin missing (token rejected: "
                        + "bad_signature)");
    }

    @Test
    void atSetsTheTimeTokensAreCheckedAt() {
        Instant issued = Instant.parse("2025-03-14T09:00:00Z");
        String token = JwtMint.sign(KEY, JWSAlgorithm.RS256, JwtMint.claims("alice", "admin")
                .issueTime(Date.from(issued)).expirationTime(Date.from(issued.plusSeconds(600))).build());

        Result during = run("explain", "-c", jwtConfig.toString(), "--method", "GET", "--path", "/admin/users",
                "--header", "Authorization: Bearer " + token, "--at", "2025-03-14T10:05:00+01:00");
        Result after = run("explain", "-c", jwtConfig.toString(), "--method", "GET", "--path", "/admin/users",
                "--header", "Authorization: Bearer " + token);

        assertThat(during.out()).contains("time      2025-03-14T09:05:00Z").contains("decision  200 proxied");
        assertThat(after.out()).contains("identity  anonymous (token rejected: token_expired)")
                .contains("decision  401 unauthorized");
    }

    @Test
    void jsonIsForTools() throws IOException {
        Result result = run("explain", "-c", POLICY, "--method", "DELETE", "--path", "/api/users/42", "--json",
                "--at", "2025-03-14T09:30:00Z");

        assertThat(result.exit()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        assertThat(json.at("/request/path").asText()).isEqualTo("/api/users/42");
        assertThat(json.at("/request/at").asText()).isEqualTo("2025-03-14T09:30:00Z");
        assertThat(json.at("/identity/source").asText()).isEqualTo("anonymous");
        assertThat(json.at("/status").asInt()).isEqualTo(401);
        assertThat(json.at("/decision/rule").asText()).isEqualTo("delete-users-admins-only");
        JsonNode last = json.at("/rules").get(json.at("/rules").size() - 1);
        assertThat(last.at("/name").asText()).isEqualTo("delete-users-admins-only");
        assertThat(last.at("/require/0/holds").asBoolean()).isFalse();
        assertThat(last.at("/require_held").asBoolean()).isFalse();
    }

    @Test
    void aTargetTheGatewayRejectsIsExplained() {
        Result result = run("explain", "-c", POLICY, "--method", "GET", "--path", "/admin%2Fusers");

        assertThat(result.exit()).isZero();
        assertThat(result.out()).contains("decision  400: the gateway would answer 400: encoded_slash");
    }

    @Test
    void anInvalidConfigIsReportedWithExitOne() throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "upstream: {url: \"http://127.0.0.1:3000\"}\nlistn: 1\n");

        Result result = run("explain", "-c", bad.toString(), "--method", "GET", "--path", "/");

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).contains(bad + ":2:1: listn: unknown key \"listn\"").doesNotContain("\tat ");
    }

    @Test
    void badOptionsAreUsageErrors() {
        Result header = run("explain", "-c", POLICY, "--method", "GET", "--path", "/", "--header", "NoColon");
        Result ip = run("explain", "-c", POLICY, "--method", "GET", "--path", "/", "--ip", "10.0.0.300");
        Result at = run("explain", "-c", POLICY, "--method", "GET", "--path", "/", "--at", "yesterday");

        assertThat(header.exit()).isEqualTo(2);
        assertThat(header.err()).contains("\"NoColon\" is not a valid --header");
        assertThat(ip.exit()).isEqualTo(2);
        assertThat(ip.err()).contains("\"10.0.0.300\" is not a valid --ip");
        assertThat(at.exit()).isEqualTo(2);
        assertThat(at.err()).contains("\"yesterday\" is not a valid --at");
    }
}
