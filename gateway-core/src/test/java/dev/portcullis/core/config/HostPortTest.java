package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPortTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            0.0.0.0:8080          | 0.0.0.0         | 8080  | 0.0.0.0:8080
            [::]:8080             | ::              | 8080  | [::]:8080
            [::1]:0               | ::1             | 0     | [::1]:0
            [2001:db8::1]:65535   | 2001:db8::1     | 65535 | [2001:db8::1]:65535
            localhost:9901        | localhost       | 9901  | localhost:9901
            my_service.local:80   | my_service.local| 80    | my_service.local:80
            """)
    void parsesHostAndPort(String text, String host, int port, String rendered) {
        HostPort hostPort = HostPort.parse(text);

        assertThat(hostPort).isEqualTo(new HostPort(host, port));
        assertThat(hostPort).hasToString(rendered);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', textBlock = """
            0.0.0.0          | host:port
            ''               | host:port
            :8080            | an IP address or host name
            10.0.0.300:80    | an IP address or host name
            bad host:80      | an IP address or host name
            ::1:8080         | an IPv6 address in brackets
            [::1]            | host:port
            [::1:8080        | an IPv6 address in brackets
            [10.0.0.1]:80    | an IPv6 address in brackets
            [::1]x:80        | host:port
            0.0.0.0:65536    | a port 0..65535
            0.0.0.0:-1       | a port 0..65535
            0.0.0.0:         | a port 0..65535
            0.0.0.0:http     | a port 0..65535
            0.0.0.0:080800   | a port 0..65535
            """)
    void rejectsMalformedAddressesSayingWhatWasExpected(String text, String expected) {
        assertThatThrownBy(() -> HostPort.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ConfigValues.quote(text) + " is not a valid address (expected: " + expected
                        + ", e.g. 0.0.0.0:8080 or [::]:8080)");
    }

    @Test
    void socketAddressOfALiteralNeedsNoLookup() {
        assertThat(HostPort.parse("[::1]:0").toSocketAddress().isUnresolved()).isFalse();
        assertThat(HostPort.parse("127.0.0.1:9901").toSocketAddress().getPort()).isEqualTo(9901);
    }

    @ParameterizedTest(name = "{0} vs {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            0.0.0.0:8080      | 127.0.0.1:8080    | true
            127.0.0.1:8080    | [::]:8080         | true
            127.0.0.1:8080    | 127.0.0.1:8080    | true
            LOCALHOST:8080    | localhost:8080    | true
            [::ffff:127.0.0.1]:8080 | 127.0.0.1:8080 | true
            127.0.0.1:8080    | 127.0.0.2:8080    | false
            0.0.0.0:8080      | 0.0.0.0:9901      | false
            0.0.0.0:0         | 0.0.0.0:0         | false
            """)
    void conflictsOnTheSamePortWhenEitherIsTheWildcardOrBothAreTheSameHost(String a, String b, boolean conflict) {
        assertThat(HostPort.parse(a).conflictsWith(HostPort.parse(b))).isEqualTo(conflict);
        assertThat(HostPort.parse(b).conflictsWith(HostPort.parse(a))).isEqualTo(conflict);
    }

    @Test
    void rejectsPortsOutOfRangeAndEmptyHosts() {
        assertThatThrownBy(() -> new HostPort("0.0.0.0", 65_536)).hasMessageContaining("expected: 0..65535");
        assertThatThrownBy(() -> new HostPort("", 80)).hasMessageContaining("empty host");
    }
}
