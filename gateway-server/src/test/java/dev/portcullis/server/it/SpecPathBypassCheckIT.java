package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box attacks on the access decision through the request target, the path and the Host header, written from
 * SPEC 3.1-3.4, 3.6, 3.7 and 4 only: every attempt is made against a policy that protects something, and is checked
 * four ways: the status (400 for what 3.4 forbids, else the deciding rule's status, never a 200 to the protected
 * resource), what the upstream received (nothing, or exactly the canonical target 3.4 says is forwarded), the generic
 * body of 3.6, and the access line of 4 (rule null for a rejection before any rule ran, else the deciding rule).
 *
 * <p>Every test collects all its sub-cases' failures (named by the exact request bytes) before failing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecPathBypassCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @TempDir
    static Path dir;

    /** How long "the upstream saw nothing" is watched after the gateway's own answer. */
    private static final Duration QUIET = Duration.ofMillis(60);

    /** An administrator, as told by the trusted authenticating proxy (127.0.0.1, SPEC 3.5). */
    private static final String[] ADMIN = {"X-Forwarded-User: root", "X-Forwarded-Groups: admin"};

    /**
     * The protected service: an allow-list (default deny) with a public prefix, an admin area (role admin), a denied
     * area inside the public prefix, a host that is denied outright (404, to tell it from the default 403), DELETE
     * denied everywhere, and an area served only under one host name.
     */
    private static final String CONFIG = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
              response_timeout: 20s
              case_insensitive_paths: {{CI}}
            identity:
              forwarded:
                trusted_proxies: ["127.0.0.1/32"]
                user_header: "X-Forwarded-User"
                roles_header: "X-Forwarded-Groups"
              upstream_headers: { subject: "X-Auth-Subject", roles: "X-Auth-Roles" }
            default: deny
            rules:
              - name: internal-host
                match: { hosts: ["internal.example", "*.internal.example"] }
                action: deny
                deny_status: 404
              - name: no-delete
                match: { methods: [DELETE] }
                action: deny
              - name: public-internal
                match: { paths: ["/public/internal/**"] }
                action: deny
              - name: admin-only
                match: { paths: ["/admin/**"] }
                require: { roles: [admin] }
              - name: public
                match: { paths: ["/public/**"] }
              - name: app-host-only
                match: { paths: ["/apponly/**"], hosts: ["app.example"] }
            """;

    /** Stands for "decided by `default: deny`": any rule name but one of the allow rules is accepted. */
    private static final String DEFAULT = "<default>";
    /** Stands for "any rule (or none)": the rule is not checked. */
    private static final String ANY = "<any>";
    private static final Set<String> ALLOW_RULES = Set.of("public", "admin-only", "app-host-only");

    private static final List<String> OVERRIDE_HEADERS = List.of("x-http-method-override", "x-http-method",
            "x-method-override", "x-original-url", "x-rewrite-url");

    // ================================================================== dot segments and slashes

    /**
     * SPEC 3.4: dot segments are resolved (never above root), repeated slashes merged and encoded unreserved
     * characters decoded before matching: every spelling below IS /admin/..., so the anonymous request is decided by
     * admin-only (401) and the administrator's is forwarded as the canonical path, never as sent.
     */
    @Test
    void everySpellingOfTheAdminPathThroughThePublicPrefixIsDecidedAsTheAdminPath() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        Map<String, String> toCanonical = ordered(
                "/public/../admin/x", "/admin/x",
                "/public/%2e%2e/admin/x", "/admin/x",
                "/public/%2E%2e/admin/x", "/admin/x",
                "/public/.%2e/admin/x", "/admin/x",
                "/public/%2e./admin/x", "/admin/x",
                "/public/./../admin/x", "/admin/x",
                "/public/y/../../admin/x", "/admin/x",
                "/public/%2e/%2e%2e/admin/x", "/admin/x",
                "/./admin/x", "/admin/x",
                "/%2e/admin/x", "/admin/x",
                "/../admin/x", "/admin/x",
                "/../../../admin/x", "/admin/x",
                "/public/../../admin/x", "/admin/x",
                "/%2e%2e/%2e%2e/admin/x", "/admin/x",
                "//admin/x", "/admin/x",
                "///admin//x", "/admin/x",
                "/public/..//admin/x", "/admin/x",
                // %3F and %23 are not unreserved: not decoded, so they are no query or fragment delimiter, and
                // "public%3f" is just a segment that ".." removes
                "/public%3f/../admin/x", "/admin/x",
                "/public%23/../admin/x", "/admin/x",
                "/public/%2e%2e/admin/x?q=1", "/admin/x?q=1",
                // encoded unreserved characters are decoded: these are /admin
                "/%61dmin/x", "/admin/x",
                "/adm%69n/x", "/admin/x",
                "/%61%64%6D%69%6E/x", "/admin/x",
                "/public/%2E%2E/%61dmin/x", "/admin/x",
                // the bare prefix and trailing forms: /admin/** matches /admin itself, a trailing / is kept
                "/admin", "/admin",
                "/admin/", "/admin/",
                "/admin//", "/admin/",
                "/admin/.", "/admin/",
                "/admin/x/..", "/admin/",
                "/admin/x/%2e%2e", "/admin/",
                "/public/..", "/",
                "/%61dmin", "/admin");
        toCanonical.forEach((target, canonical) -> {
            if (!canonical.startsWith("/admin")) {
                cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.deny(403, DEFAULT)));
                return;
            }
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.deny(401, "admin-only")));
            cases.run(get(gw, target, ADMIN),
                    () -> check(gw, get(gw, target, ADMIN), Outcome.proxy(canonical, "admin-only")));
        });
        cases.assertAll();
    }

    /** The reverse: spellings that leave the admin area land where they point, and that is what is forwarded. */
    @Test
    void dotSegmentsSlashesAndEncodedUnreservedAreForwardedCanonical() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        Map<String, String> toCanonical = ordered(
                "/admin/../public/x", "/public/x",
                "/admin/%2e%2e/public/x", "/public/x",
                "/public/internal/../x", "/public/x",
                "/public/./x", "/public/x",
                "/public/x/.", "/public/x/",
                "/public//x", "/public/x",
                "/public/x/", "/public/x/",
                "/public/x//", "/public/x/",
                "/public", "/public",
                "/public/", "/public/",
                "/public/%41%7e%2D%5f", "/public/A~-_",
                "/public/.x/..x/x..", "/public/.x/..x/x..",
                // %25 is a literal '%' that is never decoded again (SPEC 3.4): not a dot segment, forwarded
                // still encoded, so an upstream that decodes once cannot see ".." either
                "/public/%252e%252e/admin/x", "/public/%252e%252e/admin/x",
                "/public/%2561dmin", "/public/%2561dmin",
                "/public/%25", "/public/%25",
                // not unreserved: kept encoded (hex digits compared case-insensitively)
                "/public/%c3%a9", "/public/%C3%A9",
                "/public/a%20b", "/public/a%20b",
                "/public/%3F/%23", "/public/%3F/%23",
                // fullwidth full stops are not dots (SPEC 3.4 decodes only unreserved characters): kept encoded
                "/public/%EF%BC%8E%EF%BC%8E/admin/x", "/public/%EF%BC%8E%EF%BC%8E/admin/x",
                // the query string is not decoded or checked (beyond 3.4's target-wide bytes): passed unchanged
                "/public?x=/../admin", "/public?x=/../admin",
                "/public/x?/../../admin/x", "/public/x?/../../admin/x",
                "/public/x?a=%2F%00;b=%zz&c=%252e&d=..;/", "/public/x?a=%2F%00;b=%zz&c=%252e&d=..;/",
                "/public/%2e%2e/public/x?y=%2e%2e", "/public/x?y=%2e%2e");
        toCanonical.forEach((target, canonical) -> cases.run(get(gw, target),
                () -> check(gw, get(gw, target), Outcome.proxy(canonical, "public"))));
        cases.assertAll();
    }

    /**
     * A deny rule inside an allowed prefix must hold for every spelling of its path; the upper-case spelling is a
     * different path (SPEC 3.4: matching is case-sensitive) and is forwarded as sent.
     */
    @Test
    void aDenyRuleInsideTheAllowedPrefixHoldsForEverySpellingAndCaseIsSignificant() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of("/public/internal/x", "/public//internal/x", "/public/./internal/x",
                "/public/y/../internal/x", "/public/%69nternal/x", "/public/intern%61l/x", "/public/internal",
                "/public/internal/", "/public/internal//", "/public/internal/.", "//public///internal",
                "/admin/../public/internal/x", "/public/%2e%2e/public/internal/x")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.deny(403, "public-internal")));
            // who you are does not matter to a deny rule
            cases.run(get(gw, target, ADMIN),
                    () -> check(gw, get(gw, target, ADMIN), Outcome.deny(403, "public-internal")));
        }
        cases.run("case is significant, forwarded as sent",
                () -> check(gw, get(gw, "/public/Internal/x"), Outcome.proxy("/public/Internal/x", "public")));
        cases.run("case is significant, forwarded as sent (encoded)",
                () -> check(gw, get(gw, "/public/%49nternal/x"), Outcome.proxy("/public/Internal/x", "public")));
        // /ADMIN is not /admin: not decided by admin-only (that would be 401), and not /public either
        for (String target : List.of("/ADMIN/x", "/Admin/x", "/%41DMIN/x", "/PUBLIC/x", "/Public/../ADMIN/x")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.deny(403, DEFAULT)));
            cases.run(get(gw, target, ADMIN), () -> check(gw, get(gw, target, ADMIN), Outcome.deny(403, DEFAULT)));
        }
        cases.assertAll();
    }

    /**
     * The order of "merge slashes" and "resolve dot segments" is not fixed by SPEC 3.4; either order is safe as
     * long as the path the policy decided on is the path forwarded.
     */
    @Test
    void emptySegmentsBeforeDotDotAreDecidedAsTheyAreForwarded() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of("/public//../admin/x", "/public/x//../../admin/x", "/public///..//admin/x")) {
            cases.run(get(gw, target), () -> {
                Sent s = send(gw, get(gw, target));
                if (s.r.status() == 200) {
                    // merged after resolving: decided (and forwarded) below /public
                    verify(s, Outcome.proxy(null, "public"));
                    String forwarded = lastUpstream(s).target();
                    assertThat(forwarded).as("forwarded target").startsWith("/public/").doesNotContain("//", "..");
                } else {
                    verify(s, Outcome.deny(401, "admin-only"));
                }
            });
        }
        cases.assertAll();
    }

    // ================================================================== forbidden encodings and bytes

    /** SPEC 3.4: encoded '/', '\' and ';', and any ';' in the path: 400 before any rule, whatever the path. */
    @Test
    void encodedSlashBackslashSemicolonAndAnySemicolonInThePathGet400() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of(
                "/public/..%2fadmin/x", "/public/..%2Fadmin/x", "/public%2f..%2fadmin/x", "/public/%2F",
                "/admin%2fx", "/public/%2e%2e%2fadmin/x", "/public/..%5cadmin/x", "/public/..%5Cadmin/x",
                "/public/%5c", "/admin;x=1", "/admin/x;jsessionid=1", "/public/..;/admin/x", "/public;/x",
                "/public/x;", "/;/admin/x", "/public/;/../admin/x", "/public/%3b/x", "/public/..%3B/admin/x",
                "/public/x%3b", "/public/%252F/../%2F")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.reject()));
            cases.run(get(gw, target, ADMIN), () -> check(gw, get(gw, target, ADMIN), Outcome.reject()));
        }
        cases.assertAll();
    }

    /** SPEC 3.4: %00, any encoded control character, invalid percent escapes and invalid UTF-8: 400. */
    @Test
    void encodedControlsInvalidEscapesAndInvalidUtf8Get400() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of(
                // encoded control characters (C0 and DEL; C1 in aC1ControlCharacterEncodedInThePathGets400)
                "/public/%00", "/public/x%00.html", "/public/%00/../../admin/x", "/public/%0a", "/public/%0D%0A",
                "/public/%09", "/public/%1f", "/public/%1B", "/public/%7f", "/public/%7F",
                // invalid percent escapes
                "/public/%", "/public/%2", "/public/x%", "/public/%zz", "/public/%g1", "/public/%%32%65",
                "/public/%u002e%u002e/admin/x", "/public/%-1",
                // invalid UTF-8: overlong dots and slashes, lone continuation, truncated sequences, surrogates,
                // code points above U+10FFFF, bytes that never occur
                "/public/%c0%ae%c0%ae/admin/x", "/public/%c0%2e%c0%2e/admin/x", "/public/%c0%af", "/public/%c1%9c",
                "/public/%e0%80%ae%e0%80%ae/admin/x", "/public/%f0%80%80%ae", "/public/%80", "/public/%bf",
                "/public/%c3", "/public/%c3%28", "/public/%e2%82", "/public/%ed%a0%80", "/public/%ed%bf%bf",
                "/public/%f4%90%80%80", "/public/%f8%88%80%80%80", "/public/%fe", "/public/%ff")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.reject()));
        }
        cases.assertAll();
    }

    /**
     * SPEC 3.4: anywhere in the target (query included), a '\', a '#', a space, a control character or a byte outside
     * printable ASCII: 400. The request line is written byte for byte (ISO-8859-1).
     */
    @Test
    void rawBackslashHashSpaceControlAndNonAsciiBytesAnywhereInTheTargetGet400() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of(
                "/public\\..\\admin\\x", "/public/..\\admin/x", "/public/x\\", "/public/x?a=\\b",
                "/public/x#frag", "/admin#/../public/x", "/public/x?a=#b", "/public/#/../../admin/x",
                "/public/a\tb", "/public/x?a=\tb", "/public/a\u0001b", "/public/a\u007fb", "/public/a\u0000b",
                "/public/a\rb", "/public/x?a=\u001bb",
                "/public/\u00c3\u00a9", "/public/\u00ff", "/public/x?q=\u00e9", "/public/\u00c0\u00ae\u00c0\u00ae/admin/x",
                "/public/\u0085")) {
            cases.run(show(target), () -> check(gw, get(gw, target), Outcome.reject()));
        }
        // a space inside the target splits the request line in four: malformed either way
        for (String line : List.of("GET /public/a b HTTP/1.1", "GET /public/x?a=b c HTTP/1.1",
                "GET /public/../admin /x HTTP/1.1")) {
            String request = line + "\r\nHost: " + gw.authority() + "\r\n\r\n";
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        cases.assertAll();
    }

    // ================================================================== request-target forms

    /**
     * SPEC 3.4: absolute-form: the path is taken from it and its authority must equal Host; anything that is not
     * origin-form or absolute-form is 400; CONNECT and authority-form 405 (or 400).
     */
    @Test
    void absoluteFormIsDecidedOnItsPathAndItsAuthorityMustEqualHost() throws Exception {
        Gateway gw = start(false);
        String self = "http://" + gw.authority();
        Cases cases = new Cases();
        // a different authority than Host: 400, whatever the path
        for (String target : List.of("http://other.host/admin/x", "http://other.host/public/x",
                "http://internal.example/public/x", "http://127.0.0.1/public/x",
                // userinfo is part of the authority (and an error in an http URI, RFC 9110 4.2.4)
                "http://a@" + gw.authority() + "/public/x", "http://" + gw.authority() + "@other.host/public/x",
                "http://" + gw.authority() + ":1/public/x")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.reject()));
        }
        // Host says the gateway, the URI says internal.example: the URI wins for the upstream (RFC 9112 3.2.2)
        cases.run("absolute internal.example with Host of the gateway", () -> check(gw,
                get(gw, "http://internal.example/public/x", "Host: " + gw.authority()), Outcome.reject()));
        cases.run("absolute gateway authority with Host internal.example", () -> check(gw,
                get(gw, self + "/public/x", "Host: internal.example"), Outcome.reject()));
        // the same authority: decided on the URI's canonical path, forwarded in origin-form
        cases.run("same authority, public", () -> check(gw, get(gw, self + "/public/x"),
                Outcome.proxy("/public/x", "public")));
        cases.run("same authority, query unchanged", () -> check(gw, get(gw, self + "/public/x?q=/../admin"),
                Outcome.proxy("/public/x?q=/../admin", "public")));
        for (String path : List.of("/admin/x", "/public/../admin/x", "/public/%2e%2e/admin/x", "//admin/x",
                "/%61dmin/x")) {
            cases.run("same authority " + path, () -> check(gw, get(gw, self + path), Outcome.deny(401, "admin-only")));
            cases.run("same authority as admin " + path, () -> check(gw, get(gw, self + path, ADMIN),
                    Outcome.proxy("/admin/x", "admin-only")));
        }
        for (String path : List.of("/public/..%2fadmin/x", "/public/..;/admin/x", "/public/%00", "/public/%c0%ae")) {
            cases.run("same authority " + path, () -> check(gw, get(gw, self + path), Outcome.reject()));
        }
        cases.run("same authority internal.example", () -> check(gw,
                get(gw, "http://internal.example/public/x", "Host: internal.example"),
                Outcome.deny(404, "internal-host")));
        // whatever the scheme's spelling, the path is still canonicalized before the decision
        for (String target : List.of("HTTP://" + gw.authority() + "/public/../admin/x",
                "https://" + gw.authority() + "/public/../admin/x", "ftp://" + gw.authority() + "/public/../admin/x")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.reject(),
                    Outcome.deny(401, "admin-only")));
        }
        // an absolute URI without an authority is not absolute-form with an authority equal to Host
        cases.run("http:/admin/x", () -> check(gw, get(gw, "http:/admin/x"), Outcome.reject()));
        cases.run("http:///admin/x", () -> check(gw, get(gw, "http:///admin/x"), Outcome.reject()));
        // neither origin-form nor absolute-form
        for (String target : List.of("admin/x", "public/../admin/x", "*", "%2fadmin/x", ".%2e/admin/x")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.reject()));
        }
        cases.run("OPTIONS *", () -> check(gw, new Probe(harness, gw).request("OPTIONS", "*"), Outcome.reject()));
        // authority-form and CONNECT: 405 (or 400)
        for (String request : List.of(
                "GET " + gw.authority() + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n",
                "GET internal.example:80 HTTP/1.1\r\nHost: internal.example:80\r\n\r\n",
                "CONNECT " + gw.authority() + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n",
                "CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n")) {
            cases.run(show(request), () -> check(gw, request, Outcome.reject(), Outcome.deny(405, ANY)));
        }
        // "//host/path" is an origin-form path of the segments "", "host", "path" (merged to /host/path), never a
        // network-path reference naming another authority
        cases.run("//authority/admin/x", () -> check(gw, get(gw, "//" + gw.authority() + "/admin/x"),
                Outcome.reject(), Outcome.deny(403, DEFAULT)));
        cases.run("//authority/public/x", () -> check(gw, get(gw, "//" + gw.authority() + "/public/x"),
                Outcome.reject(), Outcome.deny(403, DEFAULT)));
        cases.assertAll();
    }

    // ================================================================== Host

    /** SPEC 3.2 hosts: port removed, case-insensitive; a deny rule on a host must hold for every spelling. */
    @Test
    void theHostDenyRuleHoldsForEverySpellingOfTheHost() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String host : List.of("internal.example", "INTERNAL.example", "Internal.Example", "internal.example:80",
                "internal.example:8080", "INTERNAL.EXAMPLE:443", "api.internal.example", "API.Internal.Example:1",
                // nginx semantics: "*.example.com" matches every subdomain depth
                "x.y.internal.example",
                // optional whitespace around a field value is not part of it
                "  internal.example  ", "\tinternal.example\t")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.deny(404, "internal-host")));
        }
        // SPEC is silent on a trailing dot; it names the same host (DNS), and nginx drops it before matching
        // server names: never a way around the host rule
        for (String host : List.of("internal.example.", "INTERNAL.EXAMPLE.:80", "api.internal.example.")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.reject(), Outcome.deny(404, "internal-host")));
        }
        // an empty port is allowed by RFC 3986 (port = *DIGIT)
        String emptyPort = get(gw, "/public/x", "Host: internal.example:");
        cases.run(show(emptyPort), () -> check(gw, emptyPort, Outcome.reject(), Outcome.deny(404, "internal-host")));
        // invalid Host values (RFC 9112 3.2: "MUST respond with a 400 ... a Host header field with an invalid field
        // value"; SPEC 3.6: malformed HTTP)
        // (a second port, a list without a space, brackets around a name and a port that is not digits: see the
        // tests at the end)
        for (String host : List.of("a@internal.example", "internal.example@" + gw.authority(),
                gw.authority() + "@internal.example", "internal.example, " + gw.authority(),
                "internal.example/x", "internal .example", "internal.example\\", "internal.example#",
                "internal.example:80 80")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        // two Host header fields (RFC 9112 3.2 MUST 400), in either order, even when equal
        for (String[] hosts : List.of(new String[] {gw.authority(), "internal.example"},
                new String[] {"internal.example", gw.authority()}, new String[] {gw.authority(), gw.authority()})) {
            String request = get(gw, "/public/x", "Host: " + hosts[0], "Host: " + hosts[1]);
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        // HTTP/1.1 without Host (RFC 9112 3.2 MUST 400)
        String noHost = "GET /public/x HTTP/1.1\r\nAccept: */*\r\n\r\n";
        cases.run(show(noHost), () -> check(gw, noHost, Outcome.reject()));
        // HTTP/1.0 with an absolute-form target and no Host: the URI names the host
        String http10 = "GET http://internal.example/public/x HTTP/1.0\r\n\r\n";
        cases.run(show(http10), () -> check(gw, http10, Outcome.reject(), Outcome.deny(404, "internal-host")));
        // HTTP/1.1 absolute-form and no Host (RFC 9112 3.2 MUST 400; the URI names the host anyway)
        String absNoHost = "GET http://internal.example/public/x HTTP/1.1\r\n\r\n";
        cases.run(show(absNoHost), () -> check(gw, absNoHost, Outcome.reject(), Outcome.deny(404, "internal-host")));
        // not over-matching: a lookalike host is not internal.example
        for (String host : List.of("xinternal.example", "internal.example.com", "internal-example")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.proxy("/public/x", "public")));
        }
        cases.assertAll();
    }

    /** A rule that allows an area for one host only: no other Host spelling or absence reaches it. */
    @Test
    void anAreaServedForOneHostIsReachedOnlyThroughThatHost() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String host : List.of("app.example", "APP.Example", "app.example:9999", "APP.EXAMPLE:80")) {
            String request = get(gw, "/apponly/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.proxy("/apponly/x", "app-host-only")));
        }
        for (String host : List.of("app.example.evil", "evil.app.example", "xapp.example", "app.examplex",
                "app-example", gw.authority())) {
            String request = get(gw, "/apponly/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.deny(403, DEFAULT)));
        }
        for (String host : List.of("app.example@evil", "evil@app.example", "app.example, evil",
                "evil/app.example")) {
            String request = get(gw, "/apponly/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        // SPEC is silent on an empty Host or a HTTP/1.0 request without one; it must not be app.example
        for (String request : List.of("GET /apponly/x HTTP/1.1\r\nHost:\r\n\r\n",
                "GET /apponly/x HTTP/1.1\r\nHost: \r\n\r\n", "GET /apponly/x HTTP/1.0\r\n\r\n")) {
            cases.run(show(request), () -> check(gw, request, Outcome.reject(), Outcome.deny(403, DEFAULT)));
        }
        cases.run("absolute-form app.example, Host of the gateway", () -> check(gw,
                get(gw, "http://app.example/apponly/x", "Host: " + gw.authority()), Outcome.reject()));
        cases.run("absolute-form app.example, Host app.example", () -> check(gw,
                get(gw, "http://app.example/apponly/x", "Host: app.example"),
                Outcome.proxy("/apponly/x", "app-host-only")));
        cases.run("right host, path out of the area", () -> check(gw,
                get(gw, "/apponly/../admin/x", "Host: app.example"), Outcome.deny(401, "admin-only")));
        cases.run("right host, encoded path into the area", () -> check(gw,
                get(gw, "/%61pponly/./x", "Host: app.example"), Outcome.proxy("/apponly/x", "app-host-only")));
        cases.assertAll();
    }

    /** SPEC 3.2 hosts reads Host; a client's X-Forwarded-Host does not stand in for it. */
    @Test
    void xForwardedHostDoesNotDecideTheHostRule() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        cases.run("X-Forwarded-Host internal.example, Host the gateway", () -> check(gw,
                get(gw, "/public/x", "X-Forwarded-Host: internal.example"), Outcome.proxy("/public/x", "public")));
        cases.run("X-Forwarded-Host app.example, Host the gateway", () -> check(gw,
                get(gw, "/apponly/x", "X-Forwarded-Host: app.example"), Outcome.deny(403, DEFAULT)));
        cases.run("X-Forwarded-Host the gateway, Host internal.example", () -> check(gw,
                get(gw, "/public/x", "Host: internal.example", "X-Forwarded-Host: " + gw.authority()),
                Outcome.deny(404, "internal-host")));
        cases.assertAll();
    }

    // ================================================================== methods and override headers

    /** SPEC 3.2 / 3.6: methods are upper-case tokens; another spelling of DELETE is 400, never a way around. */
    @Test
    void theMethodRuleHoldsAndOtherSpellingsOfTheMethodGet400() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        Probe p = new Probe(harness, gw);
        cases.run("DELETE", () -> check(gw, p.request("DELETE", "/public/x"), Outcome.deny(403, "no-delete")));
        cases.run("DELETE as admin", () -> check(gw, p.request("DELETE", "/admin/x", ADMIN),
                Outcome.deny(403, "no-delete")));
        cases.run("DELETE dot segments", () -> check(gw, p.request("DELETE", "/public/../public/x"),
                Outcome.deny(403, "no-delete")));
        for (String method : List.of("delete", "Delete", "DELETe", "dELETE", "DEL\u0000ETE", "DELETE\u0000",
                "DEL ETE")) {
            String request = p.request(method, "/public/x");
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        // RFC 9112 3: a recipient MAY parse the request line on whitespace; either way it stays a DELETE
        for (String line : List.of("DELETE  /public/x HTTP/1.1", " DELETE /public/x HTTP/1.1",
                "DELETE\t/public/x HTTP/1.1", "DELETE /public/x  HTTP/1.1", "DELETE /public/x HTTP/1.1 ")) {
            String request = line + "\r\nHost: " + gw.authority() + "\r\n\r\n";
            cases.run(show(request), () -> check(gw, request, Outcome.reject(), Outcome.deny(403, "no-delete")));
        }
        cases.run("TRACE", () -> check(gw, p.request("TRACE", "/public/x"), Outcome.deny(405, ANY)));
        cases.run("TRACE via override", () -> check(gw, p.request("TRACE", "/public/x", "X-HTTP-Method-Override: GET"),
                Outcome.deny(405, ANY)));
        cases.assertAll();
    }

    /**
     * SPEC 3.7: X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, X-Original-URL and X-Rewrite-URL are
     * removed in any spelling: the policy decided on the real method and path, and the upstream must not be told
     * another one.
     */
    @Test
    void methodAndPathOverrideHeadersNeverReachTheUpstream() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        Probe p = new Probe(harness, gw);
        List<String> overrides = List.of("X-HTTP-Method-Override: DELETE", "x-http-method-override: DELETE",
                "X-Http-Method-Override: DELETE", "X-HTTP-METHOD-OVERRIDE: DELETE", "X-HTTP-Method: DELETE",
                "x-http-method: DELETE", "X-Method-Override: DELETE", "X-METHOD-OVERRIDE: DELETE",
                "X-Original-URL: /admin/x", "x-original-url: /admin/x", "X-ORIGINAL-URL: /admin/x",
                "X-Rewrite-URL: /admin/x", "x-rewrite-url: /public/internal/x", "X-REWRITE-URL: /admin/x");
        for (String override : overrides) {
            String post = p.request("POST", "/public/x", override, "Content-Length: 0");
            cases.run(show(post), () -> {
                RecordedRequest up = check(gw, post, Outcome.proxy("/public/x", "public"));
                assertThat(up.method()).as("method the upstream saw").isEqualTo("POST");
                assertThat(overrideHeadersOf(up)).as("override headers the upstream saw").isEmpty();
            });
        }
        // all at once, each twice
        List<String> all = new ArrayList<>(overrides);
        all.addAll(overrides);
        String get = p.request("GET", "/public/x", all.toArray(String[]::new));
        cases.run("every override header twice on a GET", () -> {
            RecordedRequest up = check(gw, get, Outcome.proxy("/public/x", "public"));
            assertThat(up.method()).isEqualTo("GET");
            assertThat(overrideHeadersOf(up)).as("override headers the upstream saw").isEmpty();
        });
        // named in Connection, with an empty value, with a list value
        String named = p.request("GET", "/public/x", "Connection: X-Original-URL, keep-alive",
                "X-Original-URL: /admin/x", "X-HTTP-Method-Override:", "X-Rewrite-URL: /admin/x, /admin/y");
        cases.run(show(named), () -> {
            RecordedRequest up = check(gw, named, Outcome.proxy("/public/x", "public"));
            assertThat(overrideHeadersOf(up)).isEmpty();
        });
        // RFC 9112 5.1: whitespace between a field name and the colon MUST be rejected with 400 (else the header a
        // lenient upstream reads as X-Original-URL would not have been recognised and removed)
        for (String line : List.of("X-Original-URL : /admin/x", "X-HTTP-Method-Override\t: DELETE")) {
            String request = p.request("GET", "/public/x", line);
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        // obs-fold (RFC 9112 5.2: reject with 400 or replace with SP): never a separate header at the upstream
        String folded = p.request("GET", "/public/x", "X-Note: a", " X-Original-URL: /admin/x");
        cases.run(show(folded), () -> refusedOrProxiedWithoutOverrides(gw, folded));
        cases.assertAll();
    }

    /**
     * SPEC 3.7 says "in any spelling": a CGI/WSGI-style upstream reads X_Original_URL as X-Original-URL (both become
     * HTTP_X_ORIGINAL_URL), so the underscore spelling must not reach it either (removed, or the request refused).
     */
    @Test
    void underscoreSpellingsOfOverrideHeadersNeverReachTheUpstream() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        Probe p = new Probe(harness, gw);
        for (String line : List.of("X_Original_URL: /admin/x", "X_Rewrite_URL: /admin/x",
                "X_HTTP_Method_Override: DELETE", "X-HTTP_Method: DELETE", "X_Method-Override: DELETE")) {
            String request = p.request("POST", "/public/x", line, "Content-Length: 0");
            cases.run(show(request), () -> refusedOrProxiedWithoutOverrides(gw, request));
        }
        cases.assertAll();
    }

    /** SPEC 3.6: a request decided on its head gets its final status, never 100 Continue, and nothing moves. */
    @Test
    void expectContinueOnAnEncodedTraversalGetsTheFinalStatusFirst() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        Map<String, Integer> targets = ordered("/public/%2e%2e/admin/x", 401, "/public/..%2fadmin/x", 400,
                "/public/%2e%2e/public/internal/x", 403);
        targets.forEach((target, status) -> cases.run("Expect " + target, () -> {
            String head = "POST " + target + " HTTP/1.1\r\nHost: " + gw.authority()
                    + "\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
            int before = harness.upstream().headsReceived();
            try (RawHttp c = gw.raw()) {
                RawResponse r = c.send(head).readResponse();
                assertThat(r.status()).as("first answer to %s:%n%s", show(head), r).isEqualTo(status);
            }
            harness.upstream().assertHeadsStayAt(before, QUIET);
        }));
        cases.assertAll();
    }

    // ================================================================== decisions per request

    /**
     * One connection, one path decision per request: an allowed request (or an administrator's) never lends its
     * decision to the next one, whatever its spelling (a decision cache keyed on the raw target, or on the path
     * without the identity, would).
     */
    @Test
    void noDecisionCarriesOverBetweenSpellingsIdentitiesOrRequestsOnOneConnection() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of("/public/%2e%2e/admin/x", "/admin/x", "//admin/x")) {
            cases.run("admin then anonymous " + target, () -> {
                check(gw, get(gw, target, ADMIN), Outcome.proxy("/admin/x", "admin-only"));
                check(gw, get(gw, target), Outcome.deny(401, "admin-only"));
                check(gw, get(gw, target, ADMIN), Outcome.proxy("/admin/x", "admin-only"));
            });
        }
        cases.run("keep-alive: allowed, traversal, allowed", () -> {
            try (RawHttp c = gw.raw()) {
                RawResponse first = c.send(get(gw, "/public/a")).readResponse();
                assertThat(first.status()).isEqualTo(200);
                int before = harness.upstream().headsReceived();
                RawResponse second = c.send(get(gw, "/public/%2e%2e/admin/x")).readResponse();
                JwtAssertions.assertUnauthorized(second, false, "second request on the connection");
                harness.upstream().assertHeadsStayAt(before, QUIET);
                RawResponse third = c.send(get(gw, "/admin/../public/b")).readResponse();
                assertThat(third.status()).isEqualTo(200);
                assertThat(third.header("X-Echo-Target")).contains("/public/b");
            }
        });
        cases.run("pipelined after a rejected target: nothing more is decided or forwarded", () -> {
            int before = harness.upstream().headsReceived();
            try (RawHttp c = gw.raw()) {
                c.send(get(gw, "/public/..;/admin/x") + get(gw, "/public/x") + get(gw, "/admin/x", ADMIN));
                RawResponse r = c.readResponse();
                GatewayAssertions.assertGatewayError(r, 400);
                assertThat(c.awaitClosed(Duration.ofSeconds(2))).as("closed after the 400").isTrue();
            }
            harness.upstream().assertHeadsStayAt(before, QUIET);
        });
        cases.assertAll();
    }

    // ================================================================== case-insensitive upstream

    /**
     * SPEC 3.4 with {@code upstream.case_insensitive_paths: true}: request paths and patterns are both case-folded
     * for matching, and the path is still forwarded as sent (in its canonical form).
     */
    @Test
    void aCaseInsensitiveUpstreamFoldsForMatchingButReceivesThePathAsSent() throws Exception {
        Gateway gw = start(true);
        Cases cases = new Cases();
        for (String target : List.of("/ADMIN/x", "/Admin/x", "/aDmIn", "/%41DMIN/x", "/%41dmin/x",
                "/PUBLIC/../ADMIN/x", "/Public/%2E%2E/admin/X", "//ADMIN//x")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.deny(401, "admin-only")));
        }
        cases.run("admin /ADMIN/x", () -> check(gw, get(gw, "/ADMIN/x", ADMIN), Outcome.proxy("/ADMIN/x", "admin-only")));
        cases.run("admin /Public/../ADMIN/X", () -> check(gw, get(gw, "/Public/../ADMIN/X", ADMIN),
                Outcome.proxy("/ADMIN/X", "admin-only")));
        for (String target : List.of("/PUBLIC/INTERNAL/x", "/Public/Internal", "/public/%49NTERNAL/x",
                "/PUBLIC//./INTERNAL/")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.deny(403, "public-internal")));
        }
        Map<String, String> forwarded = ordered("/PUBLIC/X", "/PUBLIC/X", "/Public/./Y/", "/Public/Y/",
                "/pUbLiC//z", "/pUbLiC/z", "/ADMIN/../Public/Q", "/Public/Q");
        forwarded.forEach((target, canonical) -> cases.run(get(gw, target),
                () -> check(gw, get(gw, target), Outcome.proxy(canonical, "public"))));
        cases.assertAll();
    }



    // ================================================================== found by this class, fixed since

    /** SPEC 3.4: "%00 or any encoded control character" gets 400; U+0080..U+009F (C1) are control characters. */
    @Test
    void aC1ControlCharacterEncodedInThePathGets400() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String target : List.of("/public/%c2%85", "/public/%C2%80", "/public/%c2%9f", "/public/%c2%9b")) {
            cases.run(get(gw, target), () -> check(gw, get(gw, target), Outcome.reject()));
        }
        cases.assertAll();
    }

    /**
     * A Host with a second port is invalid (RFC 9112 3.2: "MUST respond with a 400 ... a Host header field with an
     * invalid field value"; SPEC 3.6: malformed HTTP is 400). The gateway once took it for some host other than
     * internal.example and proxied it with that Host: an upstream (or a virtual-host router behind it) that splits
     * host and port at the first ':' saw internal.example, which the policy denies.
     */
    @Test
    void aHostWithTwoPortsIsRejectedNotTakenForAnotherHost() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String host : List.of("internal.example:80:80", "internal.example:1:2", "INTERNAL.example:80:")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.reject(), Outcome.deny(404, "internal-host")));
        }
        cases.assertAll();
    }

    /**
     * A Host that is a list, or a name in IP-literal brackets, is no uri-host (RFC 9112 3.2: MUST 400; SPEC 3.6:
     * malformed HTTP is 400); the gateway once proxied it, Host and X-Forwarded-Host as sent, to an upstream that may
     * read the list's last element or strip the brackets.
     */
    @Test
    void aHostThatIsNoUriHostIsRejected() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String host : List.of(gw.authority() + ",internal.example", "app.example,internal.example",
                "[internal.example]", "[internal.example]:80")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        cases.assertAll();
    }

    /** A port that is not digits makes the Host invalid (RFC 3986 port = *DIGIT; RFC 9112 3.2: MUST 400). */
    @Test
    void aHostWithANonNumericPortIsRejected() throws Exception {
        Gateway gw = start(false);
        Cases cases = new Cases();
        for (String host : List.of("internal.example:http", "internal.example:-1", "internal.example:8o")) {
            String request = get(gw, "/public/x", "Host: " + host);
            cases.run(show(request), () -> check(gw, request, Outcome.reject()));
        }
        cases.assertAll();
    }

    // ================================================================== machinery

    /** Either refused (400) or proxied to /public/x with no override header left for the upstream to read. */
    private void refusedOrProxiedWithoutOverrides(Gateway gw, String request) throws Exception {
        Sent s = send(gw, request);
        if (s.r.status() == 400) {
            verify(s, Outcome.reject());
        } else {
            verify(s, Outcome.proxy("/public/x", "public"));
            assertThat(overrideHeadersOf(lastUpstream(s))).isEmpty();
        }
    }

    private static Gateway start(boolean caseInsensitive) throws Exception {
        return harness.startYaml(dir, CONFIG, Map.of("CI", Boolean.toString(caseInsensitive)));
    }

    private static String get(Gateway gw, String target, String... headerLines) {
        return new Probe(harness, gw).request("GET", target, headerLines);
    }

    /** A map in the order its key/value pairs are given. */
    @SuppressWarnings("unchecked")
    private static <V> Map<String, V> ordered(Object... pairs) {
        Map<String, V> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            m.put((String) pairs[i], (V) pairs[i + 1]);
        }
        return m;
    }

    /** The request bytes, printable: control and non-ASCII bytes as \xNN, CR LF as \r\n. */
    static String show(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c < 0x20 || c >= 0x7f) {
                sb.append(String.format("\\x%02X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static final Pattern ESCAPE = Pattern.compile("%([0-9a-fA-F]{2})");

    /** Percent-escapes with upper-case hex digits (RFC 3986 6.2.2.1: the same URI either way). */
    private static String upperHex(String s) {
        Matcher m = ESCAPE.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, "%" + m.group(1).toUpperCase(java.util.Locale.ROOT));
        }
        return m.appendTail(sb).toString();
    }

    private static List<String> overrideHeadersOf(RecordedRequest up) {
        return JwtAssertions.normalizedNames(up.headers()).stream().filter(OVERRIDE_HEADERS::contains).toList();
    }

    /** One acceptable outcome: 400 before any rule, a denial by a rule with its status, or a proxied request. */
    private record Outcome(int status, String rule, String target) {
        static Outcome reject() {
            return new Outcome(400, null, null);
        }

        static Outcome deny(int status, String rule) {
            return new Outcome(status, rule, null);
        }

        /** Proxied and decided by {@code rule}; the upstream got exactly {@code target} (when not null). */
        static Outcome proxy(String target, String rule) {
            return new Outcome(200, rule, target);
        }
    }

    private record Sent(String request, int headsBefore, RawResponse r, boolean closedAfter400) {}

    private static Sent send(Gateway gw, String request) throws IOException {
        int before = harness.upstream().headsReceived();
        try (RawHttp c = gw.raw()) {
            c.send(request);
            RawResponse r = c.readResponse(request.startsWith("HEAD "));
            boolean closed = r.status() == 400 && c.awaitClosed(Duration.ofSeconds(2));
            return new Sent(request, before, r, closed);
        }
    }

    /** Sends {@code request} on a fresh connection and verifies it ended in one of {@code acceptable}. */
    private RecordedRequest check(Gateway gw, String request, Outcome... acceptable) throws Exception {
        Sent s = send(gw, request);
        for (Outcome o : acceptable) {
            if (o.status == s.r.status()) {
                return verify(s, o);
            }
        }
        // whatever it was, a denied request must not have reached the upstream
        throw new AssertionError("status " + s.r.status() + ", expected one of "
                + Arrays.stream(acceptable).map(o -> o.status + (o.rule == null ? "" : " (" + o.rule + ")"))
                        .collect(Collectors.joining(", "))
                + "; upstream heads " + s.headsBefore + " -> " + harness.upstream().headsReceived()
                + (harness.upstream().headsReceived() > s.headsBefore ? ", last target "
                        + harness.upstream().requests().get(harness.upstream().requests().size() - 1).target() : "")
                + "; response:\n" + s.r);
    }

    private RecordedRequest verify(Sent s, Outcome o) throws Exception {
        RawResponse r = s.r;
        String what = show(s.request);
        assertThat(r.status()).as("status of %s:%n%s", what, r).isEqualTo(o.status);
        if (o.status == 200) {
            RecordedRequest up = lastUpstream(s);
            assertThat(harness.upstream().headsReceived()).as("upstream heads after %s", what)
                    .isEqualTo(s.headsBefore + 1);
            if (o.target != null) {
                assertThat(upperHex(up.target())).as("target the upstream received for %s", what)
                        .isEqualTo(upperHex(o.target));
            }
            JsonNode line = line(r);
            assertThat(line.path("decision").asText()).as("access decision: %s", line).isEqualTo("allow");
            assertThat(line.path("status").asInt()).as("access status: %s", line).isEqualTo(200);
            assertThat(line.path("rule").asText(null)).as("deciding rule: %s", line).isEqualTo(o.rule);
            return up;
        }
        harness.upstream().assertHeadsStayAt(s.headsBefore, QUIET);
        switch (o.status) {
            case 401 -> JwtAssertions.assertUnauthorized(r, false, what);
            case 403 -> GatewayAssertions.assertForbidden(r);
            default -> GatewayAssertions.assertGatewayError(r, o.status);
        }
        if (o.status == 400) {
            assertThat(s.closedAfter400).as("SPEC 3.6: the connection is closed after the 400 to %s", what).isTrue();
        }
        if (o.status == 405) {
            assertThat(r.header("Allow")).as("405 carries Allow: %s", r).isPresent();
        }
        JsonNode line = line(r);
        assertThat(line.path("status").asInt()).as("access status: %s", line).isEqualTo(o.status);
        assertThat(line.path("decision").asText()).as("access decision: %s", line).isEqualTo("deny");
        assertThat(line.path("reason").asText("")).as("access reason is specific: %s", line).isNotBlank();
        JsonNode rule = line.get("rule");
        if (o.status == 400) {
            assertThat(rule != null && rule.isNull()).as("SPEC 4: rule null before any rule ran: %s", line).isTrue();
        } else if (DEFAULT.equals(o.rule)) {
            assertThat(rule == null || rule.isNull() || !ALLOW_RULES.contains(rule.asText()))
                    .as("decided by default, not by an allow rule: %s", line).isTrue();
        } else if (!ANY.equals(o.rule)) {
            assertThat(rule == null ? null : rule.asText(null)).as("deciding rule: %s", line).isEqualTo(o.rule);
        }
        return null;
    }

    private static RecordedRequest lastUpstream(Sent s) {
        List<RecordedRequest> all = harness.upstream().awaitRequests(s.headsBefore + 1, Duration.ofSeconds(5));
        return all.get(all.size() - 1);
    }

    private JsonNode line(RawResponse r) throws Exception {
        String rid = r.header("X-Request-Id").orElseThrow(() -> new AssertionError("no X-Request-Id on\n" + r));
        return access.jsonLineFor(rid);
    }

    /** Runs sub-cases, collecting every failure (named by its request) before failing. */
    private static final class Cases {
        private final List<String> failures = new ArrayList<>();
        private int count;

        interface Body {
            void run() throws Exception;
        }

        void run(String name, Body body) {
            count++;
            try {
                body.run();
            } catch (AssertionError | Exception e) {
                String msg = String.valueOf(e.getMessage());
                failures.add("[" + show(name) + "] " + (msg.length() > 1200 ? msg.substring(0, 1200) + "..." : msg));
            }
        }

        void assertAll() {
            assertThat(failures).as("failed sub-cases (%d of %d)", failures.size(), count).isEmpty();
        }
    }
}
