package dev.portcullis.server.pipeline;

import dev.portcullis.server.exchange.Rejection;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.Limits;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestScreenTest {
    private static final Limits LIMITS =
            new Limits(64, 16 * 1024, 1000, Duration.ofSeconds(10), Duration.ofSeconds(60), 100, false);
    private static final Limits GET_BODIES =
            new Limits(64, 16 * 1024, 1000, Duration.ofSeconds(10), Duration.ofSeconds(60), 100, true);

    static Stream<Arguments> heads() {
        return Stream.of(
                row("plain GET", "GET", "/a", LIMITS, null, "Host: h"),
                row("POST with a length", "POST", "/a", LIMITS, null, "Host: h", "Content-Length: 5"),
                row("chunked POST", "POST", "/a", LIMITS, null, "Host: h", "Transfer-Encoding: chunked"),
                row("gzip then chunked", "POST", "/a", LIMITS, null, "Host: h", "Transfer-Encoding: gzip, chunked"),
                row("chunked not last", "POST", "/a", LIMITS, Rejection.BAD_TRANSFER_ENCODING, "Host: h",
                        "Transfer-Encoding: chunked, gzip"),
                row("unknown coding", "POST", "/a", LIMITS, Rejection.BAD_TRANSFER_ENCODING, "Host: h",
                        "Transfer-Encoding: xchunked"),
                row("two TE lines", "POST", "/a", LIMITS, Rejection.BAD_TRANSFER_ENCODING, "Host: h",
                        "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
                row("CL and TE", "POST", "/a", LIMITS, Rejection.AMBIGUOUS_FRAMING, "Host: h",
                        "Transfer-Encoding: chunked", "Content-Length: 5"),
                row("two lengths", "POST", "/a", LIMITS, Rejection.BAD_CONTENT_LENGTH, "Host: h",
                        "Content-Length: 5", "Content-Length: 5"),
                row("signed length", "POST", "/a", LIMITS, Rejection.BAD_CONTENT_LENGTH, "Host: h",
                        "Content-Length: +5"),
                row("Connection names Content-Length", "POST", "/a", LIMITS, Rejection.BAD_CONNECTION_HEADER,
                        "Host: h", "Content-Length: 5", "Connection: close, content-length"),
                row("Connection names an identity header", "GET", "/a", LIMITS, Rejection.BAD_CONNECTION_HEADER,
                        "Host: h", "Connection: X-Auth-Roles"),
                row("body on GET", "GET", "/a", LIMITS, Rejection.BODY_NOT_ALLOWED, "Host: h", "Content-Length: 1"),
                row("body on GET allowed", "GET", "/a", GET_BODIES, null, "Host: h", "Content-Length: 1"),
                row("body on HEAD", "HEAD", "/a", GET_BODIES, Rejection.BODY_NOT_ALLOWED, "Host: h",
                        "Transfer-Encoding: chunked"),
                row("zero length on GET", "GET", "/a", LIMITS, null, "Host: h", "Content-Length: 0"),
                row("body over the limit", "POST", "/a", LIMITS, Rejection.BODY_TOO_LARGE, "Host: h",
                        "Content-Length: 1001"),
                row("TRACE", "TRACE", "/a", LIMITS, Rejection.METHOD_NOT_ALLOWED, "Host: h"),
                row("CONNECT", "CONNECT", "h:443", LIMITS, Rejection.METHOD_NOT_ALLOWED, "Host: h"),
                row("long URI", "GET", "/" + "a".repeat(64), LIMITS, Rejection.URI_TOO_LONG, "Host: h"),
                row("no Host", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER),
                row("two Hosts", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER, "Host: h", "Host: i"),
                row("Host with a path", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER, "Host: h/x"),
                row("Host with two ports", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER, "Host: h:80:80"),
                row("Host with a named port", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER, "Host: h:http"),
                row("Host as a list", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER, "Host: h,i"),
                row("Host bracketing a name", "GET", "/a", LIMITS, Rejection.BAD_HOST_HEADER, "Host: [h]"),
                row("Host with a port", "GET", "/a", LIMITS, null, "Host: h:8080"),
                row("Host as an IPv6 literal", "GET", "/a", LIMITS, null, "Host: [::1]:8080"),
                row("two Authorization headers", "GET", "/a", LIMITS, Rejection.AMBIGUOUS_AUTHORIZATION, "Host: h",
                        "Authorization: Bearer a", "Authorization: Bearer b"));
    }

    private static Arguments row(
            String name, String method, String uri, Limits limits, @Nullable Rejection expected, String... headers) {
        return Arguments.of(name, method, uri, limits, expected, List.of(headers));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("heads")
    void screensHeads(
            String name, String method, String uri, Limits limits, @Nullable Rejection expected, List<String> headers) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri);
        for (String header : headers) {
            int colon = header.indexOf(':');
            request.headers().add(header.substring(0, colon), header.substring(colon + 1).trim());
        }
        assertThat(RequestScreen.check(request, limits, List.of("X-Auth-Subject", "X-Auth-Roles")))
                .as(name)
                .isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("hosts")
    void policyHostDropsThePortAndCase(String header, String expected) {
        assertThat(RequestScreen.policyHost(header)).isEqualTo(expected);
    }

    static Stream<Arguments> hosts() {
        return Stream.of(
                Arguments.of("Example.COM", "example.com"),
                Arguments.of("example.com:8080", "example.com"),
                Arguments.of("[2001:DB8::1]:443", "[2001:db8::1]"),
                Arguments.of("[::1]", "[::1]"),
                Arguments.of("[0::1]", "[::1]"), // one spelling per address, as hosts patterns are compiled
                Arguments.of("[2001:0DB8:0:0::1]:443", "[2001:db8::1]"),
                Arguments.of("api.example.com", "api.example.com"));
    }
}
