package dev.portcullis.server.it;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.RedisServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lifecycle the shared rate limit ITs have in common: in-process gateways from {@link #harness}, and a
 * fresh {@code redis-server} per test, stopped after the test's gateways are closed (so that no gateway is
 * left reconnecting to a server that is gone).
 */
abstract class RedisPerTest {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    /** This test's server; a test may stop and restart it. */
    RedisServer redis;

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisServer.start();
    }

    @AfterEach
    void stopRedis() throws Exception {
        harness.closeGateways();
        if (redis != null) {
            redis.stop();
        }
    }

    /** The ids of the gateways' connections to Redis (every client but the one asking), one per line. */
    String clientIds() throws Exception {
        List<String> ids = new ArrayList<>();
        for (String line : redis.command("CLIENT", "LIST").split("\n")) {
            if (!line.contains("cmd=client")) {
                ids.add(line.substring(0, line.indexOf(' ')));
            }
        }
        return String.join("\n", ids);
    }
}
