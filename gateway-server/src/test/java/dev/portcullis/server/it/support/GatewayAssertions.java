package dev.portcullis.server.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Assertions for answers the gateway makes itself (SPEC 3.6). */
public final class GatewayAssertions {

    /** The exact 403 body of SPEC 3.6. */
    public static final String FORBIDDEN_BODY =
            "{\"error\":\"Forbidden\",\"message\":\"You do not have permission to access this resource\"}";

    /** The exact default 429 body of SPEC 3.6. */
    public static final String RATE_LIMITED_BODY =
            "{\"error\":\"Too Many Requests\",\"message\":\"Rate limit exceeded\"}";

    /** Accepted reason phrases per status (RFC 9110 names, and the older names Netty still uses). */
    private static final Map<Integer, List<String>> REASONS = Map.ofEntries(
            Map.entry(400, List.of("Bad Request")),
            Map.entry(403, List.of("Forbidden")),
            Map.entry(404, List.of("Not Found")),
            Map.entry(405, List.of("Method Not Allowed")),
            Map.entry(408, List.of("Request Timeout")),
            Map.entry(413, List.of("Content Too Large", "Payload Too Large", "Request Entity Too Large")),
            Map.entry(414, List.of("URI Too Long", "Request-URI Too Long")),
            Map.entry(429, List.of("Too Many Requests")),
            Map.entry(431, List.of("Request Header Fields Too Large")),
            Map.entry(502, List.of("Bad Gateway")),
            Map.entry(503, List.of("Service Unavailable")),
            Map.entry(504, List.of("Gateway Timeout")));

    private static final ObjectMapper JSON = new ObjectMapper();

    private GatewayAssertions() {}

    /** A gateway-made error: status, JSON body with the reason phrase, X-Request-Id, no Server header. */
    public static void assertGatewayError(HttpResponse<byte[]> r, int status) {
        assertGatewayError(status, r.statusCode(), r.headers().firstValue("Content-Type"),
                r.headers().firstValue("X-Request-Id"), r.headers().firstValue("Server"), r.body(), r.toString());
    }

    /** A gateway-made error read off a raw socket. */
    public static void assertGatewayError(RawHttp.RawResponse r, int status) {
        assertGatewayError(status, r.status(), r.header("Content-Type"), r.header("X-Request-Id"),
                r.header("Server"), r.body(), r.toString());
    }

    private static void assertGatewayError(int expected, int status, Optional<String> contentType,
            Optional<String> requestId, Optional<String> server, byte[] body, String describe) {
        assertThat(status).as("status of %s", describe).isEqualTo(expected);
        assertThat(contentType).as("Content-Type of %s", describe).contains("application/json");
        assertThat(requestId).as("X-Request-Id of %s", describe).hasValueSatisfying(v -> assertThat(v).isNotBlank());
        assertThat(server).as("Server header of a gateway-made answer %s", describe).isEmpty();
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("body is not JSON: " + new String(body, StandardCharsets.UTF_8), e);
        }
        assertThat(json).as("body of %s", describe).isNotNull();
        assertThat(json.isObject()).as("body is a JSON object: %s", describe).isTrue();
        assertThat(json.path("error").asText()).as("error field of %s", describe)
                .isIn(REASONS.getOrDefault(expected, List.of()));
        assertThat(json.path("message").isTextual()).as("message field of %s", describe).isTrue();
        assertThat(new String(body, StandardCharsets.UTF_8)).as("body never leaks internals: %s", describe)
                .doesNotContain("Exception", "\tat ", "rule", "deny-", "Netty");
    }

    /** The exact 403 of SPEC 3.6. */
    public static void assertForbidden(HttpResponse<byte[]> r) {
        assertGatewayError(r, 403);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(FORBIDDEN_BODY);
    }

    /** The exact 403 of SPEC 3.6, read off a raw socket. */
    public static void assertForbidden(RawHttp.RawResponse r) {
        assertGatewayError(r, 403);
        assertThat(r.bodyText()).isEqualTo(FORBIDDEN_BODY);
    }
}
