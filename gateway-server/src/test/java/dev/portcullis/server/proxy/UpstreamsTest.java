package dev.portcullis.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.UpstreamSettings;
import dev.portcullis.server.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which reloads keep the upstream pool (and its connections) and which start a new one. */
class UpstreamsTest {
    private EventLoopGroup group;
    private List<EventLoop> loops;

    @BeforeEach
    void startLoop() {
        group = Transport.nio().newGroup(1);
        loops = List.of((EventLoop) group.next());
    }

    @AfterEach
    void stopLoop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static UpstreamSettings settings(int port, Duration connectTimeout, Duration responseTimeout,
            int maxConnections, boolean caseInsensitivePaths) {
        return new UpstreamSettings("http", "127.0.0.1", port, "127.0.0.1:" + port, connectTimeout, responseTimeout,
                maxConnections, caseInsensitivePaths);
    }

    private static UpstreamSettings base() {
        return settings(8080, Duration.ofSeconds(2), Duration.ofSeconds(30), 16, false);
    }

    @Test
    void aReloadChangingOnlyWhatTheExchangeReadsKeepsThePool() {
        UpstreamSettings first = base();
        try (Upstreams upstreams = new Upstreams(first, Transport.nio(), loops)) {
            UpstreamPool pool = upstreams.current();

            UpstreamSettings slower = settings(8080, Duration.ofSeconds(2), Duration.ofSeconds(90), 16, true);
            upstreams.follow(slower);

            assertThat(upstreams.current()).isSameAs(pool);
            assertThat(upstreams.poolFor(slower)).isSameAs(pool);
            assertThat(upstreams.poolFor(first)).isSameAs(pool);
        }
    }

    @Test
    void aReloadChangingWhatAConnectionDependsOnStartsANewPoolAndKeepsTheOldForOlderExchanges() {
        UpstreamSettings first = base();
        try (Upstreams upstreams = new Upstreams(first, Transport.nio(), loops)) {
            UpstreamPool pool = upstreams.current();
            for (UpstreamSettings changed : List.of(
                    settings(8081, Duration.ofSeconds(2), Duration.ofSeconds(30), 16, false),
                    settings(8080, Duration.ofSeconds(3), Duration.ofSeconds(30), 16, false),
                    settings(8080, Duration.ofSeconds(2), Duration.ofSeconds(30), 17, false),
                    new UpstreamSettings("http", "localhost", 8080, "localhost:8080", Duration.ofSeconds(2),
                            Duration.ofSeconds(30), 16, false))) {
                upstreams.follow(changed);
                assertThat(upstreams.current()).as("%s", changed).isNotSameAs(pool);
                assertThat(upstreams.poolFor(changed)).isSameAs(upstreams.current());

                upstreams.follow(first);
                assertThat(upstreams.current()).as("back to the first settings").isSameAs(pool);
            }
        }
    }

    @Test
    void anExchangeOfAnOlderGenerationGetsAPoolOfItsOwnSettings() {
        UpstreamSettings first = base();
        try (Upstreams upstreams = new Upstreams(first, Transport.nio(), loops)) {
            UpstreamPool pool = upstreams.current();
            UpstreamSettings moved = settings(9090, Duration.ofSeconds(2), Duration.ofSeconds(30), 16, false);
            upstreams.follow(moved);

            UpstreamPool older = upstreams.poolFor(settings(8080, Duration.ofSeconds(2), Duration.ofSeconds(5), 16, false));

            assertThat(older).isSameAs(pool);
            assertThat(older.settings().port()).isEqualTo(8080);
        }
    }
}
