package dev.portcullis.bench;

import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.ratelimit.LocalRateLimiter;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import dev.portcullis.core.ratelimit.RateLimitDefinition.Scope;
import dev.portcullis.core.ratelimit.RateLimitResult;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link LocalRateLimiter#acquire} uncontended, on the real clock: one hot key, keys spread over 1024 client IPs, and
 * the limited answer. Budget: at most 0.3 µs per check.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RateLimiterBenchmark {

    private LocalRateLimiter generous;
    private LocalRateLimiter strict;
    private AccessRequest one;
    private AccessRequest[] spread;
    private int next;

    @Setup
    public void setUp() {
        // A billion tokens a second never run dry at one check per few nanoseconds: every check is admitted.
        generous = new LocalRateLimiter(RateLimitDefinition.parseKey("generous", "client_ip", 1_000_000_000,
                Duration.ofSeconds(1), 0, Scope.LOCAL), System::nanoTime);
        strict = new LocalRateLimiter(RateLimitDefinition.parseKey("strict", "client_ip", 1, Duration.ofHours(1), 0,
                Scope.LOCAL), System::nanoTime);
        one = request("192.0.2.1");
        spread = new AccessRequest[1024];
        for (int i = 0; i < spread.length; i++) {
            spread[i] = request("10.0." + (i >> 8) + "." + (i & 0xff));
        }
    }

    @Benchmark
    public RateLimitResult admitOneKey() {
        return generous.acquire(one);
    }

    @Benchmark
    public RateLimitResult admitManyKeys() {
        return generous.acquire(spread[next++ & (spread.length - 1)]);
    }

    @Benchmark
    public RateLimitResult limitOneKey() {
        return strict.acquire(one);
    }

    private static AccessRequest request(String ip) {
        IpAddress address = IpAddress.parse(ip);
        return new AccessRequest("GET", "/api/orders", "example.com", address, address, RequestHeaders.of(Map.of()));
    }
}
