package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpstreamUrlTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            http://127.0.0.1:3000    | 127.0.0.1     | 3000 | 127.0.0.1:3000
            http://127.0.0.1:3000/   | 127.0.0.1     | 3000 | 127.0.0.1:3000
            HTTP://Orders.Internal   | Orders.Internal | 80 | Orders.Internal
            http://[::1]:3000        | ::1           | 3000 | [::1]:3000
            http://[2001:db8::7]/    | 2001:db8::7   | 80   | [2001:db8::7]
            http://orders_api:8080   | orders_api    | 8080 | orders_api:8080
            """)
    void parsesHttpOrigins(String url, String host, int port, String authority) {
        assertThat(UpstreamUrl.parse(url)).isEqualTo(new UpstreamUrl("http", host, port, authority));
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.1:3000                  | http://host[:port], e.g. http://127.0.0.1:3000
            ''                              | http://host[:port], e.g. http://127.0.0.1:3000
            ftp://files:21                  | scheme http, e.g. http://127.0.0.1:3000
            http://                         | an IP address or host name, e.g. http://127.0.0.1:3000
            http://user:pw@127.0.0.1:3000   | no user info in the URL
            http://127.0.0.1:3000/api       | no path, e.g. http://127.0.0.1:3000
            http://127.0.0.1:3000//         | no path, e.g. http://127.0.0.1:3000
            http://127.0.0.1:3000/?a=b      | no query or fragment, e.g. http://127.0.0.1:3000
            http://127.0.0.1:3000#top       | no query or fragment, e.g. http://127.0.0.1:3000
            http://127.0.0.1:0              | a port 1..65535, e.g. http://127.0.0.1:3000
            http://127.0.0.1:99999          | a port 1..65535, e.g. http://127.0.0.1:3000
            http://::1:3000                 | an IPv6 address in brackets, e.g. http://[::1]:3000
            http://[::1:3000                | an IPv6 address in brackets, e.g. http://[::1]:3000
            http://exa mple:80              | an IP address or host name, e.g. http://127.0.0.1:3000
            """)
    void rejectsAnythingButAnHttpOrigin(String url, String expected) {
        assertThatThrownBy(() -> UpstreamUrl.parse(url))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ConfigValues.quote(url) + " is not a valid upstream URL (expected: " + expected + ")");
    }

    @Test
    void saysHttpsIsNotSupportedYet() {
        assertThatThrownBy(() -> UpstreamUrl.parse("https://orders.internal"))
                .hasMessage("https upstreams are not supported yet (expected: an http:// URL)");
    }
}
