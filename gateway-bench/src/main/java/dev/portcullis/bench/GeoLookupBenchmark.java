package dev.portcullis.bench;

import dev.portcullis.core.geo.MaxMindGeoLookup;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.core.net.IpAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link MaxMindGeoLookup} country and ASN lookups (target: at most 1 µs each) over generated databases of
 * GeoLite2's shape: 60,000 IPv4 and 20,000 IPv6 networks in 200 countries; probes hit listed networks, with a
 * tenth of them unlisted. {@code hot}: 4,096 client addresses, cycled; {@code cold}: a million, cycled, so that the
 * walks of the mapped search tree reach parts of it that are not in the CPU caches (the lookup keeps no cache of
 * addresses: each lookup walks the tree).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GeoLookupBenchmark {

    @Param({"hot", "cold"})
    public String clients;

    private Path dir;
    private MaxMindGeoLookup geo;
    private IpAddress[] probes;
    private int next;

    @Setup
    public void setUp() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        Map<String, String> countries = new LinkedHashMap<>();
        Map<String, Long> asns = new LinkedHashMap<>();
        List<String> hits = new ArrayList<>();
        for (int i = 0; i < 60_000; i++) {
            String prefix = (1 + random.nextInt(222)) + "." + random.nextInt(256) + "." + random.nextInt(256);
            if (prefix.startsWith("10.") || prefix.startsWith("127.") || prefix.startsWith("100.")
                    || prefix.startsWith("172.") || prefix.startsWith("192.") || prefix.startsWith("198.")
                    || prefix.startsWith("169.") || prefix.startsWith("203.")) {
                continue;
            }
            String code = country(random.nextInt(200));
            countries.put(prefix + ".0/24", code);
            asns.put(prefix + ".0/24", 1L + random.nextInt(400_000));
            hits.add(prefix + "." + random.nextInt(256));
        }
        for (int i = 0; i < 20_000; i++) {
            String prefix = "2a0" + random.nextInt(10) + ":" + Integer.toHexString(random.nextInt(0x10000)) + ":"
                    + Integer.toHexString(random.nextInt(0x10000));
            countries.put(prefix + "::/48", country(random.nextInt(200)));
            asns.put(prefix + "::/48", 1L + random.nextInt(400_000));
            hits.add(prefix + "::" + Integer.toHexString(1 + random.nextInt(0xffff)));
        }
        dir = Files.createTempDirectory("geo-bench");
        Path countryDb = MmdbWriter.countries(countries).write(dir.resolve("country.mmdb"));
        Path asnDb = MmdbWriter.asns(asns).write(dir.resolve("asn.mmdb"));
        geo = MaxMindGeoLookup.open(countryDb, asnDb);
        probes = new IpAddress["hot".equals(clients) ? 4096 : 1 << 20];
        for (int i = 0; i < probes.length; i++) {
            if (i % 10 == 9) {
                probes[i] = IpAddress.parse("223." + random.nextInt(256) + "." + random.nextInt(256) + ".1");
            } else {
                String hit = hits.get(random.nextInt(hits.size()));
                // another host in the same network, so that a million probes are (nearly all) distinct
                probes[i] = IpAddress.parse(hit.contains(":")
                        ? hit.substring(0, hit.lastIndexOf(':') + 1) + Integer.toHexString(random.nextInt(0x10000))
                        : hit.substring(0, hit.lastIndexOf('.') + 1) + random.nextInt(256));
            }
        }
    }

    private static String country(int index) {
        return "" + (char) ('A' + index / 26 % 26) + (char) ('A' + index % 26);
    }

    @TearDown
    public void tearDown() throws IOException {
        geo.close();
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    @Benchmark
    public String country() {
        return geo.country(probes[next++ & (probes.length - 1)]);
    }

    @Benchmark
    public long asn() {
        return geo.asn(probes[next++ & (probes.length - 1)]);
    }
}
