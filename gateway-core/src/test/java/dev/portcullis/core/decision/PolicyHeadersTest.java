package dev.portcullis.core.decision;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.runtime.GatewaySnapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The headers a request may not repeat: those that decide access in enforcing rules, wherever they are nested. */
class PolicyHeadersTest {

    private static DecisionStep step(String config) throws Exception {
        return new GatewaySnapshot(ConfigLoader.load("policy.yaml", config.getBytes(StandardCharsets.UTF_8),
                Path.of(".")), 1, Instant.EPOCH).decisions();
    }

    @Test
    void namesTheHeadersOfEnforcingRulesConditionsAndHeaderKeyedLimitsButNotOfAuditRules() throws Exception {
        DecisionStep step = step("""
                upstream: { url: "http://127.0.0.1:3000" }
                rate_limits:
                  per-tenant: { key: "header:X-Tenant-Id", limit: 10, per: 1s }
                  per-key: { key: "header:X-Audit-Key", limit: 10, per: 1s }
                default: deny
                rules:
                  - name: a
                    match: { paths: ["/a/**"], not: { headers: { X-Debug: [] } } }
                    require: { any: [ { headers: { X-Tenant: [acme] } }, { referrers: ["https://app.example.com/**"] } ] }
                    rate_limit: per-tenant
                  - name: trial
                    mode: audit
                    match: { headers: { X-Trial: [on] } }
                    rate_limit: per-key
                  - name: b
                    match: { headers: { x-tenant: [globex] } }
                    action: deny
                """);

        assertThat(step.headersRead()).containsExactly("x-debug", "x-tenant", "referer", "x-tenant-id");
    }

    @Test
    void aPolicyWithoutHeaderConditionsReadsNone() throws Exception {
        assertThat(step("""
                upstream: { url: "http://127.0.0.1:3000" }
                rules:
                  - name: all
                    match: { paths: ["/**"] }
                """).headersRead()).isEmpty();
    }
}
