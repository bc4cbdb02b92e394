package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.JwksServer;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SPEC 3 jwks_url / jwks_refresh: keys fetched from a JWKS endpoint, rotation without restart, a removed
 * key rejected after a refresh, recovery when the endpoint comes up late, and unknown-kid refetches
 * limited to one per 30 s.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IdentityJwksUrlIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    static RSAKey k1;
    static RSAKey k2;
    static RSAKey stranger;

    @BeforeAll
    static void keys() {
        k1 = JwtMint.rsa("rot-1");
        k2 = JwtMint.rsa("rot-2");
        stranger = JwtMint.rsa("stranger");
    }

    private static Probe start(int jwksPort, String refresh) throws Exception {
        return new Probe(harness, harness.start("identity-jwks-url.yaml",
                Map.of("JWKS_PORT", Integer.toString(jwksPort), "JWKS_REFRESH", refresh)));
    }

    private static String token(RSAKey key, String sub) {
        return JwtMint.sign(key, JWSAlgorithm.RS256, claims(sub, "admin").build());
    }

    /**
     * Repeats GET /admin/x with {@code token} until it is answered {@code status}; every other answer must
     * be the other of 200 / 401 invalid_token. Returns the number of attempts.
     */
    private static int awaitStatus(Probe p, String token, int status, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        int attempts = 0;
        RawResponse last = null;
        while (System.nanoTime() < deadline) {
            attempts++;
            last = p.send("GET", "/admin/x", bearer(token));
            if (last.status() == status) {
                return attempts;
            }
            if (last.status() == 401) {
                JwtAssertions.assertUnauthorized(last, true, "token while waiting for " + status);
            } else {
                assertThat(last.status()).as("while waiting for %d:%n%s", status, last).isEqualTo(200);
            }
            Thread.sleep(250);
        }
        throw new AssertionError("GET /admin/x was not answered " + status + " within " + within + " ("
                + attempts + " attempts); last answer:\n" + last);
    }

    @Test
    void acceptsATokenWithANewKidOnceTheKeyIsPublishedWithoutARestart() throws Exception {
        try (JwksServer jwks = JwksServer.start(List.of(k1))) {
            Probe p = start(jwks.port(), "10m");
            awaitStatus(p, token(k1, "one"), 200, Duration.ofSeconds(15));
            int before = jwks.fetches();

            jwks.addKey(k2);
            awaitStatus(p, token(k2, "two"), 200, Duration.ofSeconds(45));
            awaitStatus(p, token(k1, "one"), 200, Duration.ofSeconds(1));

            assertThat(jwks.fetches()).as("JWKS fetches (%d before the new kid was seen)", before)
                    .isBetween(1, 3);
            assertThat(p.allowed("/admin/x", bearer(token(k2, "two"))).headerValues("X-Auth-Subject"))
                    .containsExactly("two");
        }
    }

    @Test
    void rejectsARemovedKeyAfterTheNextRefresh() throws Exception {
        try (JwksServer jwks = JwksServer.start(List.of(k1, k2))) {
            Probe p = start(jwks.port(), "1s");
            awaitStatus(p, token(k2, "two"), 200, Duration.ofSeconds(15));
            awaitStatus(p, token(k1, "one"), 200, Duration.ofSeconds(1));

            jwks.removeKey(k2.getKeyID());
            awaitStatus(p, token(k2, "two"), 401, Duration.ofSeconds(15));
            JwtAssertions.unauthorized(harness, p, true, "/admin/x", bearer(token(k2, "two")));
            p.allowed("/admin/x", bearer(token(k1, "one")));
        }
    }

    @Test
    void recoversWhenTheJwksEndpointComesUpAfterTheGateway() throws Exception {
        int port = GatewayHarness.deadPort();
        Probe p = start(port, "10m");
        String t = token(k1, "late");

        JwtAssertions.unauthorized(harness, p, true, "/admin/x", bearer(t));
        JwtAssertions.unauthorized(harness, p, false, "/admin/x");

        try (JwksServer jwks = JwksServer.startOn(port, List.of(k1))) {
            int attempts = awaitStatus(p, t, 200, Duration.ofSeconds(60));
            assertThat(attempts).isPositive();
            assertThat(jwks.fetches()).as("JWKS fetches once the endpoint is up").isBetween(1, 5);
        }
    }

    @Test
    void aFloodOfUnknownKidsCausesAtMostOneRefetch() throws Exception {
        try (JwksServer jwks = JwksServer.start(List.of(k1))) {
            Probe p = start(jwks.port(), "10m");
            awaitStatus(p, token(k1, "one"), 200, Duration.ofSeconds(15));
            int afterStartup = jwks.fetches();
            assertThat(afterStartup).as("fetches at startup").isBetween(1, 2);

            ExecutorService pool = Executors.newFixedThreadPool(10);
            try {
                List<Future<RawResponse>> answers = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    RSAKey k = new RSAKey.Builder(stranger).keyID("unknown-" + i).build();
                    String t = token(k, "flood-" + i);
                    answers.add(pool.submit(() -> p.send("GET", "/admin/x", bearer(t))));
                }
                for (Future<RawResponse> f : answers) {
                    JwtAssertions.assertUnauthorized(f.get(30, TimeUnit.SECONDS), true, "unknown kid in a flood");
                }
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(10, TimeUnit.SECONDS);
            }
            Thread.sleep(3_000);

            assertThat(jwks.fetches()).as("JWKS fetches after 100 unknown-kid tokens (%d at startup)", afterStartup)
                    .isLessThanOrEqualTo(2);
            p.allowed("/admin/x", bearer(token(k1, "one")));
        }
    }
}
