package dev.portcullis.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestHeadTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "app.example", "APP.Example", "app.example:8080", "app.example:", "app.example:65535", "app.example.",
        "127.0.0.1", "127.0.0.1:80", "my_host", "a-b.c~d", "0x7f.1", "[::1]", "[::1]:8080", "[2001:db8::1]:",
        "[::ffff:10.0.0.1]:443"
    })
    void acceptsOneHostAndAnOptionalPort(String authority) {
        assertThat(RequestHead.isValidAuthority(authority)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", ":80", "internal.example:80:80", "INTERNAL.example:80:", "h:1:2", "h:http", "h:-1", "h:8o", "h:65536",
        "h:000080", "h,i", "127.0.0.1:1,internal.example", "[internal.example]", "[10.0.0.1]", "[]", "[::1",
        "[::1]x", "[::1]:x", "::1", "a@internal.example", "internal.example%2e", "h h", "h\t", "h/x", "h\\x", "h?",
        "h#", "h;x", "h=x", "h*", "h'", "h(1)", "h!", "h$", "h&", "h+", "\u00e9.example", "h\u0000",
        ".", ".example", "a..example", "admin.example..", "..:80", "a.:80.", "a..b:80"
    })
    void refusesAnythingElse(String authority) {
        assertThat(RequestHead.isValidAuthority(authority)).isFalse();
    }
}
