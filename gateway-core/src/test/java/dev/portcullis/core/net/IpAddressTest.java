package dev.portcullis.core.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            0.0.0.0                                 | 0.0.0.0
            1.2.3.4                                 | 1.2.3.4
            255.255.255.255                         | 255.255.255.255
            10.0.0.1                                | 10.0.0.1
            ::                                      | ::
            ::1                                     | ::1
            1::                                     | 1::
            2001:db8::1                             | 2001:db8::1
            2001:DB8::1                             | 2001:db8::1
            2001:0db8:0000:0000:0000:0000:0000:0001 | 2001:db8::1
            2001:db8:0:0:1:0:0:1                    | 2001:db8::1:0:0:1
            2001:db8:0:1:1:1:1:1                    | 2001:db8:0:1:1:1:1:1
            1:2:3:4:5:6:7:8                         | 1:2:3:4:5:6:7:8
            1:2:3:4:5:6:7::                         | 1:2:3:4:5:6:7:0
            ::2:3:4:5:6:7:8                         | 0:2:3:4:5:6:7:8
            1::8                                    | 1::8
            1:0:0:2::3                              | 1:0:0:2::3
            fe80::1:2                               | fe80::1:2
            ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff | ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
            ::ffff:1.2.3.4                          | 1.2.3.4
            ::FFFF:10.0.0.1                         | 10.0.0.1
            ::ffff:0a00:0001                        | 10.0.0.1
            0:0:0:0:0:ffff:192.0.2.1                | 192.0.2.1
            ::1.2.3.4                               | ::102:304
            64:ff9b::192.0.2.33                     | 64:ff9b::c000:221
            1:2:3:4:5:6:1.2.3.4                     | 1:2:3:4:5:6:102:304
            """)
    void parsesLiterals(String literal, String expected) throws Exception {
        IpAddress address = IpAddress.parse(literal);

        assertThat(address).hasToString(expected);
        assertThat(IpAddress.parse(expected)).isEqualTo(address);
        assertThat(address).isEqualTo(IpAddress.fromBytes(InetAddress.getByName(literal).getAddress()));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {
        "", " ", "1.2.3", "1.2.3.4.5", "1.2.3.256", "256.1.1.1", "1.2.3.-1", "1..3.4", ".1.2.3", "1.2.3.",
        "01.2.3.4", "1.2.3.04", "1.2.3.00", "0x1.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/32", "1.2.3.4:80",
        "1234.1.1.1", "1.2.3.a", "localhost", "example.com", "1", "4294967295", "١.٢.٣.٤",
        ":", ":::", "::::", "1:::2", "1::2::3", ":1", "1:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::", "[::1]", "[::1]:80", "fe80::1%eth0", "fe80::1%1",
        "::ffff:1.2.3", "::ffff:1.2.3.4.5", "::ffff:01.2.3.4", "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:256.1.1.1", "2001:db8::1 ", "ＦＦ::1"
    })
    void rejectsNonLiterals(String literal) {
        assertThat(IpAddress.parseOrNull(literal, 0, literal.length())).isNull();
        assertThatThrownBy(() -> IpAddress.parse(literal))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + literal + "\" is not a valid IP address");
    }

    @Test
    void parsesARangeOfALongerSequence() {
        String header = "for=[2001:db8::1]:80";

        assertThat(IpAddress.parseOrNull(header, 5, 16)).isEqualTo(IpAddress.parse("2001:db8::1"));
        assertThat(IpAddress.parseOrNull(header, 5, 5)).isNull();
        assertThat(IpAddress.parseOrNull(header, 5, 99)).isNull();
    }

    @Test
    void treatsIPv4AndMappedIPv6AsTheSameAddress() {
        IpAddress v4 = IpAddress.parse("10.1.2.3");
        IpAddress mapped = IpAddress.parse("::ffff:10.1.2.3");

        assertThat(mapped).isEqualTo(v4).hasSameHashCodeAs(v4);
        assertThat(v4.isIPv4()).isTrue();
        assertThat(mapped.isIPv4()).isTrue();
        assertThat(v4.high()).isZero();
        assertThat(v4.low()).isEqualTo(0x0000_ffff_0a01_0203L);
        assertThat(IpAddress.parse("::1").isIPv4()).isFalse();
        assertThat(IpAddress.parse("::1.2.3.4").isIPv4()).isFalse();
        assertThat(IpAddress.parse("1::ffff:1.2.3.4").isIPv4()).isFalse();
    }

    @Test
    void createsFromInetAddressBytes() {
        assertThat(IpAddress.fromBytes(new byte[] {(byte) 192, 0, 2, (byte) 255})).hasToString("192.0.2.255");
        byte[] v6 = new byte[16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[15] = (byte) 0xff;
        assertThat(IpAddress.fromBytes(v6)).hasToString("2001::ff");
        assertThatThrownBy(() -> IpAddress.fromBytes(new byte[5]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("byte array of length 5 is not a valid IP address (expected: 4 or 16 bytes)");
    }

    @Test
    void ordersAsUnsigned128BitValues() {
        assertThat(IpAddress.parse("::1")).isLessThan(IpAddress.parse("::2"));
        assertThat(IpAddress.parse("::ffff:ffff")).isLessThan(IpAddress.parse("0.0.0.0"));
        assertThat(IpAddress.parse("255.255.255.255")).isLessThan(IpAddress.parse("8000::"));
        assertThat(IpAddress.parse("7fff::")).isLessThan(IpAddress.parse("8000::"));
        assertThat(IpAddress.parse("::8000:0:0:0")).isLessThan(IpAddress.parse("::1:0:0:0:0"));
        assertThat(IpAddress.parse("1.2.3.4")).isEqualByComparingTo(IpAddress.parse("::ffff:102:304"));
    }

    @Test
    void formatsPerRfc5952() {
        assertThat(IpAddress.parse("2001:db8:0:0:1:0:0:0")).hasToString("2001:db8:0:0:1::");
        assertThat(IpAddress.parse("2001:0:0:1:0:0:1:1")).hasToString("2001::1:0:0:1:1");
        assertThat(IpAddress.parse("2001:db8:0:0:0:1:0:0")).hasToString("2001:db8::1:0:0");
        assertThat(IpAddress.parse("2001:db8:0:1:0:0:0:1")).hasToString("2001:db8:0:1::1");
        assertThat(IpAddress.parse("0:0:0:0:0:0:0:0")).hasToString("::");
        assertThat(IpAddress.parse("1:0:1:0:1:0:1:0")).hasToString("1:0:1:0:1:0:1:0");
    }

    @Test
    void roundTripsRandomAddressesInEveryTextForm() throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < 5_000; i++) {
            long high = random.nextInt(4) == 0 ? 0 : random.nextLong();
            long low = random.nextLong();
            if (random.nextInt(4) == 0) {
                low &= 0xffff_0000_ffffL;
            }
            IpAddress address = IpAddress.of(high, low);
            byte[] bytes = new byte[16];
            for (int b = 0; b < 8; b++) {
                bytes[b] = (byte) (high >>> (56 - 8 * b));
                bytes[8 + b] = (byte) (low >>> (56 - 8 * b));
            }
            StringBuilder full = new StringBuilder();
            for (int g = 0; g < 8; g++) {
                long word = g < 4 ? high : low;
                full.append(g == 0 ? "" : ":").append(String.format("%04X", (word >>> (48 - 16 * (g % 4))) & 0xffff));
            }

            assertThat(IpAddress.parse(address.toString())).isEqualTo(address);
            assertThat(IpAddress.parse(full.toString())).isEqualTo(address);
            assertThat(IpAddress.parse(address.toString().toUpperCase())).isEqualTo(address);
            assertThat(IpAddress.fromBytes(bytes)).isEqualTo(address);
            assertThat(IpAddress.fromBytes(InetAddress.getByName(full.toString()).getAddress())).isEqualTo(address);
        }
    }
}
