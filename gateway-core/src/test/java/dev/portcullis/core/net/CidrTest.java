package dev.portcullis.core.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            10.0.0.0/8             | 10.0.0.0/8
            10.0.0.1/8             | 10.0.0.0/8
            10.1.2.3               | 10.1.2.3/32
            0.0.0.0/0              | 0.0.0.0/0
            192.168.1.255/23       | 192.168.0.0/23
            2001:db8::/32          | 2001:db8::/32
            2001:db8:ffff::1/32    | 2001:db8::/32
            2001:db8::1            | 2001:db8::1/128
            ::/0                   | ::/0
            ::ffff:10.0.0.0/104    | 10.0.0.0/8
            ::ffff:0:0/96          | 0.0.0.0/0
            ::ffff:10.1.2.3        | 10.1.2.3/32
            ::ffff:10.0.0.0/95     | ::fffe:0:0/95
            ::ffff:10.0.0.0/80     | ::/80
            """)
    void parsesAndNormalizes(String text, String expected) {
        assertThat(Cidr.parse(text)).hasToString(expected);
        assertThat(Cidr.parse(expected)).isEqualTo(Cidr.parse(text));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"10.0.0.300/8", "10.0.0/8", "", "/8", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/a",
        "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "example.com/8", "[::1]/128", "fe80::1%eth0/64", "01.0.0.0/8"})
    void rejectsMalformedCidrs(String text) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a valid CIDR"
                        + " (expected: IPv4 or IPv6 address with optional /prefix, e.g. 10.0.0.0/8)");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', textBlock = """
            10.0.0.0/33          | IPv4 prefix length 0..32
            10.0.0.0/99999999999 | IPv4 prefix length 0..32
            10.0.0.0/08          | IPv4 prefix length 0..32
            ::ffff:1.2.3.4/129   | IPv6 prefix length 0..128
            2001:db8::/129       | IPv6 prefix length 0..128
            """)
    void rejectsPrefixLengthsOutOfRange(String text, String expected) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a valid CIDR (expected: " + expected + ")");
    }

    @Test
    void constructorValidatesThePrefixForTheFamily() {
        assertThat(new Cidr(IpAddress.parse("10.1.2.3"), 8)).isEqualTo(Cidr.parse("10.0.0.0/8"));
        assertThatThrownBy(() -> new Cidr(IpAddress.parse("10.0.0.0"), 104))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"104\" is not a valid prefix length for 10.0.0.0 (expected: 0..32)");
        assertThatThrownBy(() -> new Cidr(IpAddress.parse("::"), -1))
                .hasMessage("\"-1\" is not a valid prefix length for :: (expected: 0..128)");
    }

    @Test
    void containsRespectsPrefixBoundaries() {
        Cidr slash23 = Cidr.parse("192.168.0.0/23");
        assertThat(slash23.contains(IpAddress.parse("192.167.255.255"))).isFalse();
        assertThat(slash23.contains(IpAddress.parse("192.168.0.0"))).isTrue();
        assertThat(slash23.contains(IpAddress.parse("192.168.1.255"))).isTrue();
        assertThat(slash23.contains(IpAddress.parse("192.168.2.0"))).isFalse();

        Cidr host = Cidr.parse("203.0.113.9/32");
        assertThat(host.contains(IpAddress.parse("203.0.113.9"))).isTrue();
        assertThat(host.contains(IpAddress.parse("203.0.113.8"))).isFalse();
        assertThat(host.contains(IpAddress.parse("203.0.113.10"))).isFalse();

        Cidr v6Host = Cidr.parse("2001:db8::1/128");
        assertThat(v6Host.contains(IpAddress.parse("2001:db8::1"))).isTrue();
        assertThat(v6Host.contains(IpAddress.parse("2001:db8::2"))).isFalse();
        assertThat(v6Host.contains(IpAddress.parse("2001:db8::"))).isFalse();

        Cidr v6Slash64 = Cidr.parse("2001:db8:0:1::/64");
        assertThat(v6Slash64.contains(IpAddress.parse("2001:db8:0:1:ffff:ffff:ffff:ffff"))).isTrue();
        assertThat(v6Slash64.contains(IpAddress.parse("2001:db8:0:2::"))).isFalse();
        assertThat(v6Slash64.contains(IpAddress.parse("2001:db8:0:0:ffff:ffff:ffff:ffff"))).isFalse();

        Cidr v6Slash65 = Cidr.parse("2001:db8::8000:0:0:0/65");
        assertThat(v6Slash65.contains(IpAddress.parse("2001:db8::8000:0:0:0"))).isTrue();
        assertThat(v6Slash65.contains(IpAddress.parse("2001:db8::7fff:ffff:ffff:ffff"))).isFalse();
    }

    @Test
    void slashZeroCoversOneFamilyOrEverything() {
        Cidr allV4 = Cidr.parse("0.0.0.0/0");
        assertThat(allV4.contains(IpAddress.parse("0.0.0.0"))).isTrue();
        assertThat(allV4.contains(IpAddress.parse("255.255.255.255"))).isTrue();
        assertThat(allV4.contains(IpAddress.parse("::ffff:8.8.8.8"))).isTrue();
        assertThat(allV4.contains(IpAddress.parse("::1"))).isFalse();
        assertThat(allV4.contains(IpAddress.parse("2001:db8::1"))).isFalse();
        assertThat(allV4.contains(IpAddress.parse("::8.8.8.8"))).isFalse();

        Cidr all = Cidr.parse("::/0");
        assertThat(all.contains(IpAddress.parse("1.2.3.4"))).isTrue();
        assertThat(all.contains(IpAddress.parse("::"))).isTrue();
        assertThat(all.contains(IpAddress.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
    }

    @Test
    void ipv4NetworksContainMappedAddressesAndViceVersa() {
        assertThat(Cidr.parse("10.0.0.0/8").contains(IpAddress.parse("::ffff:10.1.2.3"))).isTrue();
        assertThat(Cidr.parse("::ffff:10.0.0.0/104").contains(IpAddress.parse("10.1.2.3"))).isTrue();
        assertThat(Cidr.parse("10.0.0.0/8").contains(IpAddress.parse("::10.1.2.3"))).isFalse();
        assertThat(Cidr.parse("10.0.0.0/8").contains(IpAddress.parse("11.0.0.0"))).isFalse();
    }

    @Test
    void exposesTheLastAddress() {
        Cidr cidr = Cidr.parse("192.168.0.0/23");
        assertThat(IpAddress.of(cidr.lastHigh(), cidr.lastLow())).hasToString("192.168.1.255");
        Cidr all = Cidr.parse("::/0");
        assertThat(IpAddress.of(all.lastHigh(), all.lastLow())).hasToString("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    }
}
