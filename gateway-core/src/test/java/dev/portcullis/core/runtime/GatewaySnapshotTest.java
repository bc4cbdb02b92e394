package dev.portcullis.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.identity.KeySourceException;
import dev.portcullis.core.identity.ProviderStatus;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewaySnapshotTest {
    @TempDir
    Path dir;

    ServerSocket jwks;
    CountingScheduler scheduler;

    /**
     * Counts what is handed to it. ThreadPoolExecutor.getTaskCount() is only approximate: a task a worker has taken
     * from the queue but not yet started is counted nowhere, which made the positive check flaky.
     */
    static final class CountingScheduler extends ScheduledThreadPoolExecutor {
        final AtomicInteger submitted = new AtomicInteger();

        CountingScheduler() {
            super(1);
        }

        @Override
        protected <V> RunnableScheduledFuture<V> decorateTask(Runnable runnable, RunnableScheduledFuture<V> task) {
            submitted.incrementAndGet();
            return task;
        }

        @Override
        protected <V> RunnableScheduledFuture<V> decorateTask(Callable<V> callable, RunnableScheduledFuture<V> task) {
            submitted.incrementAndGet();
            return task;
        }
    }

    @BeforeEach
    void start() throws Exception {
        jwks = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        scheduler = new CountingScheduler();
    }

    @AfterEach
    void stop() throws Exception {
        scheduler.shutdownNow();
        jwks.close();
    }

    /** A config whose first JWT provider has a {@code jwks_url} on {@link #jwks}; then {@code moreProviders}. */
    private CompiledConfig config(String moreProviders) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, """
                upstream: { url: "http://127.0.0.1:3000" }
                identity:
                  jwt:
                    - issuer: "https://remote.example/"
                      audience: [orders-api]
                      jwks_url: "http://127.0.0.1:%d/jwks.json"
                %s""".formatted(jwks.getLocalPort(), moreProviders));
        return ConfigLoader.load(file);
    }

    private static String partner(String keys) {
        return """
                    - issuer: "https://partner.example/"
                      audience: [orders-api]
                      %s
                """.formatted(keys);
    }

    @Test
    void offlineLoadsKeyFilesButNeverStartsAJwksUrlFetch() throws Exception {
        RSAKey key = new RSAKeyGenerator(2048).keyID("p1").generate();
        Files.writeString(dir.resolve("jwks.json"), new JWKSet(key.toPublicJWK()).toString());
        CompiledConfig config = config(partner("jwks_file: \"jwks.json\""));

        try (GatewaySnapshot snapshot = GatewaySnapshot.offline(config, Clock.systemUTC(), scheduler)) {
            ProviderStatus remote = snapshot.jwt().providerStatus().get(0);
            ProviderStatus partner = snapshot.jwt().providerStatus().get(1);
            assertThat(remote.keySource()).isEqualTo("jwks_url");
            assertThat(remote.keys()).isZero();
            assertThat(remote.fetches()).isZero();
            assertThat(partner.keys()).isEqualTo(1);
            assertThat(scheduler.submitted).as("tasks handed to the background scheduler").hasValue(0);
        }
    }

    @Test
    void offlineStillReportsAnUnusableKeyFile() throws Exception {
        Files.writeString(dir.resolve("jwks.json"), "not a key set");
        CompiledConfig config = config(partner("jwks_file: \"jwks.json\""));

        assertThatThrownBy(() -> GatewaySnapshot.offline(config, Clock.systemUTC(), scheduler))
                .isInstanceOf(KeySourceException.class)
                .hasMessageContaining("jwks.json");
        assertThat(scheduler.submitted).hasValue(0);
    }

    @Test
    void createStartsTheJwksUrlFetchInTheBackground() throws Exception {
        CompiledConfig config = config("");

        try (GatewaySnapshot snapshot = GatewaySnapshot.create(config, 1, Clock.systemUTC(), scheduler)) {
            assertThat(scheduler.submitted.get()).as("tasks handed to the background scheduler").isPositive();
        }
    }
}
