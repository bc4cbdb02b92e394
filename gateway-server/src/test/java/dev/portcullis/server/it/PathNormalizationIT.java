package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPEC 3.4: the gateway rejects ambiguous request targets with 400 (and closes the connection, SPEC
 * 3.6), canonicalizes the rest, decides on the canonical path and forwards exactly that.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PathNormalizationIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    /** Request targets that must get 400. Strings are sent as ISO-8859-1, so "\u00e9" is the single byte 0xE9. */
    static Stream<Arguments> rejectedTargets() {
        return Stream.of(
                // encoded '/', '\' and ';' (any case)
                rejected("encoded slash", "GET", "/a%2Fb"),
                rejected("encoded slash lower case", "GET", "/a%2fb"),
                rejected("encoded slash hiding admin", "GET", "/admin%2Fpanel"),
                rejected("encoded dot-dot-slash", "GET", "/x/%2e%2e%2fadmin"),
                rejected("encoded backslash", "GET", "/a%5Cb"),
                rejected("encoded backslash lower case", "GET", "/a%5cb"),
                rejected("encoded semicolon", "GET", "/a%3Bb"),
                rejected("encoded semicolon lower case", "GET", "/a%3bb"),
                // %00 and other encoded control characters
                rejected("encoded NUL", "GET", "/a%00b"),
                rejected("encoded NUL at the end", "GET", "/a%00"),
                rejected("encoded LF", "GET", "/a%0Ab"),
                rejected("encoded CRLF injection", "GET", "/a%0d%0aX-Injected:%201"),
                rejected("encoded TAB", "GET", "/a%09b"),
                rejected("encoded US", "GET", "/a%1Fb"),
                rejected("encoded DEL", "GET", "/a%7Fb"),
                // invalid percent escapes
                rejected("non-hex escape", "GET", "/a%zz"),
                rejected("half escape", "GET", "/a%4"),
                rejected("bare percent", "GET", "/a%"),
                rejected("percent before escape", "GET", "/a%%41"),
                rejected("non-hex second digit", "GET", "/a%4G"),
                // invalid UTF-8 after decoding
                rejected("invalid UTF-8 continuation", "GET", "/a%C3%28"),
                rejected("invalid UTF-8 byte FF", "GET", "/a%FF"),
                rejected("lone continuation byte", "GET", "/a%80"),
                rejected("overlong slash", "GET", "/a%C0%AFb"),
                rejected("truncated sequence", "GET", "/a%E2%82"),
                rejected("encoded surrogate", "GET", "/a%ED%A0%80"),
                // ';' anywhere in the path
                rejected("semicolon", "GET", "/a;b"),
                rejected("dot-dot-semicolon", "GET", "/x/..;/admin"),
                rejected("path parameter", "GET", "/a;jsessionid=123"),
                rejected("semicolon segment", "GET", "/a/;/b"),
                // anywhere in the target: '\', '#', space, control characters, bytes outside printable ASCII
                rejected("backslash", "GET", "/a\\b"),
                rejected("backslash traversal", "GET", "/a\\..\\admin"),
                rejected("backslash in query", "GET", "/a?x=\\"),
                rejected("fragment", "GET", "/a#frag"),
                rejected("fragment after query", "GET", "/a?q=1#frag"),
                rejected("space", "GET", "/a b"),
                rejected("control character", "GET", "/a\u0001b"),
                rejected("DEL", "GET", "/a\u007fb"),
                rejected("control character in query", "GET", "/a?q=\u0001"),
                rejected("non-ASCII byte", "GET", "/caf\u00e9"),
                rejected("raw UTF-8 bytes", "GET", "/caf\u00c3\u00a9"),
                rejected("high byte", "GET", "/a\u0080"),
                rejected("non-ASCII byte in query", "GET", "/a?q=\u00e9"),
                // target forms other than origin-form and absolute-form
                rejected("asterisk-form OPTIONS", "OPTIONS", "*"),
                rejected("asterisk-form GET", "GET", "*"),
                rejected("relative path", "GET", "a/b"),
                rejected("query only", "GET", "?x=1"));
    }

    private static Arguments rejected(String name, String method, String target) {
        return Arguments.of(name, method, target);
    }

    @ParameterizedTest(name = "{0}: {1} {2}")
    @MethodSource("rejectedTargets")
    void rejectsAmbiguousTargetsWith400AndClosesTheConnection(String name, String method, String target)
            throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        assertRejected(gw, method + " " + target + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n", List.of(400));
    }

    @Test
    void rejectsAuthorityFormTargets() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        assertRejected(gw, "GET example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n", List.of(400, 405));
    }

    @Test
    void rejectsAbsoluteFormWhoseAuthorityDiffersFromHost() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        assertRejected(gw, "GET http://other.test/x HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n", List.of(400));
    }

    @Test
    void rejectsAbsoluteFormWhosePortDiffersFromHost() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        assertRejected(gw, "GET http://app.test:81/x HTTP/1.1\r\nHost: app.test:82\r\n\r\n", List.of(400));
    }

    @ParameterizedTest(name = "{0} reaches the upstream as {1}")
    @CsvSource(delimiter = ' ', value = {
        "/a//b/./c /a/b/c",
        "/a/b/../c /a/c",
        "/../../etc/passwd /etc/passwd",
        "/a/./b/./c /a/b/c",
        "//a///b /a/b",
        "/a/%7Euser /a/~user",
        "/%41%42%43/x /ABC/x",
        "/a-b_c.d~e /a-b_c.d~e",
        "/ADMIN/panel /ADMIN/panel",
        "/Admin /Admin",
        "/a/..b/c /a/..b/c",
        "/a/.../b /a/.../b",
        "/a%252F /a%252F",
        "/a%25 /a%25",
        "/%2561dmin/panel /%2561dmin/panel",
        "/x/%252e%252e/admin /x/%252e%252e/admin",
        "/a%20b /a%20b",
        "/a//b?x=//y/../z%2F /a/b?x=//y/../z%2F",
        "/caf%C3%A9 /caf%C3%A9",
        "/a%3Ab /a%3Ab"
    })
    void forwardsTheCanonicalPath(String sent, String forwarded) throws Exception {
        Probe p = new Probe(harness, harness.start("normalize.yaml"));

        // the hex digits of an escape may be normalized to upper case (RFC 3986 6.2.2.1); nothing else changes
        assertThat(upperHex(p.allowed(sent).target())).isEqualTo(upperHex(forwarded));
    }

    @Test
    void forwardsUnreservedEscapesDecodedAndMatchingIsCaseSensitive() throws Exception {
        Probe p = new Probe(harness, harness.start("normalize.yaml"));

        assertThat(p.allowed("/ADMIN").target()).isEqualTo("/ADMIN");
        assertThat(p.allowed("/ADMIN/panel").target()).isEqualTo("/ADMIN/panel");
        assertThat(p.allowed("/adminx").target()).isEqualTo("/adminx");
    }

    @ParameterizedTest(name = "{0} is denied like /admin/**")
    @CsvSource({
        "/admin",
        "/admin/",
        "/admin/panel",
        "/x/../admin/panel",
        "/x/%2e%2e/admin/panel",
        "/x/%2E%2E/admin/panel",
        "/x/.%2e/admin/panel",
        "/%2e%2e/admin/panel",
        "/admin/./panel",
        "//admin//panel",
        "/./admin",
        "/%61dmin/panel",
        "/%61%64%6d%69%6e/panel",
        "/a/b/../../admin/panel",
        "/../admin/panel"
    })
    void decidesOnTheCanonicalPath(String target) throws Exception {
        Probe p = new Probe(harness, harness.start("normalize.yaml"));

        p.forbidden(target);
    }

    private void assertRejected(Gateway gw, String request, List<Integer> statuses) throws Exception {
        try (RawHttp raw = gw.raw()) {
            RawResponse r = raw.send(request).readResponse();
            assertThat(r.status()).as("answer to %s%n%s", request.lines().findFirst().orElse(""), r).isIn(statuses);
            GatewayAssertions.assertGatewayError(r, r.status());
            assertThat(raw.awaitClosed(Duration.ofSeconds(3)))
                    .as("the connection is closed after a 400 (SPEC 3.6)")
                    .isTrue();
        }
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    private static String upperHex(String target) {
        StringBuilder sb = new StringBuilder(target);
        for (int i = 0; i + 2 < sb.length(); i++) {
            if (sb.charAt(i) == '%') {
                sb.setCharAt(i + 1, Character.toUpperCase(sb.charAt(i + 1)));
                sb.setCharAt(i + 2, Character.toUpperCase(sb.charAt(i + 2)));
            }
        }
        return sb.toString();
    }
}
