package dev.portcullis.core.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;

/** {@link CidrSet#contains} agrees with a naive list scan ({@link NaiveCidr}) for any set and any address. */
class CidrSetPropertiesTest {

    /** Address bytes: IPv4, IPv4-mapped IPv6, IPv6 near the IPv4-mapped range and in a few /16s, anything. */
    @Provide
    Arbitrary<byte[]> addresses() {
        Arbitrary<byte[]> v4 = Arbitraries.bytes().array(byte[].class).ofSize(4);
        Arbitrary<byte[]> mapped = v4.map(b -> {
            byte[] a = new byte[16];
            a[10] = (byte) 0xFF;
            a[11] = (byte) 0xFF;
            System.arraycopy(b, 0, a, 12, 4);
            return a;
        });
        Arbitrary<byte[]> v6 = Arbitraries.bytes().array(byte[].class).ofSize(16);
        Arbitrary<byte[]> nearby = Combinators.combine(v6, Arbitraries.of(0x20010db8, 0x20010db9, 0, 0xfe800000))
                .as((a, top) -> {
                    int t = top;
                    a[0] = (byte) (t >>> 24);
                    a[1] = (byte) (t >>> 16);
                    a[2] = (byte) (t >>> 8);
                    a[3] = (byte) t;
                    if (t == 0) {
                        Arrays.fill(a, 0, 10, (byte) 0);
                    }
                    return a;
                });
        Arbitrary<byte[]> smallV4 = Combinators.combine(Arbitraries.of(10, 192, 203, 0, 255), v4).as((top, a) -> {
            a[0] = (byte) top.intValue();
            return a;
        });
        return Arbitraries.oneOf(v4, smallV4, mapped, v6, nearby);
    }

    @Provide
    Arbitrary<NaiveCidr> cidrs() {
        return addresses().flatMap(network -> Arbitraries.integers()
                .between(0, NaiveCidr.isV4(network) ? 32 : 128)
                .map(prefix -> new NaiveCidr(network, prefix)));
    }

    @Property(tries = 1000)
    @StatisticsReport(StatisticsReport.StatisticsReportMode.OFF)
    void containsAgreesWithANaiveScan(
            @ForAll("cidrSets") List<NaiveCidr> cidrs, @ForAll("addresses") byte[] address, @ForAll int pick) {
        List<Cidr> compiled = new ArrayList<>();
        for (NaiveCidr cidr : cidrs) {
            compiled.add(new Cidr(IpAddress.fromBytes(cidr.network()), cidr.prefixLength()));
        }
        CidrSet set = CidrSet.of(compiled);
        // half of the probes are inside one of the networks (its network address with random host bits kept)
        byte[] probe = !cidrs.isEmpty() && (pick & 1) == 0
                ? within(cidrs.get(Math.floorMod(pick >> 1, cidrs.size())), address)
                : address;

        boolean expected = cidrs.stream().anyMatch(cidr -> cidr.contains(probe));
        Statistics.label("contained").collect(expected);
        Statistics.label("contained").coverage(c -> c.check(true).percentage(p -> p > 20));
        assertThat(set.contains(IpAddress.fromBytes(probe))).as("%s contains %s", set, IpAddress.fromBytes(probe))
                .isEqualTo(expected);
        for (Cidr cidr : compiled) {
            assertThat(set.contains(cidr.network())).as("%s contains its own %s", set, cidr).isTrue();
        }
    }

    @Provide
    Arbitrary<List<NaiveCidr>> cidrSets() {
        return cidrs().list().ofMaxSize(12);
    }

    /** An address of {@code cidr}'s family: its network bits and {@code random}'s host bits. */
    private static byte[] within(NaiveCidr cidr, byte[] random) {
        byte[] network = cidr.network();
        byte[] result = network.clone();
        boolean v4 = NaiveCidr.isV4(network);
        int offset = network.length == 16 && v4 ? 12 : 0;
        int bits = cidr.prefixLength();
        for (int i = 0; i < (v4 ? 4 : 16); i++) {
            int keep = Math.max(0, Math.min(8, bits - 8 * i));
            int mask = keep == 0 ? 0 : (0xFF << (8 - keep)) & 0xFF;
            int r = random[i % random.length];
            result[offset + i] = (byte) (network[offset + i] & mask | r & ~mask & 0xFF);
        }
        return result;
    }
}
