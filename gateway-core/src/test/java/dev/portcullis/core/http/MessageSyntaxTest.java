package dev.portcullis.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The version and field-name grammar both decoders hold to (RFC 9112 2.3 and 5.1, RFC 9110 5.6.2). */
class MessageSyntaxTest {

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/9.9"})
    void aVersionIsUpperCaseHttpAndOneDigitEachSideOfTheDot(String version) {
        byte[] line = latin1("GET / " + version);

        assertThat(MessageSyntax.isHttpVersion(line, 6, version.length())).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"http/1.1", "Http/1.1", "HTTp/1.1", "hTTP/1.0", "HTTP/1.10", "HTTP/11", "HTTP/1", "HTTP/1.",
            "HTTP/a.1", "HTTP/1.x", "HTTP 1.1", "HTTP-1.1", "HTTPS/1.1", "ICY/1.1", "HTTP/1,1", "", "\u0130TTP/1.1",
            "HTTP/\u00b9.1"})
    void anythingElseIsNoVersion(String version) {
        byte[] line = latin1("GET / " + version);

        assertThat(MessageSyntax.isHttpVersion(line, 6, line.length - 6)).as(version).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Host", "X-A", "x", "!#$%&'*+-.^_`|~09azAZ", "Content-Length", "Set-Cookie"})
    void aTokenRightBeforeItsColonIsAFieldName(String name) {
        byte[] line = latin1(" " + name + ": v");

        assertThat(MessageSyntax.isFieldNameBeforeColon(line, 1, name.length())).as(name).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"X(A)", "X\"A", "X/A", "X@A", "X[A]", "X{A}", "X=A", "X;A", "X,A", "X?A", "X\\A", "X<A>",
            "X\u00e9", "X\u0000A", "X\u007fA", "X A", "X\tA", "Name ", "Name\t", " Name"})
    void aNameWithAByteThatIsNoTcharIsNoFieldName(String name) {
        byte[] line = latin1(name + ": v");

        assertThat(MessageSyntax.isFieldNameBeforeColon(line, 0, name.length())).as(name).isFalse();
    }

    /** How a decoder that ends a name at whitespace sees these lines: the name is a token, but no colon follows it. */
    @ParameterizedTest
    @ValueSource(strings = {"Set-Cookie admin=1; x: y", "Location http://evil/: y", "X Bad: a", "X\tA: b", "Name : v",
            "Content-Length\t: 2"})
    void aTokenFollowedByAnythingButTheColonIsNoFieldName(String line) {
        byte[] bytes = latin1(line);
        int nameEnd = 0;
        while (bytes[nameEnd] != ' ' && bytes[nameEnd] != '\t') {
            nameEnd++;
        }

        assertThat(MessageSyntax.isFieldNameBeforeColon(bytes, 0, nameEnd)).as(line).isFalse();
    }

    @Test
    void anEmptyNameOrOneThatEndsTheArrayIsNoFieldName() {
        byte[] line = latin1(": v");
        byte[] noColon = latin1("Name");

        assertThat(MessageSyntax.isFieldNameBeforeColon(line, 0, 0)).isFalse();
        assertThat(MessageSyntax.isFieldNameBeforeColon(noColon, 0, noColon.length)).isFalse();
    }
}
