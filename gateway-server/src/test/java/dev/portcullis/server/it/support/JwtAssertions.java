package dev.portcullis.server.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.io.IOException;
import java.util.List;

/** Assertions for the 401 of SPEC 3.6 (identity) and for identity headers the upstream receives. */
public final class JwtAssertions {

    /** The exact 401 body of SPEC 3.6. */
    public static final String UNAUTHORIZED_BODY =
            "{\"error\":\"Unauthorized\",\"message\":\"Authentication is required\"}";
    /** WWW-Authenticate when no token was presented. */
    public static final String CHALLENGE = "Bearer realm=\"portcullis\"";
    /** WWW-Authenticate when a presented token was rejected. */
    public static final String CHALLENGE_INVALID = "Bearer realm=\"portcullis\", error=\"invalid_token\"";

    private JwtAssertions() {}

    /**
     * Asserts the exact 401 of SPEC 3.6: status, JSON body, Content-Type, one WWW-Authenticate with (or
     * without) error="invalid_token", X-Request-Id, no Server header.
     */
    public static void assertUnauthorized(RawResponse r, boolean invalidToken, String describe) {
        assertThat(r.status()).as("status of %s; got:%n%s", describe, r).isEqualTo(401);
        assertThat(r.bodyText()).as("401 body of %s", describe).isEqualTo(UNAUTHORIZED_BODY);
        assertThat(r.header("Content-Type")).as("Content-Type of 401 for %s", describe).contains("application/json");
        assertThat(r.headerValues("WWW-Authenticate")).as("WWW-Authenticate of 401 for %s", describe)
                .containsExactly(invalidToken ? CHALLENGE_INVALID : CHALLENGE);
        assertThat(r.header("X-Request-Id")).as("X-Request-Id of 401 for %s", describe)
                .hasValueSatisfying(v -> assertThat(v).isNotBlank());
        assertThat(r.header("Server")).as("Server header on the 401 for %s", describe).isEmpty();
    }

    /**
     * Sends the request through {@code p} and asserts the exact 401, and that the upstream received
     * nothing.
     */
    public static RawResponse unauthorized(GatewayHarness harness, Probe p, boolean invalidToken, String target,
            String... headerLines) throws IOException {
        int before = harness.upstream().headsReceived();
        RawResponse r = p.send("GET", target, headerLines);
        assertUnauthorized(r, invalidToken, "GET " + target + " " + abbreviate(headerLines));
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        return r;
    }

    /** Header names with '_' read as '-', lower case (how a lenient upstream would see them). */
    public static List<String> normalizedNames(List<Header> headers) {
        return Header.names(headers).stream().map(n -> n.replace('_', '-')).toList();
    }

    /** The values of the comma-separated roles header, trimmed. */
    public static List<String> roles(String headerValue) {
        return java.util.Arrays.stream(headerValue.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    public static String abbreviate(String... headerLines) {
        StringBuilder sb = new StringBuilder("[");
        for (String l : headerLines) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(l.length() > 120 ? l.substring(0, 120) + "...(" + l.length() + " chars)" : l);
        }
        return sb.append(']').toString();
    }
}
