package dev.portcullis.core.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class CidrSetTest {

    private static CidrSet set(String... cidrs) {
        return CidrSet.of(Stream.of(cidrs).map(Cidr::parse).toList());
    }

    private static IpAddress ip(String literal) {
        return IpAddress.parse(literal);
    }

    @Test
    void emptySetContainsNothing() {
        assertThat(CidrSet.EMPTY.contains(ip("0.0.0.0"))).isFalse();
        assertThat(CidrSet.EMPTY.contains(ip("::"))).isFalse();
        assertThat(CidrSet.EMPTY.size()).isZero();
        assertThat(CidrSet.of(List.of())).isSameAs(CidrSet.EMPTY);
    }

    @Test
    void mergesOverlappingAndAdjacentRangesButCountsGivenCidrs() {
        CidrSet set = set("10.0.0.0/24", "10.0.1.0/24", "10.0.0.128/25", "10.0.3.0/24", "10.0.0.0/24");

        assertThat(set.size()).isEqualTo(5);
        assertThat(set.rangeCount()).isEqualTo(2);
        assertThat(set.contains(ip("10.0.1.255"))).isTrue();
        assertThat(set.contains(ip("10.0.2.0"))).isFalse();
        assertThat(set.contains(ip("10.0.3.0"))).isTrue();
        assertThat(set.cidrs()).hasToString("[10.0.0.0/24, 10.0.1.0/24, 10.0.0.128/25, 10.0.3.0/24, 10.0.0.0/24]");
    }

    @Test
    void slash23BoundariesAcrossNeighbours() {
        CidrSet set = set("192.168.0.0/23", "192.168.4.0/23");

        assertThat(set.contains(ip("192.167.255.255"))).isFalse();
        assertThat(set.contains(ip("192.168.0.0"))).isTrue();
        assertThat(set.contains(ip("192.168.1.255"))).isTrue();
        assertThat(set.contains(ip("192.168.2.0"))).isFalse();
        assertThat(set.contains(ip("192.168.3.255"))).isFalse();
        assertThat(set.contains(ip("192.168.4.0"))).isTrue();
        assertThat(set.contains(ip("192.168.5.255"))).isTrue();
        assertThat(set.contains(ip("192.168.6.0"))).isFalse();
    }

    @Test
    void hostAndFullRangesAtTheEdgesOfTheAddressSpace() {
        CidrSet set = set("0.0.0.0/32", "255.255.255.255/32", "::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");

        assertThat(set.contains(ip("0.0.0.0"))).isTrue();
        assertThat(set.contains(ip("0.0.0.1"))).isFalse();
        assertThat(set.contains(ip("255.255.255.255"))).isTrue();
        assertThat(set.contains(ip("255.255.255.254"))).isFalse();
        assertThat(set.contains(ip("::"))).isTrue();
        assertThat(set.contains(ip("::1"))).isFalse();
        assertThat(set.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
        assertThat(set.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"))).isFalse();

        CidrSet everything = set("::/0", "10.0.0.0/8", "ffff::/16");
        assertThat(everything.rangeCount()).isEqualTo(1);
        assertThat(everything.contains(ip("1.2.3.4"))).isTrue();
        assertThat(everything.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
    }

    @Test
    void mixesFamiliesAndTreatsMappedAddressesAsIPv4() {
        CidrSet set = set("203.0.113.0/24", "2001:db8:bad::/48", "::ffff:198.51.100.0/120");

        assertThat(set.contains(ip("203.0.113.9"))).isTrue();
        assertThat(set.contains(ip("::ffff:203.0.113.9"))).isTrue();
        assertThat(set.contains(ip("198.51.100.7"))).isTrue();
        assertThat(set.contains(ip("2001:db8:bad:1::1"))).isTrue();
        assertThat(set.contains(ip("2001:db8:bae::1"))).isFalse();
        assertThat(set.contains(ip("::203.0.113.9"))).isFalse();
        assertThat(set.contains(ip("203.0.114.0"))).isFalse();

        CidrSet allV4 = set("0.0.0.0/0");
        assertThat(allV4.contains(ip("8.8.8.8"))).isTrue();
        assertThat(allV4.contains(ip("::1"))).isFalse();
        assertThat(allV4.contains(ip("::fffe:ffff:ffff"))).isFalse();
        assertThat(allV4.contains(ip("::1:0:0:0"))).isFalse();
    }

    @Test
    void agreesWithBruteForceOnFiveThousandRandomCidrs() {
        Random random = new Random(7);
        List<Cidr> cidrs = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            cidrs.add(randomCidr(random));
        }
        CidrSet set = CidrSet.of(cidrs);
        List<IpAddress> probes = new ArrayList<>();
        for (Cidr cidr : cidrs) {
            IpAddress first = cidr.network();
            IpAddress last = IpAddress.of(cidr.lastHigh(), cidr.lastLow());
            probes.add(first);
            probes.add(last);
            probes.add(plus(first, -1));
            probes.add(plus(last, 1));
        }
        for (int i = 0; i < 5_000; i++) {
            probes.add(randomAddress(random));
        }

        assertThat(set.size()).isEqualTo(5_000);
        assertThat(set.rangeCount()).as("ranges after merging").isBetween(1_000, 4_000);
        for (IpAddress probe : probes) {
            boolean expected = false;
            for (int i = 0; i < cidrs.size() && !expected; i++) {
                expected = cidrs.get(i).contains(probe);
            }
            if (set.contains(probe) != expected) {
                assertThat(set.contains(probe)).as("%s", probe).isEqualTo(expected);
            }
        }
    }

    private static Cidr randomCidr(Random random) {
        IpAddress address = randomAddress(random);
        // mostly long prefixes, so that ranges nest and touch without covering everything
        int prefix = address.isIPv4() ? 32 - random.nextInt(random.nextInt(25) + 1)
                : 128 - random.nextInt(random.nextInt(113) + 1);
        return new Cidr(address, prefix);
    }

    /** Addresses clustered in a few regions, so that ranges overlap, nest and touch. */
    private static IpAddress randomAddress(Random random) {
        return switch (random.nextInt(3)) {
            case 0 -> IpAddress.of(0, 0x0000_ffff_0a00_0000L | random.nextInt(1 << 24));
            case 1 -> IpAddress.of(0x2001_0db8_0000_0000L | random.nextInt(16), random.nextLong() & 0xff_ffffL);
            default -> IpAddress.of(random.nextLong(), random.nextLong());
        };
    }

    private static IpAddress plus(IpAddress address, long delta) {
        long low = address.low() + delta;
        long high = address.high();
        if (delta > 0 && Long.compareUnsigned(low, address.low()) < 0) {
            high++;
        } else if (delta < 0 && Long.compareUnsigned(low, address.low()) > 0) {
            high--;
        }
        return IpAddress.of(high, low);
    }
}
