package dev.portcullis.core.identity;

import static dev.portcullis.core.identity.TestTokens.ISSUER;
import static dev.portcullis.core.identity.TestTokens.NOW;
import static dev.portcullis.core.identity.TestTokens.claims;
import static dev.portcullis.core.identity.TestTokens.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.testing.MutableClock;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JwksUrlTest {

    static final RSAKey KEY_A = TestTokens.rsa("a");
    static final RSAKey KEY_B = TestTokens.rsa("b");
    static final ECKey KEY_C = TestTokens.ec(Curve.P_256, "c");

    final MutableClock clock = new MutableClock(NOW);
    final List<AutoCloseable> closeables = new ArrayList<>();
    ScheduledExecutorService scheduler;
    JwksServer server;

    @BeforeEach
    void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        server = new JwksServer(TestTokens.jwks(KEY_A));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable closeable : closeables) {
            closeable.close();
        }
        server.close();
        scheduler.shutdownNow();
    }

    JwtIdentityResolver resolver(JwtProviderSettings settings, int cacheSize) throws KeySourceException {
        JwtIdentityResolver resolver = new JwtIdentityResolver(List.of(settings), options(cacheSize));
        closeables.add(resolver);
        return resolver;
    }

    JwtResolverOptions options(int cacheSize) {
        return JwtResolverOptions.defaults(clock, scheduler)
                .withCacheSize(cacheSize)
                .withRetryDelays(Duration.ofMillis(20), Duration.ofMillis(100))
                .withFetchTimeout(Duration.ofSeconds(5));
    }

    JwtProviderSettings settings(URI uri) {
        return JwtProviderSettings.of(ISSUER, new KeySource.JwksUrl(uri));
    }

    JwtIdentityResolver loaded(int cacheSize) throws Exception {
        JwtIdentityResolver resolver = resolver(settings(server.uri()), cacheSize);
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);
        assertThat(resolver.providerStatus().get(0).keys()).isEqualTo(1);
        return resolver;
    }

    static String token(RSAKey key) {
        return sign(key, JWSAlgorithm.RS256, claims().build());
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Waits until every task queued on the scheduler so far, such as a just-triggered fetch, has started. */
    void drainScheduler() throws Exception {
        scheduler.submit(() -> {}).get(5, TimeUnit.SECONDS);
    }

    @Test
    void fetchesAtStartupWithoutBlockingTheCaller() throws Exception {
        JwtIdentityResolver resolver = resolver(settings(server.uri()), 100);

        await("first fetch", () -> resolver.providerStatus().get(0).fetches() == 1);
        assertThat(resolver.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);
        assertThat(server.requests()).isEqualTo(1);
        ProviderStatus status = resolver.providerStatus().get(0);
        assertThat(status.keySource()).isEqualTo("jwks_url");
        assertThat(status.generation()).isEqualTo(1);
        assertThat(status.fetches()).isEqualTo(1);
        assertThat(status.fetchFailures()).isZero();
        assertThat(status.lastSuccess()).isEqualTo(NOW);
    }

    @Test
    void acceptsNewKeyAfterUnknownKidRefetchWithoutRestart() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        server.serve(TestTokens.jwks(KEY_A, KEY_B));

        assertThat(resolver.verify(token(KEY_B))).isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
        await("refetch", () -> resolver.providerStatus().get(0).keys() == 2);

        assertThat(resolver.verify(token(KEY_B))).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);
        assertThat(server.requests()).isEqualTo(2);
        assertThat(resolver.providerStatus().get(0).generation()).isEqualTo(2);
    }

    @Test
    void verifyAsyncWaitsForTheRefetchItTriggered() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        server.serve(TestTokens.jwks(KEY_A, KEY_B));

        CompletableFuture<Resolution> outcome = resolver.verifyAsync(token(KEY_B));

        assertThat(outcome.get(5, TimeUnit.SECONDS)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.resolvedCount()).isEqualTo(1);
        assertThat(resolver.rejectedCount(RejectReason.UNKNOWN_KID)).isZero();
    }

    /**
     * SPEC 5: one count per presented token, the outcome its request was settled with. The refetch is held, so that
     * the request stops waiting first (header_timeout): it is answered with unknown_kid, counted then, and the
     * verification that lands afterwards (which would admit it) counts nothing.
     */
    @Test
    void aRefetchLandingAfterItsRequestWasSettledCountsNothing() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        server.serve(TestTokens.jwks(KEY_A, KEY_B));
        server.hold();
        String authorization = "Bearer " + token(KEY_B);

        Resolution now = resolver.resolve(authorization);
        KeyWait wait = resolver.afterKeyFetch(authorization, now);

        assertThat(now).isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
        assertThat(wait).isNotNull();
        assertThat(wait.landed()).as("the refetch is held").isNotDone();
        assertThat(resolver.rejectedCount(RejectReason.UNKNOWN_KID)).as("nothing counted while waiting").isZero();

        assertThat(wait.settle()).as("the wait ended first").isEqualTo(now);
        assertThat(resolver.rejectedCount(RejectReason.UNKNOWN_KID)).isEqualTo(1);

        server.release();
        assertThat(wait.landed().get(5, TimeUnit.SECONDS)).isInstanceOf(Resolution.Resolved.class);
        assertThat(wait.settle()).as("settled once").isEqualTo(now);
        wait.abandon();
        assertThat(resolver.resolvedCount()).as("the late verification counts nothing").isZero();
        assertThat(resolver.rejectedCount(RejectReason.UNKNOWN_KID)).isEqualTo(1);

        // the next request with the same token finds the key: one more token, one more count
        assertThat(resolver.resolve(authorization)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.resolvedCount()).isEqualTo(1);
    }

    /** The other order: the refetch lands while the request waits; it is settled with, and counted as, valid. */
    @Test
    void aRefetchLandingWhileItsRequestWaitsIsCountedOnceAsSettled() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        server.serve(TestTokens.jwks(KEY_A, KEY_B));
        server.hold();
        String authorization = "Bearer " + token(KEY_B);
        Resolution now = resolver.resolve(authorization);
        KeyWait wait = resolver.afterKeyFetch(authorization, now);
        assertThat(wait).isNotNull();

        server.release();
        Resolution landed = wait.landed().get(5, TimeUnit.SECONDS);

        assertThat(landed).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.resolvedCount()).as("landing alone counts nothing").isZero();
        assertThat(wait.settle()).isEqualTo(landed);
        wait.abandon(); // a connection closing after the answer
        assertThat(wait.settle()).isEqualTo(landed);
        assertThat(resolver.resolvedCount()).isEqualTo(1);
        assertThat(resolver.rejectedCount(RejectReason.UNKNOWN_KID)).isZero();
    }

    /** A request whose client left while it waited counts the rejection it waited with, and nothing after. */
    @Test
    void anAbandonedWaitCountsTheRejectionItWaitedWith() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        server.serve(TestTokens.jwks(KEY_A, KEY_B));
        server.hold();
        String authorization = "Bearer " + token(KEY_B);
        KeyWait wait = resolver.afterKeyFetch(authorization, resolver.resolve(authorization));
        assertThat(wait).isNotNull();

        wait.abandon();
        server.release();
        wait.landed().get(5, TimeUnit.SECONDS);

        assertThat(resolver.rejectedCount(RejectReason.UNKNOWN_KID)).isEqualTo(1);
        assertThat(resolver.resolvedCount()).isZero();
    }

    @Test
    void noWaitForATokenThatWasCountedAlready() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        String authorization = "Bearer " + token(KEY_A);
        Resolution now = resolver.resolve(authorization);

        assertThat(now).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.afterKeyFetch(authorization, now)).isNull();
        assertThat(resolver.resolvedCount()).isEqualTo(1);
    }

    @Test
    void rejectsRemovedKeyAfterTheNextRefresh() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        String tokenA = token(KEY_A);
        assertThat(resolver.verify(tokenA)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.verify(tokenA)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.cacheHits()).isEqualTo(1);

        server.serve(TestTokens.jwks(KEY_B));
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);

        assertThat(resolver.verify(tokenA)).isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
        assertThat(resolver.verify(token(KEY_B))).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void refreshesPeriodicallyInTheBackground() throws Exception {
        JwtIdentityResolver resolver = resolver(settings(server.uri()).withJwksRefresh(Duration.ofMillis(100)), 100);
        await("first fetch", () -> resolver.providerStatus().get(0).keys() == 1);
        String tokenA = token(KEY_A);
        assertThat(resolver.verify(tokenA)).isInstanceOf(Resolution.Resolved.class);

        server.serve(TestTokens.jwks(KEY_B));

        await("periodic refresh drops key a", () -> resolver.verify(tokenA) instanceof Resolution.Rejected);
        assertThat(resolver.verify(token(KEY_B))).isInstanceOf(Resolution.Resolved.class);
        assertThat(server.requests()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void keepsGenerationWhenRefreshFindsTheSameKeys() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        String tokenA = token(KEY_A);
        resolver.verify(tokenA);

        resolver.refreshKeys().get(5, TimeUnit.SECONDS);

        assertThat(resolver.providerStatus().get(0).generation()).isEqualTo(1);
        assertThat(resolver.verify(tokenA)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.signatureVerifications()).isEqualTo(1);
    }

    @Test
    void keepsCachedTokensOfKeysThatSurviveARotation() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        String tokenA = token(KEY_A);
        resolver.verify(tokenA);

        server.serve(TestTokens.jwks(KEY_A, KEY_B));
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);

        assertThat(resolver.providerStatus().get(0).generation()).isEqualTo(2);
        assertThat(resolver.verify(tokenA)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.signatureVerifications()).isEqualTo(1);
    }

    @Test
    void keepsLastGoodKeysWhenAFetchFails() throws Exception {
        JwtIdentityResolver resolver = loaded(0);

        server.status(500);
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);
        assertThat(resolver.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);

        server.status(200);
        server.serve("{\"keys\": not json");
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);
        assertThat(resolver.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);

        server.serve("{\"keys\":[]}");
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);
        assertThat(resolver.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);

        ProviderStatus status = resolver.providerStatus().get(0);
        assertThat(status.fetchFailures()).isGreaterThanOrEqualTo(3);
        assertThat(status.keys()).isEqualTo(1);
        assertThat(status.generation()).isEqualTo(1);
    }

    @Test
    void rejectsTokensWhileJwksIsDownAtStartThenRecoversByItself() throws Exception {
        server.status(503);
        JwtIdentityResolver resolver = resolver(settings(server.uri()), 100);
        String tokenA = token(KEY_A);

        await("a failed fetch", () -> resolver.providerStatus().get(0).fetchFailures() >= 1);
        assertThat(resolver.verify(tokenA)).isEqualTo(Resolution.Rejected.of(RejectReason.NO_KEY_SOURCE));
        int requestsWhileDown = server.requests();
        await("retries with backoff", () -> server.requests() >= requestsWhileDown + 2);

        server.status(200);

        await("recovery", () -> resolver.verify(tokenA) instanceof Resolution.Resolved);
        assertThat(resolver.rejectedCount(RejectReason.NO_KEY_SOURCE)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void rejectsTokensWhenJwksIsUnreachable() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        JwtIdentityResolver resolver =
                resolver(settings(URI.create("http://127.0.0.1:" + closedPort + "/jwks.json")), 100);

        await("a failed fetch", () -> resolver.providerStatus().get(0).fetchFailures() >= 1);

        assertThat(resolver.verify(token(KEY_A))).isEqualTo(Resolution.Rejected.of(RejectReason.NO_KEY_SOURCE));
        assertThat(resolver.providerStatus().get(0).keys()).isZero();
    }

    @Test
    void fetchesAtMostOncePer30SecondsUnderAFloodOfUnknownKids() throws Exception {
        JwtIdentityResolver resolver = loaded(100);
        assertThat(server.requests()).isEqualTo(1);

        List<CompletableFuture<Resolution>> flood = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String forged = sign(KEY_B, JWSAlgorithm.RS256, claims().jwtID("flood-" + i).build());
            if (i % 2 == 0) {
                assertThat(resolver.verify(forged)).isEqualTo(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
            } else {
                flood.add(resolver.verifyAsync(forged));
            }
        }
        CompletableFuture.allOf(flood.toArray(new CompletableFuture<?>[0])).get(5, TimeUnit.SECONDS);
        await("the one refetch", () -> resolver.providerStatus().get(0).fetches() == 2);
        assertThat(server.requests()).isEqualTo(2);

        // The key is published now, but the next refetch is not due for 30 s: no fetch starts.
        server.serve(TestTokens.jwks(KEY_A, KEY_B));
        clock.advance(Duration.ofSeconds(29));
        CompletableFuture<Resolution> early = resolver.verifyAsync(token(KEY_B));
        assertThat(early).isCompletedWithValue(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
        drainScheduler();
        assertThat(server.requests()).isEqualTo(2);

        clock.advance(Duration.ofSeconds(1));
        assertThat(resolver.verifyAsync(token(KEY_B)).get(5, TimeUnit.SECONDS))
                .isInstanceOf(Resolution.Resolved.class);
        assertThat(server.requests()).isEqualTo(3);
    }

    @Test
    void reloadedResolverStartsWithThePreviousKeysAndFetchesAgain() throws Exception {
        JwtIdentityResolver first = loaded(100);
        server.status(503);

        JwtIdentityResolver second = JwtIdentityResolver.reloaded(first, List.of(settings(server.uri())));
        closeables.add(second);
        first.close();

        assertThat(second.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);
        await("the reload's own fetch", () -> second.providerStatus().get(0).fetches() >= 1);
        assertThat(second.verify(token(KEY_A))).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void closedResolverStopsRefreshing() throws Exception {
        JwtIdentityResolver resolver = resolver(settings(server.uri()).withJwksRefresh(Duration.ofMillis(50)), 100);
        await("first fetch", () -> resolver.providerStatus().get(0).keys() == 1);

        resolver.close();
        drainScheduler();
        int requests = server.requests();
        Thread.sleep(200);

        assertThat(server.requests()).isLessThanOrEqualTo(requests + 1);
    }

    @Test
    void acceptsEcKeysFromJwksUrlOnlyForTheirAlgorithm() throws Exception {
        server.serve(TestTokens.jwks(KEY_A, KEY_C));
        JwtIdentityResolver resolver = resolver(settings(server.uri()), 100);
        resolver.refreshKeys().get(5, TimeUnit.SECONDS);

        assertThat(resolver.verify(sign(KEY_C, JWSAlgorithm.ES256, claims().build())))
                .isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.providerStatus().get(0).keys()).isEqualTo(2);
    }
}
