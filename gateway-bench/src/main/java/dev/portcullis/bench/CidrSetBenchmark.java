package dev.portcullis.bench;

import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** {@link CidrSet#contains} over sets of growing size: should grow with log n, not n. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CidrSetBenchmark {
    @Param({"10", "1000", "100000"})
    public int size;

    private CidrSet set;
    private IpAddress[] probes;
    private int next;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(7);
        List<Cidr> cidrs = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            cidrs.add(Cidr.parse(random.nextInt(224) + "." + random.nextInt(256) + "." + random.nextInt(256) + ".0/24"));
        }
        set = CidrSet.of(cidrs);
        probes = new IpAddress[1024];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = IpAddress.parse(random.nextInt(224) + "." + random.nextInt(256) + "." + random.nextInt(256)
                    + "." + random.nextInt(256));
        }
    }

    @Benchmark
    public boolean contains() {
        IpAddress probe = probes[next++ & (probes.length - 1)];
        return set.contains(probe);
    }
}
