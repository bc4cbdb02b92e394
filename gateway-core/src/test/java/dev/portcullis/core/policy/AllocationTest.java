package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.TestRequests.authenticated;
import static dev.portcullis.core.policy.TestRequests.claim;
import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.header;
import static dev.portcullis.core.policy.TestRequests.hosts;
import static dev.portcullis.core.policy.TestRequests.ip;
import static dev.portcullis.core.policy.TestRequests.jwt;
import static dev.portcullis.core.policy.TestRequests.methods;
import static dev.portcullis.core.policy.TestRequests.paths;
import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Checks that the request path allocates nothing: matching and allowing are done once per request. */
class AllocationTest {

    /** The role bits of the policy under test: shared by its role conditions, as the compiler shares them. */
    private final RoleBits roleBits = new RoleBits();

    private RequestMatcher roles(String... roles) {
        return RoleMatcher.any(List.of(roles), roleBits);
    }

    private RequestMatcher allRoles(String... roles) {
        return RoleMatcher.all(List.of(roles), roleBits);
    }

    @Test
    void allowingARequestAllocatesNothing() {
        Policy policy = new Policy(List.of(
                new Rule("block", ip("203.0.113.0/24", "2001:db8:bad::/48"), RequestMatcher.always(), Effect.DENY, 403,
                        Mode.ENFORCE),
                new Rule("admin", AllOf.of(List.of(paths("/admin/**/edit", "/admin/*.json"), hosts("*.example.com"))),
                        AllOf.of(List.of(methods("GET", "POST"), Not.of(header("X-Debug")), header("X-Env", "prod"))),
                        Effect.ALLOW, 403, Mode.ENFORCE)),
                Effect.DENY);
        AccessRequest request = get("/admin/a/b/c/edit").host("www.example.com").header("X-Env", "prod").build();
        assertThat(policy.evaluate(request).allowed()).isTrue();

        assertThat(bytesPerCall(() -> policy.evaluate(request).allowed())).isLessThan(1.0);
    }

    @Test
    void allowingByIdentityConditionsAllocatesNothing() {
        Policy policy = new Policy(List.of(
                new Rule("api", paths("/api/**"),
                        AllOf.of(List.of(authenticated(true), roles("admin", "ops"), allRoles("user", "ops"),
                                claim("groups", "eng"), claim("org.tenant", "acme"), claim("level", "3"))),
                        Effect.ALLOW, 403, Mode.ENFORCE)),
                Effect.DENY);
        Identity identity = jwt("alice", Set.of("user", "ops"), Map.of("groups", List.of("web", "ops", "eng"),
                "org", Map.of("tenant", "acme"), "level", 3L));
        AccessRequest request = get("/api/orders").as(identity).build();
        assertThat(policy.evaluate(request).allowed()).isTrue();

        assertThat(bytesPerCall(() -> policy.evaluate(request).allowed())).isLessThan(1.0);
    }

    @Test
    void allowingByTheLastOfManyIndexedRulesAllocatesNothing() {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            RequestMatcher match = switch (i % 5) {
                case 0 -> AllOf.of(List.of(paths("/api/**"), roles("team-" + i, "ops-" + i)));
                case 1 -> AllOf.of(List.of(ip("203.0.113." + i % 256 + "/32"), methods("GET")));
                case 2 -> AllOf.of(List.of(hosts("tenant-" + i + ".example.com", "*.t" + i + ".example.org"),
                        paths("/api/**")));
                case 3 -> AllOf.of(List.of(paths("/svc-" + i + "/**"), methods("GET", "POST")));
                default -> AllOf.of(List.of(paths("/api/**"), methods("GET"), header("X-Team", "t" + i)));
            };
            rules.add(new Rule("rule-" + i, match, RequestMatcher.always(), Effect.DENY, 403, Mode.ENFORCE));
        }
        rules.add(new Rule("last", AllOf.of(List.of(paths("/api/*/orders/**"), roles("user", "writer"))),
                allRoles("user", "ops"), Effect.ALLOW, 403, Mode.ENFORCE));
        Policy policy = new Policy(rules, Effect.DENY);
        AccessRequest request = get("/api/v2/orders/42").host("api.example.com")
                .as(jwt("alice", Set.of("user", "ops", "staff"), Map.of())).build();
        assertThat(policy.evaluate(request).rule()).isEqualTo("last");

        assertThat(bytesPerCall(() -> policy.evaluate(request).allowed())).isLessThan(1.0);
    }

    @Test
    void caseInsensitivePathsAllocateNothingForAPathWithNothingToFold() {
        Policy policy = new Policy(List.of(
                new Rule("admin", PathMatcher.of(List.of(PathGlob.compile("/Admin/**", true))),
                        RequestMatcher.always(), Effect.ALLOW, 403, Mode.ENFORCE)),
                Effect.DENY, true);
        AccessRequest request = get("/admin/a/b/").build();
        assertThat(policy.evaluate(request).allowed()).isTrue();

        assertThat(bytesPerCall(() -> policy.evaluate(request).allowed())).isLessThan(1.0);
    }

    @Test
    void matchingAllocatesNothing() {
        CidrSet set = CidrSet.of(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32"), Cidr.parse("::1")));
        IpAddress address = IpAddress.parse("2001:db8::77");
        PathGlob glob = PathGlob.compile("/a/**/b*c/**/z");
        HostPattern host = HostPattern.compile("*.Example.com");

        assertThat(bytesPerCall(() -> set.contains(address))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> glob.matches("/a/x/y/bxxc/q/z"))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> glob.matches("/a/x/y/bxxc/q/z/"))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> PathCase.fold("/a/x/y/bxxc/q/z").isEmpty())).isLessThan(1.0);
        assertThat(bytesPerCall(() -> host.matches("api.eu.example.com."))).isLessThan(1.0);
    }

}
