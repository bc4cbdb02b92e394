package dev.portcullis.core.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Policy test cases see a request's headers as the server's rules do (README "Proxying", "Security notes"): what the
 * server removes before the policy runs is removed, and what it answers 400 before any rule is a 400 here too.
 */
class SimulatedHeadersTest {

    private static final String CONFIG = """
            upstream: { url: "http://127.0.0.1:3000" }
            clients: { trusted_proxies: ["10.0.0.0/8"] }
            identity:
              forwarded:
                trusted_proxies: ["10.9.0.0/16"]
                user_header: "X-Forwarded-User"
              upstream_headers: { subject: "X-Auth-Subject", roles: "X-Auth-Roles" }
            default: allow
            rules:
              - name: no-override
                match: { headers: { X-HTTP-Method-Override: [] } }
                action: deny
              - name: no-subject
                match: { headers: { X-Auth-Subject: [] } }
                action: deny
              - name: no-real-ip
                match: { headers: { X-Real-IP: [] } }
                action: deny
              - name: forwarded-user
                match: { headers: { X-Forwarded-User: [] } }
                action: deny
              - name: no-keep-alive
                match: { headers: { Keep-Alive: [] } }
                action: deny
              - name: no-x-debug
                match: { headers: { X-Debug: [] } }
                action: deny
              - name: websocket-only
                match: { paths: ["/ws/**"] }
                require: { headers: { Upgrade: [websocket] } }
              - name: https-only
                match: { paths: ["/secure/**"] }
                require: { headers: { X-Forwarded-Proto: [https] } }
              - name: prod-only
                match: { paths: ["/env/**"] }
                require: { headers: { X-Env: [prod] } }
            """;

    private static List<PolicyCase.Outcome> run(String cases) throws Exception {
        CompiledConfig config = ConfigLoader.load("policy.yaml", CONFIG.getBytes(StandardCharsets.UTF_8), Path.of("."));
        CaseContext context = CaseContext.of(config);
        PolicyCases.Loaded loaded = PolicyCases.read("cases.yaml", cases, config);
        assertThat(loaded.problems()).isEmpty();
        return loaded.cases().stream().map(c -> c.run(context)).toList();
    }

    private static PolicyCase.Outcome before(String reason) {
        return new PolicyCase.Outcome(400, null, "rejected before any rule: " + reason, true);
    }

    @Test
    void overrideHopByHopAndConnectionNamedHeadersAreGoneBeforeTheRules() throws Exception {
        List<PolicyCase.Outcome> outcomes = run("""
                cases:
                  - { name: a, request: { path: /x, headers: { X-HTTP-Method-Override: DELETE } }, expect: { status: 200 } }
                  - { name: b, request: { path: /x, headers: { x_http_method_override: DELETE } }, expect: { status: 200 } }
                  - { name: c, request: { path: /x, headers: { Keep-Alive: "timeout=5" } }, expect: { status: 200 } }
                  - { name: d, request: { path: /x, headers: { Connection: "close, X-Debug", X-Debug: "1" } }, expect: { status: 200 } }
                  - { name: e, request: { path: /x, headers: { X-Debug: "1" } }, expect: { status: 403 } }
                """);

        assertThat(outcomes).extracting(PolicyCase.Outcome::status).containsExactly(200, 200, 200, 200, 403);
        assertThat(outcomes.get(4).rule()).isEqualTo("no-x-debug");
    }

    @Test
    void forwardingHeadersCountOnlyFromATrustedProxyAndUpstreamIdentityHeadersNever() throws Exception {
        List<PolicyCase.Outcome> outcomes = run("""
                cases:
                  - { name: a, request: { path: /secure/x, ip: 203.0.113.9, headers: { X-Forwarded-Proto: https } }, expect: { status: 403 } }
                  - { name: b, request: { path: /secure/x, ip: 10.1.2.3, headers: { X-Forwarded-Proto: https } }, expect: { status: 200 } }
                  - { name: c, request: { path: /x, ip: 203.0.113.9, headers: { X-Real-IP: 1.2.3.4 } }, expect: { status: 200 } }
                  - { name: d, request: { path: /x, ip: 10.1.2.3, headers: { X-Real-IP: 1.2.3.4 } }, expect: { status: 403 } }
                  - { name: e, request: { path: /x, ip: 10.1.2.3, headers: { X-Auth-Subject: root } }, expect: { status: 200 } }
                  - { name: f, request: { path: /x, ip: 10.1.2.3, headers: { X-Forwarded-User: alice } }, expect: { status: 200 } }
                  - { name: g, request: { path: /x, ip: 10.9.0.1, headers: { X-Forwarded-User: alice } }, expect: { status: 403 } }
                """);

        assertThat(outcomes).extracting(PolicyCase.Outcome::status).containsExactly(403, 200, 200, 403, 200, 200, 403);
        assertThat(outcomes.get(0).rule()).isEqualTo("https-only");
        assertThat(outcomes.get(6).rule()).isEqualTo("forwarded-user");
    }

    @Test
    void aWebSocketHandshakeKeepsItsUpgradeAndAnyOtherUpgradeIsRemoved() throws Exception {
        List<PolicyCase.Outcome> outcomes = run("""
                cases:
                  - name: handshake
                    request: { path: /ws/x, headers: { Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Key: "dGhlIHNhbXBsZSBub25jZQ==" } }
                    expect: { status: 200 }
                  - name: no key
                    request: { path: /ws/x, headers: { Upgrade: websocket, Connection: Upgrade } }
                    expect: { status: 403 }
                  - name: a post
                    request: { method: POST, path: /ws/x, headers: { Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Key: "dGhlIHNhbXBsZSBub25jZQ==" } }
                    expect: { status: 403 }
                """);

        assertThat(outcomes).extracting(PolicyCase.Outcome::status).containsExactly(200, 403, 403);
    }

    @Test
    void aHostAmongTheHeadersIsTheRequestsHostAndTwoDifferentHostsAre400() throws Exception {
        String config = CONFIG.replace("rules:\n", """
                rules:
                  - name: staging
                    match: { hosts: ["staging.example.com"] }
                    action: deny
                  - name: host-header
                    match: { headers: { Host: ["read.example.com"] } }
                    action: deny
                """);
        CompiledConfig compiled = ConfigLoader.load("policy.yaml", config.getBytes(StandardCharsets.UTF_8),
                Path.of("."));
        CaseContext context = CaseContext.of(compiled);
        PolicyCases.Loaded loaded = PolicyCases.read("cases.yaml", """
                cases:
                  - { name: a, request: { path: /x, headers: { Host: "staging.example.com:8080" } }, expect: { status: 403 } }
                  - { name: b, request: { path: /x, host: staging.example.com, headers: { host: staging.example.com } }, expect: { status: 403 } }
                  - { name: c, request: { path: /x, host: a.example.com, headers: { Host: staging.example.com } }, expect: { status: 400 } }
                  - { name: d, request: { path: /x, headers: { Host: [a.example.com, b.example.com] } }, expect: { status: 400 } }
                  - { name: e, request: { path: /x, host: read.example.com }, expect: { status: 403 } }
                  - { name: f, request: { path: /x, headers: { Host: read.example.com } }, expect: { status: 403 } }
                  - { name: g, request: { method: TRACE, path: /x, headers: { Host: [a, b], Authorization: [x, y] } }, expect: { status: 405 } }
                  - { name: h, request: { path: /x, host: "a..b", headers: { Authorization: [x, y] } }, expect: { status: 400 } }
                """, compiled);
        List<PolicyCase.Outcome> outcomes = loaded.cases().stream().map(c -> c.run(context)).toList();

        assertThat(outcomes).extracting(PolicyCase.Outcome::status, PolicyCase.Outcome::rule).containsExactly(
                tuple(403, "staging"), tuple(403, "staging"), tuple(400, null), tuple(400, null),
                tuple(403, "host-header"), tuple(403, "host-header"), tuple(405, null), tuple(400, null));
        assertThat(outcomes.get(2)).isEqualTo(before("bad_host_header"));
        assertThat(outcomes.get(7)).as("the server's order: Authorization before Host")
                .isEqualTo(before("ambiguous_authorization"));
    }

    @Test
    void whatTheServerAnswers400BeforeAnyRuleIsA400() throws Exception {
        List<PolicyCase.Outcome> outcomes = run("""
                cases:
                  - { name: a, request: { path: /env/x, headers: { X-Env: prod, X_Env: dev } }, expect: { status: 400 } }
                  - { name: b, request: { path: /env/x, headers: { X-Env: [prod, dev] } }, expect: { status: 400 } }
                  - { name: c, request: { path: /env/x, headers: { X-Env: prod } }, expect: { status: 200 } }
                  - { name: d, request: { path: /x, headers: { Connection: Authorization } }, expect: { status: 400 } }
                  - { name: e, request: { path: /x, headers: { Connection: x_auth_subject } }, expect: { status: 400 } }
                  - { name: f, request: { path: /x, headers: { Authorization: [Bearer a, Bearer b] } }, expect: { status: 400 } }
                  - { name: g, request: { path: /x, host: "x..example.com" }, expect: { status: 400 } }
                  - { name: h, request: { path: /x, host: "a.example.com:80:80" }, expect: { status: 400 } }
                  - { name: i, request: { path: /x, host: "a.example.com:8080" }, expect: { status: 200 } }
                """);

        assertThat(outcomes.subList(0, 2)).containsOnly(before("ambiguous_header"));
        assertThat(outcomes.get(2)).extracting(PolicyCase.Outcome::status, PolicyCase.Outcome::rule)
                .containsExactly(200, "prod-only");
        assertThat(outcomes.subList(3, 8)).containsExactly(before("bad_connection_header"),
                before("bad_connection_header"), before("ambiguous_authorization"), before("bad_host_header"),
                before("bad_host_header"));
        assertThat(outcomes.get(8)).extracting(PolicyCase.Outcome::status, PolicyCase.Outcome::beforeRules)
                .containsExactly(200, false);
    }

    @Test
    void framingHeadersTheServerRefusesAreRefusedInTheServersOrder() throws Exception {
        String config = CONFIG.replace("default: allow\n", """
                default: allow
                limits: { max_body_size: 1KiB, max_uri_length: 20 }
                """);
        CompiledConfig compiled = ConfigLoader.load("policy.yaml", config.getBytes(StandardCharsets.UTF_8),
                Path.of("."));
        CaseContext context = CaseContext.of(compiled);
        PolicyCases.Loaded loaded = PolicyCases.read("cases.yaml", """
                cases:
                  - { name: a, request: { path: /x, headers: { Content-Length: "5" } }, expect: { status: 400 } }
                  - { name: b, request: { method: POST, path: /x, headers: { Content-Length: "5" } }, expect: { status: 200 } }
                  - { name: c, request: { method: POST, path: /x, headers: { Content-Length: "1025" } }, expect: { status: 413 } }
                  - { name: d, request: { method: POST, path: /x, headers: { Content-Length: [5, 5] } }, expect: { status: 400 } }
                  - { name: e, request: { method: POST, path: /x, headers: { Content-Length: "-1" } }, expect: { status: 400 } }
                  - { name: f, request: { method: POST, path: /x, headers: { Transfer-Encoding: gzip } }, expect: { status: 400 } }
                  - { name: g, request: { method: POST, path: /x, headers: { Transfer-Encoding: chunked, Content-Length: "3" } }, expect: { status: 400 } }
                  - { name: h, request: { method: POST, path: /x, headers: { Transfer-Encoding: "gzip, chunked" } }, expect: { status: 200 } }
                  - { name: i, request: { method: POST, path: /x, headers: { Transfer_Encoding: chunked } }, expect: { status: 400 } }
                  - { name: j, request: { method: get, path: /x, headers: { Content_Length: "5" } }, expect: { status: 400 } }
                  - { name: k, request: { path: /x, headers: { Transfer-Encoding: chunked } }, expect: { status: 400 } }
                  - { name: l, request: { method: OPTIONS, path: /x, headers: { Content-Length: "0" } }, expect: { status: 200 } }
                  - { name: m, request: { path: /a-target-longer-than-20 }, expect: { status: 414 } }
                  - { name: n, request: { path: /x, headers: { Content-Length: "5", Connection: Authorization } }, expect: { status: 400 } }
                  - { name: o, request: { path: /x, headers: { Content-Length: "5", Authorization: [a, b] } }, expect: { status: 400 } }
                  - { name: p, request: { method: TRACE, path: /x, headers: { Content-Length: abc } }, expect: { status: 400 } }
                  - { name: q, request: { method: get, path: /a-target-longer-than-20, headers: { Transfer-Encoding: gzip } }, expect: { status: 400 } }
                  - { name: r, request: { path: /x, headers: { X Bad: "1" } }, expect: { status: 400 } }
                  - { name: s, request: { path: "/%s", headers: { Transfer_Encoding: chunked } }, expect: { status: 414 } }
                """.formatted("a".repeat(80)), compiled);
        assertThat(loaded.problems()).isEmpty();
        List<PolicyCase.Outcome> outcomes = loaded.cases().stream().map(c -> c.run(context)).toList();

        assertThat(outcomes).extracting(PolicyCase.Outcome::status).containsExactly(
                400, 200, 413, 400, 400, 400, 400, 200, 400, 400, 400, 200, 414, 400, 400, 400, 400, 400, 414);
        assertThat(outcomes.get(0)).isEqualTo(before("body_not_allowed"));
        assertThat(outcomes.subList(3, 5)).containsOnly(before("bad_content_length"));
        assertThat(outcomes.get(5)).isEqualTo(before("bad_transfer_encoding"));
        assertThat(outcomes.get(6)).isEqualTo(before("ambiguous_framing"));
        assertThat(outcomes.get(8)).isEqualTo(before("malformed_request"));
        assertThat(outcomes.get(9)).as("a look-alike name fails the decoder, before the method is read")
                .isEqualTo(before("malformed_request"));
        assertThat(outcomes.get(10)).isEqualTo(before("body_not_allowed"));
        assertThat(outcomes.get(13)).as("the server's order: Connection before the body")
                .isEqualTo(before("bad_connection_header"));
        assertThat(outcomes.get(14)).as("the server's order: the body before Authorization")
                .isEqualTo(before("body_not_allowed"));
        assertThat(outcomes.get(2)).extracting(PolicyCase.Outcome::reason)
                .isEqualTo("rejected before any rule: body_too_large");
        assertThat(outcomes.get(12)).extracting(PolicyCase.Outcome::reason)
                .isEqualTo("rejected before any rule: uri_too_long");
        assertThat(outcomes.get(15)).as("the decoder fails on framing before the method is read (not 405)")
                .isEqualTo(before("bad_content_length"));
        assertThat(outcomes.get(16)).as("framing before the method and the target's length")
                .isEqualTo(before("bad_transfer_encoding"));
        assertThat(outcomes.get(17)).as("a name that is not a token").isEqualTo(before("malformed_request"));
        assertThat(outcomes.get(18)).as("a request line too long to read, before any header")
                .extracting(PolicyCase.Outcome::status, PolicyCase.Outcome::reason)
                .containsExactly(414, "rejected before any rule: uri_too_long");
    }
}
