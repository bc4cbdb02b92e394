package dev.portcullis.core.decision;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.runtime.GatewaySnapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SPEC 3.1: a rule's rate limit is applied only when the rule allows; a failed {@code require} takes no token. */
class DecisionStepRateLimitTest {

    /* limit 1 + burst 1: a bucket of 2 tokens that refills one per hour, so nothing refills during the test */
    private static final String CONFIG = """
            upstream: { url: "http://127.0.0.1:3000" }
            identity:
              forwarded:
                trusted_proxies: ["10.0.0.7/32"]
                user_header: "X-Forwarded-User"
                roles_header: "X-Forwarded-Groups"
            rate_limits:
              per-ip: { key: client_ip, limit: 1, per: 1h, burst: 1 }
            default: deny
            rules:
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
                rate_limit: per-ip
            """;

    private static final IpAddress PROXY = IpAddress.parse("10.0.0.7");
    private static final IpAddress CLIENT = IpAddress.parse("198.51.100.7");

    private static DecisionStep step() throws Exception {
        return new GatewaySnapshot(ConfigLoader.load("policy.yaml", CONFIG.getBytes(StandardCharsets.UTF_8),
                Path.of(".")), 1, Instant.EPOCH).decisions();
    }

    private static Verdict.Decided decide(DecisionStep step, String... headerPairs) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; i + 1 < headerPairs.length; i += 2) {
            headers.put(headerPairs[i], List.of(headerPairs[i + 1]));
        }
        RequestFacts facts = new RequestFacts("GET", "/admin/x", "gw.example", CLIENT, PROXY,
                RequestHeaders.of(headers), null);
        return step.decide(facts, Resolution.notPresented());
    }

    @Test
    void requestsFailingTheRequirementTakeNoTokenFromTheRulesBucket() throws Exception {
        DecisionStep step = step();
        for (int i = 0; i < 5; i++) {
            assertThat(decide(step).decision().status()).as("anonymous %d", i).isEqualTo(401);
            assertThat(decide(step, "X-Forwarded-User", "bob", "X-Forwarded-Groups", "staff").decision().status())
                    .as("wrong role %d", i).isEqualTo(403);
        }

        String[] admin = {"X-Forwarded-User", "alice", "X-Forwarded-Groups", "admin"};
        assertThat(decide(step, admin).decision().status()).as("first of limit + burst").isEqualTo(200);
        assertThat(decide(step, admin).decision().status()).as("second of limit + burst").isEqualTo(200);
        Verdict.Decided limited = decide(step, admin);
        assertThat(limited.decision().status()).as("the bucket of the same client IP is now empty").isEqualTo(429);
        assertThat(limited.decision().rule()).isEqualTo("admin");
        assertThat(limited.retryAfterSeconds()).isPositive();
    }

    @Test
    void aDeniedRequestAfterTheBucketIsEmptyStaysDeniedNotRateLimited() throws Exception {
        DecisionStep step = step();
        String[] admin = {"X-Forwarded-User", "alice", "X-Forwarded-Groups", "admin"};
        decide(step, admin);
        decide(step, admin);
        assertThat(decide(step, admin).decision().status()).isEqualTo(429);
        assertThat(decide(step).decision().status()).as("anonymous: the rule's 401, not the limiter's 429")
                .isEqualTo(401);
        assertThat(decide(step, "X-Forwarded-User", "bob").decision().status()).isEqualTo(403);
    }
}
