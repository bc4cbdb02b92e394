package dev.portcullis.core.explain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExplanationTest {

    private static final String CONFIG = """
            upstream: { url: "http://127.0.0.1:3000" }
            default: deny
            rules:
              - name: block-bad-network
                match: { ip: ["203.0.113.0/24"] }
                action: deny
              - name: trial
                match: { paths: ["/api/**"] }
                require: { methods: [GET] }
                mode: audit
              - name: admin
                match: { paths: ["/admin/**"], methods: [GET, POST] }
                require: { roles: [admin] }
              - name: public
                match: { paths: ["/public/**"] }
              - name: office
                match: { paths: ["/office/**"] }
                require: { ip: ["10.20.0.0/16"], roles: [admin] }
            """;

    private static final Clock AT = Clock.fixed(Instant.parse("2025-03-14T09:30:00Z"), ZoneOffset.UTC);

    private static final GeoLookup GERMANY = new GeoLookup() {
        @Override
        public String country(IpAddress address) {
            return address.equals(IpAddress.parse("198.51.100.7")) ? "DE" : UNKNOWN_COUNTRY;
        }

        @Override
        public long asn(IpAddress address) {
            return address.equals(IpAddress.parse("198.51.100.7")) ? 3320 : UNKNOWN_ASN;
        }
    };

    private static Policy policy() throws Exception {
        return ConfigLoader.load("policy.yaml", CONFIG.getBytes(StandardCharsets.UTF_8), Path.of(".")).policy();
    }

    private static Explanation explain(String method, String target, String ip, Identity identity,
            RejectReason rejection, boolean geo) throws Exception {
        IpAddress address = IpAddress.parse(ip);
        return Explanation.of(policy(), method, target, "Example.COM:8080", address, address,
                RequestHeaders.of(Map.of()), identity, rejection, AT, GERMANY, geo, geo);
    }

    @Test
    void allowShowsTheRequestEachRuleAndTheDecision() throws Exception {
        Identity alice = new Identity("alice", Set.of("admin"), Map.of(), IdentitySource.FORWARDED, null);

        Explanation explanation = explain("GET", "/admin/../admin/users?x=1", "192.0.2.1", alice, null, false);

        assertThat(explanation.status()).isEqualTo(200);
        assertThat(explanation.text()).isEqualTo("""
                request   GET /admin/../admin/users?x=1  (canonical path /admin/users)
                host      example.com
                client    192.0.2.1
                identity  forwarded alice, roles [admin]
                time      2025-03-14T09:30:00Z

                rules
                  1. block-bad-network (deny, enforce): not matched
                       match fails: ip [203.0.113.0/24] -- ip 192.0.2.1 not in [203.0.113.0/24]
                  2. trial (allow, audit): not matched
                       match fails: paths [/api/**] -- path /admin/users matches none of [/api/**]
                  3. admin (allow, enforce): matched
                       match holds: paths [/admin/**] -- path /admin/users matches /admin/**
                       match holds: methods [GET, POST] -- method GET in [GET, POST]
                       require holds: roles [admin] -- role admin present
                       -> 200 proxied: allowed by rule admin

                decision  200 proxied, rule admin: allowed by rule admin
                """);
    }

    @Test
    void denialAndAuditAreShown() throws Exception {
        Explanation explanation = explain("POST", "/api/orders", "203.0.113.9", Identity.ANONYMOUS, null, false);

        assertThat(explanation.status()).isEqualTo(403);
        assertThat(explanation.text())
                .contains("1. block-bad-network (deny, enforce): matched")
                .contains("-> 403 forbidden: rule block-bad-network: ip 203.0.113.9 in [203.0.113.0/24]")
                .contains("decision  403 forbidden, rule block-bad-network:")
                .doesNotContain("trial");

        Explanation audited = explain("POST", "/api/orders", "192.0.2.1", Identity.ANONYMOUS, null, false);
        assertThat(audited.text())
                .contains("2. trial (allow, audit): matched")
                .contains("require fails: methods [GET]")
                .contains("(audit only: evaluation goes on)")
                .contains("decision  403 forbidden, no rule matched (default deny): no rule matched, default deny")
                .contains("audit     rule trial would answer 403 forbidden: method POST not in [GET]");
    }

    @Test
    void anonymousWithARejectedTokenIsChallenged() throws Exception {
        Explanation explanation = explain("GET", "/admin/x", "192.0.2.1", Identity.ANONYMOUS,
                RejectReason.TOKEN_EXPIRED, false);

        assertThat(explanation.status()).isEqualTo(401);
        assertThat(explanation.text())
                .contains("identity  anonymous (token rejected: token_expired)")
                .contains("decision  401 unauthorized, rule admin:");
        @SuppressWarnings("unchecked")
        Map<String, Object> identity = (Map<String, Object>) explanation.toMap().get("identity");
        assertThat(identity).containsEntry("source", "anonymous").containsEntry("subject", null)
                .containsEntry("roles", List.of()).containsEntry("token_rejected", "token_expired");
    }

    @Test
    void aChallengeNamesTheMissingIdentityEvenWhenAnEarlierKeyFailedToo() throws Exception {
        Identity bob = new Identity("bob", Set.of("user"), Map.of(), IdentitySource.FORWARDED, null);

        Explanation anonymous = explain("GET", "/office/x", "192.0.2.1", Identity.ANONYMOUS, null, false);
        Explanation identified = explain("GET", "/office/x", "192.0.2.1", bob, null, false);

        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.text())
                .contains("require fails: ip [10.20.0.0/16] -- ip 192.0.2.1 not in [10.20.0.0/16]")
                .contains("require fails: roles [admin] -- role admin missing")
                .contains("-> 401 unauthorized: rule office: role admin missing\n")
                .contains("decision  401 unauthorized, rule office: role admin missing\n");
        assertThat(identified.status()).isEqualTo(403);
        assertThat(identified.text())
                .contains("decision  403 forbidden, rule office: ip 192.0.2.1 not in [10.20.0.0/16]\n");
    }

    @Test
    void countryAndAsnAreShownWhenGeoIpIsConfigured() throws Exception {
        Explanation withGeo = explain("GET", "/public/x", "198.51.100.7", Identity.ANONYMOUS, null, true);
        Explanation unknown = explain("GET", "/public/x", "192.0.2.1", Identity.ANONYMOUS, null, true);
        Explanation withoutGeo = explain("GET", "/public/x", "198.51.100.7", Identity.ANONYMOUS, null, false);

        assertThat(withGeo.text()).contains("client    198.51.100.7, country DE, ASN AS3320\n");
        assertThat(withGeo.country()).isEqualTo("DE");
        assertThat(withGeo.asn()).isEqualTo(3320L);
        assertThat(unknown.text()).contains("client    192.0.2.1, country ZZ, ASN unknown\n");
        assertThat(withoutGeo.text()).contains("client    198.51.100.7\n");
        assertThat(withoutGeo.country()).isNull();
        @SuppressWarnings("unchecked")
        Map<String, Object> request = (Map<String, Object>) withGeo.toMap().get("request");
        assertThat(request).containsEntry("country", "DE").containsEntry("asn", 3320L);
    }

    @Test
    void aTargetTheGatewayRejectsIsAnsweredBeforeAnyRule() throws Exception {
        Explanation encoded = explain("GET", "/admin%2Fx", "192.0.2.1", Identity.ANONYMOUS, null, false);
        Explanation lowerCase = explain("get", "/public/x", "192.0.2.1", Identity.ANONYMOUS, null, false);
        Explanation trace = explain("TRACE", "/public/x", "192.0.2.1", Identity.ANONYMOUS, null, false);

        assertThat(encoded.status()).isEqualTo(400);
        assertThat(encoded.trace()).isNull();
        assertThat(encoded.text()).contains("decision  400: the gateway would answer 400: encoded_slash "
                + "(before any rule runs)");
        assertThat(lowerCase.text()).contains("the gateway would answer 400: bad_method");
        assertThat(trace.status()).isEqualTo(405);
        assertThat(encoded.toMap()).containsEntry("rejected", "encoded_slash").containsEntry("status", 400);
    }
    @Test
    @SuppressWarnings("unchecked")
    void theDecidingRulesRateLimitIsNamedAsNotSimulated() throws Exception {
        Policy limited = ConfigLoader.load("policy.yaml", """
                upstream: { url: "http://127.0.0.1:3000" }
                rate_limits:
                  per-ip: { key: client_ip, limit: 20, per: 1s }
                default: deny
                rules:
                  - name: login
                    match: { paths: ["/login"] }
                    rate_limit: per-ip
                  - name: public
                    match: { paths: ["/public/**"] }
                """.getBytes(StandardCharsets.UTF_8), Path.of(".")).policy();
        IpAddress ip = IpAddress.parse("192.0.2.1");

        Explanation login = Explanation.of(limited, "GET", "/login", null, ip, ip, RequestHeaders.of(Map.of()),
                Identity.ANONYMOUS, null, AT, GERMANY, false, false);
        Explanation open = Explanation.of(limited, "GET", "/public/x", null, ip, ip, RequestHeaders.of(Map.of()),
                Identity.ANONYMOUS, null, AT, GERMANY, false, false);
        Explanation denied = Explanation.of(limited, "GET", "/other", null, ip, ip, RequestHeaders.of(Map.of()),
                Identity.ANONYMOUS, null, AT, GERMANY, false, false);

        assertThat(login.text()).endsWith("""
                decision  200 proxied, rule login: allowed by rule login
                rate limit rule login applies limiter per-ip, which is not simulated: the gateway answers 429 once \
                it is exhausted
                """);
        Map<String, Object> decision = (Map<String, Object>) login.toMap().get("decision");
        assertThat(decision).containsEntry("rate_limit", Map.of("limiter", "per-ip", "simulated", false));
        assertThat((List<Map<String, Object>>) login.toMap().get("rules")).first()
                .satisfies(rule -> assertThat(rule).containsEntry("rate_limit", "per-ip"));
        assertThat(open.text()).doesNotContain("rate limit");
        assertThat((Map<String, Object>) open.toMap().get("decision")).containsEntry("rate_limit", null);
        assertThat(denied.text()).doesNotContain("rate limit");
        assertThat((Map<String, Object>) denied.toMap().get("decision")).containsEntry("rate_limit", null);
    }
}
