package dev.portcullis.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One proxied request through the gateway's real client pipeline under the full policy of issue 10
 * ({@link RequestPathFixture}: StrictHttpServerCodec, admission, AccessControlHandler with an RS256 JWT from 8 cached
 * tokens, 1,000 CIDRs, GeoIP and a role rule, ProxyFrontendHandler and the real upstream pool, whose keep-alive
 * connection is answered in memory; the access log and metrics listeners): one request in, one response out per op,
 * on one keep-alive connection, all on the benchmark thread. {@code -prof gc} gives the bytes allocated per request
 * ({@code gc.alloc.rate.norm}), the figure {@code RequestPathAllocationTest} guards.
 *
 * <p>Run: {@code java -jar gateway-bench/target/benchmarks.jar RequestPathBenchmark -prof gc}; for the allocation
 * sites, {@code -prof "async:libPath=/path/to/libasyncProfiler.so;event=alloc;output=collapsed"}.
 *
 * <p>To update the budget after a change that moves the allocation for good: run the command above, take
 * {@code gc.alloc.rate.norm} (B/op) and set {@code RequestPathAllocationTest.BUDGET_BYTES} to it plus about 9 %,
 * rounded up; the test prints what it measures too (its figure is the test thread's own, within a few percent of
 * JMH's).
 *
 * <p>Results (JDK 17, {@code -f 1 -wi 5 -i 5 -w 1s -r 1s -prof gc}, 2 cores shared with other builds, load average
 * 7 to 15): 7,063 ± 79 B/op, steady. The ns/op (270 to 700 µs, still falling after 10 s) is not a figure: the JIT had
 * not settled on the loaded machine; use {@code bench/run.sh} for time. Top allocation sites per request
 * (async-profiler {@code event=alloc}, share of the bytes): the request decoder's header Strings (the 600-byte
 * bearer token among them) 24 %; the upstream's response decoded and the client's response written 15 %, of which
 * the access line 9 % (its String 6 %); the bearer token substring in {@code BearerTokens.parse} 9 % (gone since
 * 2026-12-06: the token is read in place);
 * {@code UpstreamRequest.rewrite} 8 % ({@code X-Forwarded-For} join, client IP {@code toString}, header sets);
 * {@code RequestAdmission.admit} 16 % in all (request id, target parse, client IP string, the {@code Exchange}).
 *
 * <p>2026-12-06, quiet machine, {@code -f 1 -wi 8 -i 5 -w 1s -r 2s -prof gc}, the jars of f9af087 and of the bearer token
 * read in place alternated twice: 5,975 / 5,903 B/op before, 5,262 / 5,431 after (ns/op 12.6 to 14.9 µs on both, with
 * errors of 25 to 85 %: not a figure). The access log's own encoder ({@code MessageLineEncoder}) is not in this
 * figure: the fixture's access lines do not go through {@code config/logback.xml}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestPathBenchmark {

    private RequestPathFixture fixture;

    @Setup
    public void setUp() throws Exception {
        fixture = RequestPathFixture.start();
    }

    @TearDown
    public void tearDown() throws Exception {
        fixture.close();
    }

    @Benchmark
    public int request() {
        return fixture.exchange();
    }
}
