package dev.portcullis.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPatternTest {

    @ParameterizedTest(name = "{0} ~ \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            example.com       | example.com          | true
            example.com       | EXAMPLE.com          | true
            Example.COM       | example.com          | true
            example.com       | example.com.         | true
            example.com       | www.example.com      | false
            example.com       | example.co           | false
            example.com       | example.comm         | false
            example.com       | ''                   | false
            *.example.com     | api.example.com      | true
            *.example.com     | a.b.example.com      | true
            *.Example.com     | API.EXAMPLE.COM      | true
            *.example.com     | api.example.com.     | true
            *.example.com     | example.com          | false
            *.example.com     | .example.com         | false
            *.example.com     | badexample.com       | false
            *.example.com     | example.com.evil.org | false
            10.0.0.1          | 10.0.0.1             | true
            [::1]             | [::1]                | true
            [2001:DB8::1]     | [2001:db8::1]        | true
            [0:0::1]          | [::1]                | true
            [2001:db8:0:0:0:0:0:1] | [2001:db8::1]   | true
            """)
    void matchesCaseInsensitively(String pattern, String host, boolean expected) {
        assertThat(HostPattern.compile(pattern).matches(host)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "*", "*.", "a.*.com", "**.example.com", "example.com:8080", "exa mple.com",
        "example..com", ".example.com", "example.com.", "https://example.com", "[::1", "[example.com]", "*.[::1]"})
    void rejectsInvalidPatterns(String pattern) {
        assertThatThrownBy(() -> HostPattern.compile(pattern))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + pattern + "\" is not a valid host pattern (expected: a host name or address, "
                        + "or *. and a domain, e.g. api.example.com or *.example.com)");
    }
}
