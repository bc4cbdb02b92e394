package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ConnectionState;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.it.support.JwksServer;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.metrics.GatewayMetrics;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SPEC 5: {@code portcullis_jwt_verifications_total{result}} counts one result per presented token, the one its
 * request was settled with. A token whose kid is unknown waits for the JWKS refetch it triggered; here that fetch
 * is held at the JWKS server, and the handler's event loop (its clock and its tasks) is driven by hand, so that both
 * orders are played out exactly: the fetch landing before {@code header_timeout}, the timeout (or the client
 * leaving) before the fetch.
 */
class KeyWaitCountTest {
    private static final String YAML = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:1"
            limits:
              header_timeout: 2s
            identity:
              jwt:
                issuer: "https://issuer.test/"
                audience: ["orders-api"]
                algorithms: [RS256]
                jwks_url: "http://127.0.0.1:{{JWKS_PORT}}/jwks.json"
                jwks_refresh: 10m
            default: deny
            rules:
              - name: admin
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
            """;

    private static final RSAKey OLD = JwtMint.rsa("old");
    private static final RSAKey NEW = JwtMint.rsa("new");

    private final SnapshotHolder snapshots = new SnapshotHolder();
    private final ManualEventExecutor loop = new ManualEventExecutor();
    private ScheduledExecutorService scheduler;
    private JwksServer jwks;
    private GatewaySnapshot snapshot;
    private GatewayMetrics metrics;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        jwks = JwksServer.start(List.of(OLD));
        String yaml = YAML.replace("{{JWKS_PORT}}", Integer.toString(jwks.port()));
        CompiledConfig config = ConfigLoader.load("keywait.yaml", yaml.getBytes(StandardCharsets.UTF_8), Path.of("."));
        snapshot = GatewaySnapshot.create(config, 1, Clock.systemUTC(), scheduler);
        snapshots.swap(snapshot);
        snapshot.jwt().refreshKeys().get(10, TimeUnit.SECONDS);
        assertThat(snapshot.jwt().providerStatus().get(0).keys()).isEqualTo(1);
        metrics = new GatewayMetrics(snapshots);
        channel = new EmbeddedChannel();
        ServerContext server = new ServerContext(
                snapshots, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), List.of(metrics));
        ConnectionState state = new ConnectionState(channel, server, 0, 0);
        channel.pipeline().addLast(loop, new AccessControlHandler(state));
        // the key the next token needs is published, but the refetch that would bring it is held
        jwks.addKey(NEW);
        jwks.hold();
    }

    @AfterEach
    void tearDown() {
        jwks.close();
        channel.finishAndReleaseAll();
        loop.runPending();
        metrics.close();
        snapshot.jwt().close();
        scheduler.shutdownNow();
    }

    @Test
    void theRefetchLandingFirstCountsValidOnce() throws Exception {
        send(token(NEW));
        assertThat(channel.outboundMessages()).as("nothing answered while the refetch runs").isEmpty();
        assertThat(counted()).as("nothing counted while the request waits").isEmpty();

        landRefetch();

        HttpRequest forwarded = channel.readInbound();
        assertThat(forwarded).as("the request was admitted with the new key").isNotNull();
        ReferenceCountUtil.release(forwarded);
        assertThat(counted()).isEqualTo(Map.of("valid", 1.0));

        loop.advance(5, TimeUnit.SECONDS);
        loop.runPending();
        channel.close();
        assertThat(counted()).as("neither the cancelled timeout nor the closing connection counts again")
                .isEqualTo(Map.of("valid", 1.0));
    }

    @Test
    void theTimeoutEndingTheWaitFirstCountsWhatTheGatewayAnswered() throws Exception {
        send(token(NEW));
        assertThat(counted()).isEmpty();

        loop.advance(2, TimeUnit.SECONDS);
        loop.runPending();

        HttpResponse answer = channel.readOutbound();
        assertThat(answer).as("header_timeout ended the wait").isNotNull();
        assertThat(answer.status().code()).isEqualTo(401);
        ReferenceCountUtil.release(answer);
        assertThat(counted()).as("counted when the request was answered").isEqualTo(Map.of("unknown_kid", 1.0));

        landRefetch();

        assertThat((Object) channel.readInbound()).as("the late key admits nothing").isNull();
        assertThat(counted()).as("the verification after the late refetch counts nothing")
                .isEqualTo(Map.of("unknown_kid", 1.0));
    }

    @Test
    void theClientLeavingBeforeTheRefetchCountsTheRejectionItWaitedWith() throws Exception {
        send(token(NEW));

        channel.close();
        assertThat(counted()).as("counted when the wait was abandoned").isEqualTo(Map.of("unknown_kid", 1.0));

        landRefetch();

        assertThat(counted()).as("the verification after the late refetch counts nothing")
                .isEqualTo(Map.of("unknown_kid", 1.0));
    }

    private void send(String token) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/admin/x");
        request.headers().set("Host", "gateway.test").set("Authorization", "Bearer " + token);
        channel.writeInbound(request);
    }

    private static String token(RSAKey key) {
        return JwtMint.sign(key, JWSAlgorithm.RS256, JwtMint.claims("alice", "admin").build());
    }

    /**
     * Lets the held refetch answer and waits until its landing has reached the event loop (the verification after
     * the fetch has run by then, on the thread that completed the fetch), then runs the event loop.
     */
    private void landRefetch() throws Exception {
        loop.runPending();
        jwks.release();
        loop.awaitTask(Duration.ofSeconds(10));
        loop.runPending();
        assertThat(snapshot.jwt().providerStatus().get(0).keys()).as("the refetch did land").isEqualTo(2);
    }

    /** The results of portcullis_jwt_verifications_total that are not zero. */
    private Map<String, Double> counted() {
        Map<String, Double> counts = new TreeMap<>();
        metrics.registry().get("portcullis.jwt.verifications").functionCounters().forEach(counter -> {
            if (counter.count() != 0) {
                counts.put(counter.getId().getTag("result"), counter.count());
            }
        });
        return counts;
    }
}
