package dev.portcullis.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.portcullis.core.http.TargetResult.Accepted;
import dev.portcullis.core.http.TargetResult.Rejected;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.jspecify.annotations.Nullable;

class RequestTargetTest {

    private static final String HOST = "example.com";

    private static Arguments ok(String target, String path) {
        return ok(target, HOST, path, null);
    }

    private static Arguments ok(String target, @Nullable String host, String path, @Nullable String query) {
        return arguments(target, host, new Accepted(path, query));
    }

    private static Arguments bad(String target, Rejected rejected) {
        return bad(target, HOST, rejected);
    }

    private static Arguments bad(String target, @Nullable String host, Rejected rejected) {
        return arguments(target, host, rejected);
    }

    static Stream<Arguments> canonicalization() {
        return Stream.of(
                ok("/", "/"),
                ok("/a/b", "/a/b"),
                ok("/ADMIN", "/ADMIN"),
                ok("/a/", "/a/"),
                // dot segments, never above the root
                ok("/x/../admin/panel", "/admin/panel"),
                ok("/a//b/./c", "/a/b/c"),
                ok("/../../etc/passwd", "/etc/passwd"),
                ok("/..", "/"),
                ok("/.", "/"),
                ok("/a/..", "/"),
                ok("/a/b/..", "/a/"),
                ok("/a/.", "/a/"),
                ok("/a/./", "/a/"),
                ok("/a/b/../../../c", "/c"),
                ok("/a/.../b", "/a/.../b"),
                ok("/a/..b/.c", "/a/..b/.c"),
                // repeated slashes merged, trailing slash kept
                ok("//admin", "/admin"),
                ok("///a///b///", "/a/b/"),
                ok("//", "/"),
                // unreserved escapes decoded, including dots before dot-segment resolution
                ok("/%2e%2e/admin", "/admin"),
                ok("/%2E%2E/admin", "/admin"),
                ok("/.%2e/admin", "/admin"),
                ok("/a/%2e/b", "/a/b"),
                ok("/a/%2e%2e", "/"),
                ok("/%41", "/A"),
                ok("/%7euser", "/~user"),
                ok("/%5f%2D%30%7A", "/_-0z"),
                // other escapes kept, hex upper-cased, decoded once only
                ok("/%25", "/%25"),
                ok("/%2525", "/%2525"),
                ok("/%252F", "/%252F"),
                ok("/%252e%252e/admin", "/%252e%252e/admin"),
                ok("/%3f", "/%3F"),
                ok("/a%20b", "/a%20b"),
                ok("/%2a", "/%2A"),
                ok("/caf%C3%A9", "/caf%C3%A9"),
                ok("/%C2%A0", "/%C2%A0"), // U+00A0, the first code point after the C1 controls
                ok("/%c2%bf", "/%C2%BF"),
                ok("/%C3%85", "/%C3%85"), // a continuation byte of the C1 range after another lead: U+00C5
                ok("/caf%c3%a9", "/caf%C3%A9"),
                ok("/%E2%82%AC", "/%E2%82%AC"),
                ok("/%F0%9F%98%80", "/%F0%9F%98%80"),
                ok("/%EF%BF%BF", "/%EF%BF%BF"),
                ok("/%F4%8F%BF%BF", "/%F4%8F%BF%BF"),
                ok("/%ED%9F%BF", "/%ED%9F%BF"),
                // query passed through unchanged
                ok("/a?x=1", HOST, "/a", "x=1"),
                ok("/a/../b?q=%2F&x=;y", HOST, "/b", "q=%2F&x=;y"),
                ok("/a?", HOST, "/a", ""),
                ok("/a?b?c", HOST, "/a", "b?c"),
                ok("/?x", HOST, "/", "x"),
                ok("/a?%zz%00", HOST, "/a", "%zz%00"),
                ok("/a/..?x/../y", HOST, "/", "x/../y"),
                // absolute-form
                ok("http://example.com/a/../b?x=1", HOST, "/b", "x=1"),
                ok("HTTP://Example.COM/a", HOST, "/a", null),
                ok("http://example.com/a", "EXAMPLE.com", "/a", null),
                ok("https://example.com", HOST, "/", null),
                ok("http://example.com?x", HOST, "/", "x"),
                ok("http://example.com:8080/a", "example.com:8080", "/a", null),
                ok("http://[::1]:8080/a", "[::1]:8080", "/a", null),
                ok("http://example.com//%2e%2e/a", HOST, "/a", null),
                bad("http://example.com:8080/a", Rejected.AUTHORITY_MISMATCH),
                bad("http://example.com/a", "example.com:80", Rejected.AUTHORITY_MISMATCH),
                bad("http://evil.com/admin", Rejected.AUTHORITY_MISMATCH),
                bad("http://example.com/a", null, Rejected.AUTHORITY_MISMATCH),
                bad("http:///a", Rejected.BAD_AUTHORITY),
                bad("http://user@example.com/a", "user@example.com", Rejected.BAD_AUTHORITY),
                bad("http://example.com/a;b", Rejected.SEMICOLON),
                bad("http://example.com/a%2fb", Rejected.ENCODED_SLASH),
                // neither origin-form nor absolute-form
                bad("*", Rejected.NOT_ORIGIN_FORM),
                bad("", Rejected.NOT_ORIGIN_FORM),
                bad("example.com:443", Rejected.NOT_ORIGIN_FORM),
                bad("a/b", Rejected.NOT_ORIGIN_FORM),
                bad("ftp://example.com/a", Rejected.NOT_ORIGIN_FORM),
                bad("http:/example.com/a", Rejected.NOT_ORIGIN_FORM),
                bad("?x", Rejected.NOT_ORIGIN_FORM),
                // semicolons
                bad("/..;/admin", Rejected.SEMICOLON),
                bad("/a;b", Rejected.SEMICOLON),
                bad("/a;jsessionid=1", Rejected.SEMICOLON),
                bad("/;", Rejected.SEMICOLON),
                // encoded separators and controls
                bad("/a%2fb", Rejected.ENCODED_SLASH),
                bad("/a%2Fb", Rejected.ENCODED_SLASH),
                bad("/..%2f..%2fadmin", Rejected.ENCODED_SLASH),
                bad("/a%5cb", Rejected.ENCODED_BACKSLASH),
                bad("/a%5C", Rejected.ENCODED_BACKSLASH),
                bad("/a%3bb", Rejected.ENCODED_SEMICOLON),
                bad("/..%3B/admin", Rejected.ENCODED_SEMICOLON),
                bad("/%00", Rejected.ENCODED_CONTROL),
                bad("/a%00.html", Rejected.ENCODED_CONTROL),
                bad("/%0a", Rejected.ENCODED_CONTROL),
                bad("/%0D", Rejected.ENCODED_CONTROL),
                bad("/%1f", Rejected.ENCODED_CONTROL),
                bad("/%7F", Rejected.ENCODED_CONTROL),
                bad("/%C2%80", Rejected.ENCODED_CONTROL), // C1 controls, U+0080-U+009F
                bad("/a%c2%85b", Rejected.ENCODED_CONTROL),
                bad("/%C2%9F", Rejected.ENCODED_CONTROL),
                bad("/%C2%41", Rejected.INVALID_UTF8),
                // invalid escapes
                bad("/%zz", Rejected.INVALID_ESCAPE),
                bad("/%", Rejected.INVALID_ESCAPE),
                bad("/a%", Rejected.INVALID_ESCAPE),
                bad("/%4", Rejected.INVALID_ESCAPE),
                bad("/%4?x", Rejected.INVALID_ESCAPE),
                bad("/%4g", Rejected.INVALID_ESCAPE),
                bad("/%%41", Rejected.INVALID_ESCAPE),
                bad("/%-1", Rejected.INVALID_ESCAPE),
                // invalid UTF-8 in the decoded bytes
                bad("/%C0%AF", Rejected.INVALID_UTF8),
                bad("/%C1%BF", Rejected.INVALID_UTF8),
                bad("/%E0%80%AF", Rejected.INVALID_UTF8),
                bad("/%E0%9F%BF", Rejected.INVALID_UTF8),
                bad("/%F0%80%80%AF", Rejected.INVALID_UTF8),
                bad("/%F0%8F%BF%BF", Rejected.INVALID_UTF8),
                bad("/%ED%A0%80", Rejected.INVALID_UTF8),
                bad("/%F4%90%80%80", Rejected.INVALID_UTF8),
                bad("/%F5%80%80%80", Rejected.INVALID_UTF8),
                bad("/%FF", Rejected.INVALID_UTF8),
                bad("/%80", Rejected.INVALID_UTF8),
                bad("/%C3", Rejected.INVALID_UTF8),
                bad("/%C3/", Rejected.INVALID_UTF8),
                bad("/%C3?x", Rejected.INVALID_UTF8),
                bad("/%C3%41", Rejected.INVALID_UTF8),
                bad("/%C3a", Rejected.INVALID_UTF8),
                bad("/%C3%C3%A9", Rejected.INVALID_UTF8),
                bad("/%E2%82", Rejected.INVALID_UTF8),
                bad("/%F0%9F%98", Rejected.INVALID_UTF8),
                // characters rejected anywhere in the target
                bad("/a b", Rejected.BAD_CHARACTER),
                bad("/a\\b", Rejected.BAD_CHARACTER),
                bad("/a\\..\\admin", Rejected.BAD_CHARACTER),
                bad("/a#frag", Rejected.BAD_CHARACTER),
                bad("/a?x#frag", Rejected.BAD_CHARACTER),
                bad("/a?x=1 2", Rejected.BAD_CHARACTER),
                bad("/a?x=\\", Rejected.BAD_CHARACTER),
                bad("/a\t", Rejected.BAD_CHARACTER),
                bad("/a\u0000", Rejected.BAD_CHARACTER),
                bad("/a\r\nX: y", Rejected.BAD_CHARACTER),
                bad("/a\u007f", Rejected.BAD_CHARACTER),
                bad("/caf\u00e9", Rejected.BAD_CHARACTER),
                bad("/a?q=\u00ff", Rejected.BAD_CHARACTER),
                bad("/\u2025/admin", Rejected.BAD_CHARACTER),
                bad("* ", Rejected.BAD_CHARACTER));
    }

    @ParameterizedTest(name = "[{index}] {0} (Host {1}) -> {2}")
    @MethodSource
    void canonicalization(String target, @Nullable String host, TargetResult expected) {
        assertThat(RequestTarget.parse(target, host)).isEqualTo(expected);
    }

    /** Random paths over a small alphabet of tricky pieces, against a straightforward model of SPEC 3.4. */
    @Test
    void agreesWithAReferenceModelAndIsIdempotent() {
        String[] pieces = {"/", "/", "/", "a", "b", ".", "..", "%2e", "%2E", "%41", "%7e", "%25", "%c3%a9", "%3F", "*"};
        Random random = new Random(3);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder target = new StringBuilder("/");
            int length = random.nextInt(12);
            for (int p = 0; p < length; p++) {
                target.append(pieces[random.nextInt(pieces.length)]);
            }
            String expected = referenceCanonical(target.toString());

            TargetResult result = RequestTarget.parse(target.toString(), HOST);

            assertThat(result).as(target.toString()).isEqualTo(new Accepted(expected, null));
            assertThat(((Accepted) RequestTarget.parse(expected, HOST)).path()).as(expected).isSameAs(expected);
        }
    }

    private static String referenceCanonical(String path) {
        List<String> stack = new ArrayList<>();
        String[] segments = path.substring(1).split("/", -1);
        boolean trailingSlash = false;
        for (int i = 0; i < segments.length; i++) {
            String segment = decodeUnreserved(segments[i]);
            boolean last = i == segments.length - 1;
            if (segment.equals("..")) {
                if (!stack.isEmpty()) {
                    stack.remove(stack.size() - 1);
                }
                trailingSlash = last;
            } else if (segment.isEmpty() || segment.equals(".")) {
                trailingSlash = last;
            } else {
                stack.add(segment);
            }
        }
        String joined = "/" + String.join("/", stack);
        return trailingSlash && !stack.isEmpty() ? joined + "/" : joined;
    }

    private static String decodeUnreserved(String segment) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < segment.length(); i++) {
            if (segment.charAt(i) == '%') {
                int b = Integer.parseInt(segment.substring(i + 1, i + 3), 16);
                boolean unreserved = b < 0x80 && Character.isLetterOrDigit(b) || "-._~".indexOf(b) >= 0;
                out.append(unreserved ? String.valueOf((char) b) : "%" + segment.substring(i + 1, i + 3).toUpperCase());
                i += 2;
            } else {
                out.append(segment.charAt(i));
            }
        }
        return out.toString();
    }

    @Test
    void rejectionsAre400WithSnakeCaseReasons() {
        assertThat(RequestTarget.parse("/a%2fb", HOST)).isEqualTo(new Rejected(400, "encoded_slash"));
        assertThat(RequestTarget.parse("/..;/admin", HOST)).isEqualTo(new Rejected(400, "semicolon"));
        assertThat(RequestTarget.parse("/%C0%AF", HOST)).isEqualTo(new Rejected(400, "invalid_utf8"));
        assertThat(RequestTarget.parse("*", HOST)).isEqualTo(new Rejected(400, "not_origin_form"));
    }

    @Test
    void returnsACanonicalTargetWithoutCopyingIt() {
        String target = "/api/orders/42";

        assertThat(((Accepted) RequestTarget.parse(target, HOST)).path()).isSameAs(target);
    }

    @Test
    void rebuildsTheUriFromPathAndQuery() {
        assertThat(new Accepted("/a", "x=1").uri()).isEqualTo("/a?x=1");
        assertThat(new Accepted("/a", "").uri()).isEqualTo("/a?");
        assertThat(new Accepted("/a", null).uri()).isEqualTo("/a");
    }
}
