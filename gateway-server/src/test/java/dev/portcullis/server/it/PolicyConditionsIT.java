package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SPEC 3.1 / 3.2: allow and deny by paths, methods, hosts, headers and any / all / not. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PolicyConditionsIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void allowsAndDeniesByPathGlobs() throws Exception {
        Probe p = new Probe(harness, harness.start("paths.yaml"));

        // "/a/**" matches "/a" and everything below it
        p.allowed("/public");
        p.allowed("/public/");
        p.allowed("/public/x");
        p.allowed("/public/x/y/z.txt");
        p.forbidden("/publicity");
        p.forbidden("/Public/x");

        // "*" is exactly one segment
        p.allowed("/files/abc/meta");
        p.forbidden("/files/a/b/meta");
        p.forbidden("/files/meta");
        p.forbidden("/files/abc/meta/more");

        // exact
        p.allowed("/exact");
        p.forbidden("/exact/more");
        p.forbidden("/exactly");

        // deny rule and default deny
        p.forbidden("/admin");
        p.forbidden("/admin/users");
        p.forbidden("/");
        p.forbidden("/elsewhere");
    }

    @Test
    void matchesDoubleStarInTheMiddleAndStarWithinASegment() throws Exception {
        Probe p = new Probe(harness, harness.start("paths.yaml"));

        p.forbidden("/api/admin");
        p.forbidden("/api/x/admin");
        p.forbidden("/api/x/y/z/admin");
        p.allowed("/api/x/admin/more");
        p.allowed("/api/administrator");
        p.allowed("/api");
        p.allowed("/api/x");

        p.allowed("/img/a.png");
        p.allowed("/img/.png");
        p.forbidden("/img/a/b.png");
        p.forbidden("/img/a.png/x");
        p.forbidden("/img/a.jpg");
    }

    @Test
    void auditModeRuleNeverAllowsEither() throws Exception {
        Probe p = new Probe(harness, harness.start("paths.yaml"));

        p.forbidden("/audit-only/x");
    }

    @Test
    void matchesTheNormalizedPath() throws Exception {
        Probe p = new Probe(harness, harness.start("paths.yaml"));

        p.forbidden("/public/../admin/users");
        p.forbidden("/public/%2e%2e/admin/users");
        p.forbidden("/public/%2E%2E/admin");
        p.forbidden("//admin/users");
        p.forbidden("/%61dmin/users");
        p.forbidden("/public/./../admin");
        assertThat(p.allowed("/admin/../public/x").target()).isEqualTo("/public/x");
        assertThat(p.allowed("/%70ublic/x").target()).isEqualTo("/public/x");
        assertThat(p.allowed("/files//abc/meta").target()).isEqualTo("/files/abc/meta");
    }

    @Test
    void allowsAndDeniesByMethod() throws Exception {
        Probe p = new Probe(harness, harness.start("methods.yaml"));

        p.allowedAs("GET", "/read/x");
        assertThat(p.allowedAs("HEAD", "/read/x").method()).isEqualTo("HEAD");
        p.forbiddenAs("POST", "/read/x", "Content-Length: 0");
        p.allowedAs("POST", "/write", "Content-Length: 0");
        p.allowedAs("PUT", "/write", "Content-Length: 0");
        p.forbiddenAs("PATCH", "/write", "Content-Length: 0");
        p.forbiddenAs("GET", "/write");

        // first matching rule decides: DELETE is denied before the sandbox allows everything
        p.allowedAs("GET", "/sandbox/x");
        p.forbiddenAs("DELETE", "/sandbox/x");

        // a method that is not an upper-case token never reaches the policy (SPEC 3.6): "get" is not GET
        assertThat(p.send("get", "/read/x").status()).isEqualTo(400);
    }

    @Test
    void allowsAndDeniesByHostWithPortRemovedAndCaseIgnored() throws Exception {
        Probe p = new Probe(harness, harness.start("hosts.yaml"));

        p.allowed("/x", "Host: exact.test");
        p.allowed("/x", "Host: exact.test:8080");
        p.allowed("/x", "Host: EXACT.Test");
        p.allowed("/x", "Host: a.example.com");
        p.allowed("/x", "Host: A.Example.COM:443");
        p.allowed("/x", "Host: deep.sub.example.com");

        p.forbidden("/x", "Host: example.com");
        p.forbidden("/x", "Host: example.com:80");
        p.forbidden("/x", "Host: badexample.com");
        p.forbidden("/x", "Host: exact.test.evil");
        p.forbidden("/x", "Host: example.com.evil.test");
        p.forbidden("/x", "Host: 127.0.0.1");
    }

    @Test
    void takesTheHostFromAnAbsoluteFormTargetThatAgreesWithHost() throws Exception {
        Probe p = new Probe(harness, harness.start("hosts.yaml"));

        assertThat(p.allowedAs("GET", "http://a.example.com/x?y=1", "Host: a.example.com").target())
                .as("absolute-form is forwarded in origin-form")
                .isEqualTo("/x?y=1");
        p.forbiddenAs("GET", "http://example.com/x", "Host: example.com");
    }

    @Test
    void allowsAndDeniesByHeaderPresenceAndValue() throws Exception {
        Probe p = new Probe(harness, harness.start("headers.yaml"));

        p.allowed("/any-key/x", "X-Api-Key: abc");
        p.allowed("/any-key/x", "x-api-key: anything at all");
        p.forbidden("/any-key/x");
        p.forbidden("/any-key/x", "X-Api-Key2: abc");

        p.allowed("/tenant/x", "X-Tenant: acme");
        p.allowed("/tenant/x", "X-Tenant: globex");
        p.allowed("/tenant/x", "x-tenant: acme");
        p.forbidden("/tenant/x", "X-Tenant: Acme");
        p.forbidden("/tenant/x", "X-Tenant: acme2");
        p.forbidden("/tenant/x", "X-Tenant: initech");
        p.forbidden("/tenant/x");

        // CGI-style upstreams read X_Tenant as X-Tenant: so does the policy
        p.allowed("/tenant/x", "X_Tenant: acme");
        p.forbidden("/tenant/x", "X_Tenant: initech");
        p.allowed("/any-key/x", "X_API_KEY: abc");
    }

    @Test
    void aRepeatedHeaderThatAConditionReadsIsRefusedAsAmbiguous() throws Exception {
        Probe p = new Probe(harness, harness.start("headers.yaml"));

        LogCapture access = LogCapture.attach("portcullis.access");
        try {
            // the policy would accept "acme" while an upstream reading the first line sees "initech": 400
            RawResponse r = p.rejected(400, "GET", "/tenant/x", "X-Tenant: initech", "X-Tenant: acme");
            assertThat(access.jsonLineFor(r.header("X-Request-Id").orElseThrow()).get("reason").asText())
                    .isEqualTo("ambiguous_header");
            p.rejected(400, "GET", "/tenant/x", "X-Tenant: acme", "x-tenant: acme");
            p.rejected(400, "GET", "/any-key/x", "X-Api-Key: a", "X-API-KEY: b");
            // CGI-style upstreams read X_Tenant as X-Tenant
            p.rejected(400, "GET", "/tenant/x", "X-Tenant: acme", "X_Tenant: initech");
        } finally {
            access.detach();
        }
        // a header no condition reads may repeat
        p.allowed("/tenant/x", "X-Tenant: acme", "X-Other: 1", "X-Other: 2");
    }

    @Test
    void composesConditionsWithAnyAllAndNot() throws Exception {
        Probe p = new Probe(harness, harness.start("composition.yaml"));

        p.allowedAs("GET", "/any/x", "X-A: 1");
        p.allowedAs("PUT", "/any/x", "Content-Length: 0");
        p.forbiddenAs("GET", "/any/x");
        p.forbiddenAs("POST", "/any/x", "Content-Length: 0");

        p.allowed("/all/x", "X-A: 1", "X-B: yes");
        p.forbidden("/all/x", "X-A: 1");
        p.forbidden("/all/x", "X-B: yes");
        p.forbidden("/all/x", "X-A: 1", "X-B: no");

        p.allowed("/not/x");
        p.allowed("/not/x", "X-Other: 1");
        p.forbidden("/not/x", "X-Blocked: 1");
        p.forbidden("/not/x", "X_Blocked: 1");

        p.allowedAs("GET", "/nested/x", "X-A: 1");
        p.allowedAs("GET", "/nested/x", "Host: api.example.com");
        p.forbiddenAs("DELETE", "/nested/x", "X-A: 1");
        p.forbiddenAs("GET", "/nested/x");
    }
}
