package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.LeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Proves that the leak check used by every IT class actually sees a leaked buffer. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LeakCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void detectsADeliberatelyLeakedBuffer() throws Exception {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        LeakCheck.drainCanaryLeaks();

        leakOneBuffer();

        List<String> canaries = List.of();
        for (int i = 0; i < 20 && canaries.isEmpty(); i++) {
            LeakCheck.pollForLeaks();
            canaries = LeakCheck.drainCanaryLeaks();
        }
        assertThat(canaries).as("the planted leak is reported").isNotEmpty();
        assertThat(canaries.get(0)).contains(LeakCheck.CANARY_HINT);
    }

    private static void leakOneBuffer() {
        ByteBuf leaked = ByteBufAllocator.DEFAULT.directBuffer(128);
        leaked.touch(LeakCheck.CANARY_HINT);
        leaked.writeInt(42);
        // no release: the only reference dies here
    }
}
