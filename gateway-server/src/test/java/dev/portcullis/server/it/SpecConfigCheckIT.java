package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.File;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box checks of SPEC section 3 "Configuration (policy.yaml)" as a whole, written from the contract (SPEC 2, 3,
 * 3.1-3.10; README "The policy language", "Limits", "Errors in a config", "Reload"): SPEC's own annotated example is
 * accepted; keys left out take their documented defaults, observed through behaviour; every documented value kind
 * (durations, sizes, CIDRs, country codes, ASNs, methods, globs, hosts, schedules, rate limits, identity blocks,
 * responses, listeners) is checked at its FILE:LINE:COLUMN with its path, every problem at once (SPEC 3.9); and a
 * reload that is rejected for such a value leaves the old policy, limits and response bodies serving (SPEC 3.8).
 *
 * <p>{@code check} runs as the packaged {@code target/portcullis.jar} in its own process (bounded); behaviour is
 * observed on the in-process gateway of {@link GatewayHarness}, on loopback. Columns are computed from the YAML
 * lines written here (the first character of the offending value or key), so a line's text is its own reference.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecConfigCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final long PROCESS_TIMEOUT_SECONDS = 20;
    private static final String UPSTREAM = "upstream: { url: \"http://127.0.0.1:3000\" }";
    private static final String LISTENERS = "listen: \"127.0.0.1:0\"\nadmin: { listen: \"127.0.0.1:0\" }\n";

    @TempDir
    static Path dir;

    private static Path jar;
    private static Path configRoot;

    @BeforeAll
    static void findJarAndExamples() throws IOException {
        jar = Path.of("target", "portcullis.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no packaged jar at " + jar + " (mvn package runs before the ITs)");
        }
        configRoot = Path.of("..", "config").toAbsolutePath().normalize();
        if (!Files.isRegularFile(configRoot.resolve("keys/jwks.json"))
                || !Files.isRegularFile(configRoot.resolve("examples/geoip/example-country.mmdb"))) {
            throw new IOException("no config/keys/jwks.json or config/examples/geoip under " + configRoot);
        }
    }

    // ------------------------------------------------------------------------------------------------- support

    record Result(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        String all() {
            return "exit " + exit + "\n[stdout]\n" + out + "[stderr]\n" + err;
        }
    }

    /** Runs {@code java -jar portcullis.jar args} with {@code env} added, bounded by {@link #PROCESS_TIMEOUT_SECONDS}. */
    private static Result cli(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().remove("PORTCULLIS_CONFIG");
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            fail("portcullis %s did not exit within %d s; stdout:%n%s%nstderr:%n%s", String.join(" ", args),
                    PROCESS_TIMEOUT_SECONDS, Files.readString(out), Files.readString(err));
        }
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static Result check(Path file) throws Exception {
        return cli(Map.of(), "check", "-c", file.toString());
    }

    /** A config file written line by line, which locates a value by the line it is on and its text. */
    static final class Yaml {
        final Path file;
        final List<String> lines;

        Yaml(Path file, List<String> lines) {
            this.file = file;
            this.lines = lines;
        }

        static Yaml write(String name, String... lines) throws IOException {
            Path file = dir.resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
            return new Yaml(file, Arrays.asList(lines));
        }

        /** "LINE:COLUMN" of the first occurrence of {@code needle} on 1-based {@code line}. */
        String lc(int line, String needle) {
            int index = lines.get(line - 1).indexOf(needle);
            if (index < 0) {
                throw new IllegalArgumentException("line " + line + " has no " + needle + ": " + lines.get(line - 1));
            }
            return line + ":" + (index + 1);
        }

        /** The start of the problem line SPEC 3.9 promises: {@code FILE:LINE:COLUMN: path: }. */
        String at(int line, String needle, String path) {
            return file + ":" + lc(line, needle) + ": " + path + ": ";
        }
    }

    /**
     * {@code check} refused the file (exit 1, nothing on stdout, no stack trace) and reported exactly
     * {@code expected.length} problems, each starting with one of {@code expected} (FILE:LINE:COLUMN: path: ) and
     * quoting {@code quoted[i]} when given, then {@code "N problems in FILE"}.
     */
    private static void assertProblems(Result r, Yaml yaml, String[][] expected) {
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).as(r.all()).isEmpty();
        assertThat(r.err()).as(r.all()).doesNotContain("Exception").doesNotContain("\tat ");
        List<String> lines = r.errLines();
        SoftAssertions soft = new SoftAssertions();
        for (String[] problem : expected) {
            soft.assertThat(lines).as("a problem starting %s%s%n%s", problem[0],
                            problem.length > 1 ? " and naming " + problem[1] : "", r.err())
                    .anySatisfy(l -> {
                        assertThat(l).startsWith(problem[0]);
                        if (problem.length > 1) {
                            assertThat(l.substring(problem[0].length())).contains(problem[1]);
                        }
                    });
        }
        soft.assertThat(lines).as("every problem at once, then the count (SPEC 3.9)%n%s", r.err()).last()
                .isEqualTo(expected.length + (expected.length == 1 ? " problem in " : " problems in ") + yaml.file);
        soft.assertThat(lines).as("nothing but the located problems and the count%n%s", r.err())
                .hasSize(expected.length + 1);
        soft.assertAll();
    }

    private static String[] p(String prefix, String named) {
        return new String[] {prefix, named};
    }

    private static String[] p(String prefix) {
        return new String[] {prefix};
    }

    private static String head(Gateway gw, String method, String target, String... headerLines) {
        StringBuilder b = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(gw.authority()).append("\r\n");
        for (String h : headerLines) {
            b.append(h).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    private static RawResponse exchange(Gateway gw, String request) throws IOException {
        try (RawHttp raw = gw.raw()) {
            return raw.send(request).readResponse();
        }
    }

    private static String post(Gateway gw, String path, int bodyLength) {
        return head(gw, "POST", path, "Content-Length: " + bodyLength, "Connection: close") + "b".repeat(bodyLength);
    }

    /** A target of exactly {@code length} characters under {@code prefix}. */
    private static String target(String prefix, int length) {
        return prefix + "a".repeat(length - prefix.length());
    }

    // --------------------------------------------------------------------------------- SPEC's annotated example

    /** SPEC section 3's example, verbatim but for the two GeoIP paths, which name files beside it. */
    private static List<String> specExample(boolean withJwksRefresh) {
        List<String> lines = new ArrayList<>(List.of(
                "listen: \"0.0.0.0:8080\"            # host:port; [::]:8080 for IPv6",
                "watch: false                      # also reload when this file changes (3.8)",
                "drain_timeout: 30s                # on SIGTERM: stop accepting, finish in-flight requests, exit",
                "admin:",
                "  listen: \"127.0.0.1:9901\"        # admin API (section 6); never the public port",
                "",
                "upstream:",
                "  url: \"http://127.0.0.1:3000\"    # the protected service (http; https optional)",
                "  case_insensitive_paths: false   # true when the upstream routes /ADMIN like /admin",
                "  connect_timeout: 2s             # -> 502 when it cannot connect",
                "  response_timeout: 30s           # no response headers within -> 504",
                "  max_connections: 512            # pooled keep-alive connections, all event loops together",
                "",
                "limits:",
                "  max_uri_length: 8KiB            # -> 414",
                "  max_header_size: 16KiB          # all header lines together -> 431",
                "  max_body_size: 10MiB            # Content-Length over it, or a chunked body growing past it -> 413",
                "  header_timeout: 10s             # request head not complete within -> 408 (slowloris)",
                "  idle_timeout: 60s               # keep-alive connection with no request -> closed",
                "  max_connections: 10000          # concurrent client connections; past it new ones are refused",
                "  allow_get_body: false           # true: GET with a body is proxied (re-framed)",
                "",
                "clients:",
                "  trusted_proxies: [\"127.0.0.1/32\", \"10.0.0.0/8\"]   # peers whose forwarding headers are believed",
                "",
                "identity:",
                "  jwt:                            # read from \"Authorization: Bearer <token>\"",
                "    issuer: \"https://auth.example.com/\"     # required \"iss\"; omit to skip the check",
                "    audience: [\"orders-api\"]                # \"aud\" must contain one; omit to skip",
                "    algorithms: [RS256, ES256]              # allow-list; \"none\" is never accepted",
                "    jwks_file: \"keys/jwks.json\"             # exactly one key source:",
                "    # jwks_url: \"https://auth.example.com/.well-known/jwks.json\"",
                "    # public_key_file: \"keys/public.pem\"",
                "    # secret_env: \"JWT_HMAC_SECRET\"         # HS256/384/512, secret from this env variable",
                "    jwks_refresh: 10m                       # jwks_url: background refresh",
                "    subject_claim: \"sub\"",
                "    roles_claim: \"roles\"                    # dotted path (e.g. realm_access.roles)",
                "    clock_skew: 30s                         # for exp / nbf / iat",
                "    require_exp: true                       # a token without \"exp\" is rejected",
                "    types: [\"at+jwt\", \"JWT\"]                # optional allow-list for the \"typ\" header",
                "  forwarded:                      # identity set by an authenticating proxy in front",
                "    trusted_proxies: [\"10.0.0.7/32\"]        # required: the only peers whose identity headers are believed",
                "    user_header: \"X-Forwarded-User\"",
                "    roles_header: \"X-Forwarded-Groups\"      # comma separated",
                "  upstream_headers:               # what the upstream is told",
                "    subject: \"X-Auth-Subject\"",
                "    roles: \"X-Auth-Roles\"                   # comma separated",
                "",
                "geoip:",
                "  database: \"GeoLite2-Country.mmdb\"        # SPEC: /data/GeoLite2-Country.mmdb",
                "  asn_database: \"GeoLite2-ASN.mmdb\"        # SPEC: /data/GeoLite2-ASN.mmdb",
                "",
                "rate_limits:                      # named limiters that rules refer to",
                "  per-user:  { key: subject,   limit: 100, per: 1m, burst: 20 }",
                "  per-ip:    { key: client_ip, limit: 20,  per: 1s }",
                "  per-tenant: { key: \"header:X-Tenant\", limit: 1000, per: 1m, scope: shared }",
                "",
                "rate_limit_store:                 # required when a limiter has scope: shared",
                "  redis:",
                "    url: \"redis://127.0.0.1:6379/0\"         # redis:// or rediss://; password from password_env",
                "    password_env: \"REDIS_PASSWORD\"          # optional",
                "    timeout: 50ms                           # per check; past it (or Redis down) on_error decides",
                "    on_error: allow                         # allow (fail open) | deny (429)",
                "",
                "default: deny                     # what happens when no rule matches: deny | allow",
                "",
                "responses:                        # optional: replace the body of a gateway-made answer",
                "  403: { content_type: \"text/html; charset=utf-8\", body_file: \"errors/403.html\" }",
                "  429: { body: '{\"error\":\"Too Many Requests\",\"message\":\"Slow down\"}' }",
                "",
                "rules:                            # evaluated in order; the first rule whose match holds decides",
                "  - name: block-abusive-networks  # unique; appears in logs and metrics, never in responses",
                "    match: { ip: [\"203.0.113.0/24\", \"2001:db8:bad::/48\"] }",
                "    action: deny",
                "",
                "  - name: embargo",
                "    match: { countries: [KP, IR] }",
                "    action: deny",
                "",
                "  - name: health",
                "    match: { paths: [\"/healthz\"], methods: [GET] }",
                "    action: allow",
                "",
                "  - name: delete-users-admins-only",
                "    match: { paths: [\"/api/users/*\"], methods: [DELETE] }",
                "    require: { roles: [admin] }",
                "    action: allow",
                "",
                "  - name: admin-from-office",
                "    match: { paths: [\"/admin/**\"] }",
                "    require: { roles: [admin], ip: [\"10.20.0.0/16\"], schedule: { days: [mon, tue, wed, thu, fri],"
                        + " from: \"08:00\", to: \"19:00\", timezone: \"Europe/Berlin\" } }",
                "",
                "  - name: no-hotlinking",
                "    match: { paths: [\"/assets/**\"] }",
                "    require: { referrers: [none, \"https://app.example.com/**\"] }",
                "",
                "  - name: api",
                "    match: { paths: [\"/api/**\"] }",
                "    require: { authenticated: true }",
                "    rate_limit: per-user",
                "",
                "  - name: new-geo-rule-trial",
                "    match: { paths: [\"/**\"] }",
                "    require: { not: { countries: [RU] } }",
                "    mode: audit                   # decide and log, but never block (dry run)"));
        if (!withJwksRefresh) {
            lines.removeIf(l -> l.startsWith("    jwks_refresh:"));
        }
        return lines;
    }

    /** The files SPEC's example names, beside it: the JWKS, the 403 page, the two GeoIP databases. */
    private static Yaml writeSpecExample(String folder, boolean withJwksRefresh) throws IOException {
        Path base = dir.resolve(folder);
        Files.createDirectories(base.resolve("keys"));
        Files.createDirectories(base.resolve("errors"));
        Files.copy(configRoot.resolve("keys/jwks.json"), base.resolve("keys/jwks.json"));
        Files.writeString(base.resolve("errors/403.html"), "<h1>Forbidden</h1>\n");
        Files.copy(configRoot.resolve("examples/geoip/example-country.mmdb"), base.resolve("GeoLite2-Country.mmdb"));
        Files.copy(configRoot.resolve("examples/geoip/example-asn.mmdb"), base.resolve("GeoLite2-ASN.mmdb"));
        return Yaml.write(folder + "/policy.yaml", specExample(withJwksRefresh).toArray(String[]::new));
    }

    /**
     * SPEC 3: the annotated example is the config format; every key in it, as written, is accepted together by
     * {@code check} (SPEC 2: "OK: 8 rules", exit 0) once the files it names exist.
     */
    @Test
    void theSpecExampleAsWrittenIsAccepted() throws Exception {
        Yaml yaml = writeSpecExample("spec-verbatim", true);

        Result r = check(yaml.file);

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).isEqualTo("OK: 8 rules\n");
        assertThat(r.errLines()).as("at most warnings on stderr").allSatisfy(l -> assertThat(l).contains("warning:"));
    }

    /**
     * SPEC 3 / 3.10: every other key of the annotated example (all sections at once: listeners, watch, drain,
     * upstream, limits, clients, jwt, forwarded, upstream_headers, geoip, three limiters with a shared one and its
     * Redis store, default, responses, eight rules using every rule field) loads with no problem and no warning, and
     * SPEC 3.10's two example cases pass against it.
     */
    @Test
    void everyOtherKeyOfTheSpecExampleIsAcceptedTogetherAndPassesSpecsPolicyTests() throws Exception {
        Yaml yaml = writeSpecExample("spec-example", false);
        Path cases = dir.resolve("spec-example/cases.yaml");
        Files.writeString(cases, String.join("\n",
                "cases:",
                "  - name: admins may delete users",
                "    request: { method: DELETE, path: /api/users/42, ip: 10.20.1.5, roles: [admin], subject: alice }",
                "    expect: { status: 200, rule: delete-users-admins-only }",
                "  - name: anonymous is challenged",
                "    request: { method: GET, path: /api/orders }",
                "    expect: { status: 401 }",
                ""));

        Result checked = check(yaml.file);
        Result tested = cli(Map.of(), "test", "-c", yaml.file.toString(), cases.toString());

        assertThat(checked.exit()).as(checked.all()).isZero();
        assertThat(checked.out()).as(checked.all()).isEqualTo("OK: 8 rules\n");
        assertThat(checked.err()).as("no problem and no warning: %s", checked.all()).isEmpty();
        assertThat(tested.exit()).as(tested.all()).isZero();
        assertThat(tested.out().lines().toList()).as(tested.all()).containsExactly(
                "PASS  admins may delete users: 200, rule delete-users-admins-only",
                "PASS  anonymous is challenged: 401, rule api",
                "2 passed, 0 failed");
    }

    // ---------------------------------------------------------------------------------- defaults, by behaviour

    /**
     * SPEC 3 / 3.1 / 3.4 / 3.6: a config that names only its listeners, the upstream URL and rules gets the documented
     * defaults: max_uri_length 8KiB (414 only over it), max_header_size 16KiB (431), max_body_size 10MiB (413 for a
     * Content-Length over it; exactly 10MiB is accepted on its head: 100 Continue), allow_get_body false (400),
     * case_insensitive_paths false (/ADMIN is not /admin, forwarded as sent); a rule's action allow, deny_status 403
     * (the exact body), mode enforce, and a rule without match deciding every request.
     */
    @Test
    void omittedLimitsAndRuleFieldsTakeTheDocumentedDefaults() throws Exception {
        Path file = dir.resolve("defaults/policy.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, harness.fill(LISTENERS + """
                upstream: { url: "http://127.0.0.1:{{UPSTREAM_PORT}}" }
                rules:
                  - name: hidden
                    match: { paths: ["/deny/**"] }
                    action: deny
                  - name: admin
                    match: { paths: ["/admin/**"] }
                    action: deny
                  - name: ok
                    match: { paths: ["/ok/**"] }
                  - name: everything-else-read-only
                    require: { methods: [GET, HEAD] }
                """, Map.of()));
        Gateway gw = harness.startFile(file);

        // rule defaults
        GatewayAssertions.assertForbidden(harness.get(gw, "/deny/x"));
        GatewayAssertions.assertForbidden(harness.get(gw, "/admin/x"));
        HttpResponse<byte[]> upper = harness.get(gw, "/ADMIN/x");
        assertThat(upper.statusCode()).as("paths are case-sensitive by default").isEqualTo(200);
        assertThat(harness.upstream().awaitRequest(q -> q.target().startsWith("/ADMIN"), Duration.ofSeconds(5))
                .target()).isEqualTo("/ADMIN/x");
        HttpResponse<byte[]> putOk = harness.send(gw, "PUT", "/ok/x",
                HttpRequest.BodyPublishers.ofString("p"));
        assertThat(putOk.statusCode()).as("action defaults to allow").isEqualTo(200);
        assertThat(harness.get(gw, "/elsewhere").statusCode()).as("a rule without match decides GET").isEqualTo(200);
        GatewayAssertions.assertForbidden(harness.send(gw, "DELETE", "/elsewhere",
                HttpRequest.BodyPublishers.noBody()));

        // limits defaults
        String atUriLimit = target("/ok/", 8 * 1024);
        assertThat(exchange(gw, head(gw, "GET", atUriLimit, "Connection: close")).status())
                .as("a target of exactly 8KiB is not over max_uri_length").isEqualTo(200);
        GatewayAssertions.assertGatewayError(exchange(gw, head(gw, "GET", atUriLimit + "a", "Connection: close")),
                414);

        assertThat(exchange(gw, head(gw, "GET", "/ok/h", "X-Big: " + "v".repeat(15 * 1024), "Connection: close"))
                .status()).as("15KiB of headers are under max_header_size").isEqualTo(200);
        GatewayAssertions.assertGatewayError(exchange(gw,
                head(gw, "GET", "/ok/h", "X-Big: " + "v".repeat(16 * 1024), "Connection: close")), 431);

        long tenMiB = 10L * 1024 * 1024;
        GatewayAssertions.assertGatewayError(exchange(gw, head(gw, "POST", "/ok/big",
                "Content-Length: " + (tenMiB + 1), "Expect: 100-continue")), 413);
        try (RawHttp raw = gw.raw()) {
            RawResponse interim = raw.send(head(gw, "POST", "/ok/big", "Content-Length: " + tenMiB,
                    "Expect: 100-continue")).readResponse();
            assertThat(interim.status()).as("exactly 10MiB is not over max_body_size: %s", interim).isEqualTo(100);
        }

        GatewayAssertions.assertGatewayError(exchange(gw,
                head(gw, "GET", "/ok/get-body", "Content-Length: 3") + "abc"), 400);
        assertThat(harness.upstream().requests()).as("nothing refused reached the upstream")
                .noneMatch(q -> q.target().startsWith("/deny") || q.target().startsWith("/admin")
                        || q.target().equals("/ok/get-body") || q.target().length() > 8 * 1024);
    }

    /**
     * SPEC 3 "Sizes: 512, 16KiB" and "Durations: 250ms": a plain number is bytes, KiB is 1024 bytes, ms are
     * milliseconds; each limit answers its SPEC 3.6 status just past the configured value and not at it.
     */
    @Test
    void sizeAndDurationUnitsAreAppliedAsWritten() throws Exception {
        Path file = dir.resolve("units/policy.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, harness.fill(LISTENERS + """
                upstream: { url: "http://127.0.0.1:{{UPSTREAM_PORT}}" }
                limits: { max_uri_length: 600, max_header_size: 1KiB, max_body_size: 2KiB, header_timeout: 750ms }
                default: allow
                """, Map.of()));
        Gateway gw = harness.startFile(file);

        assertThat(exchange(gw, head(gw, "GET", target("/u/", 600), "Connection: close")).status())
                .as("max_uri_length: 600 means 600 bytes").isEqualTo(200);
        GatewayAssertions.assertGatewayError(exchange(gw, head(gw, "GET", target("/u/", 601), "Connection: close")),
                414);

        assertThat(exchange(gw, head(gw, "GET", "/h", "X-Big: " + "v".repeat(700), "Connection: close")).status())
                .as("~750 bytes of headers are under 1KiB").isEqualTo(200);
        GatewayAssertions.assertGatewayError(exchange(gw,
                head(gw, "GET", "/h", "X-Big: " + "v".repeat(1100), "Connection: close")), 431);

        RawResponse atBodyLimit = exchange(gw, post(gw, "/b/2048", 2048));
        assertThat(atBodyLimit.status()).as("2KiB is 2048 bytes: %s", atBodyLimit).isEqualTo(200);
        RecordedRequest seen = harness.upstream().awaitRequest(q -> q.target().equals("/b/2048"),
                Duration.ofSeconds(5));
        assertThat(seen.bodyLength()).isEqualTo(2048);
        GatewayAssertions.assertGatewayError(exchange(gw, post(gw, "/b/2049", 2049)), 413);
        assertThat(harness.upstream().requests()).noneMatch(q -> q.target().equals("/b/2049"));

        try (RawHttp raw = gw.raw()) {
            long t0 = System.nanoTime();
            raw.send("GET /slow HTTP/1.1\r\nHost: " + gw.authority() + "\r\nX-Slow: ");
            RawResponse r = raw.readResponse();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            GatewayAssertions.assertGatewayError(r, 408);
            assertThat(took).as("header_timeout: 750ms").isBetween(Duration.ofMillis(600), Duration.ofMillis(3000));
        }
    }

    // ------------------------------------------------------------------------------- values checked, located

    /**
     * SPEC 3 durations and sizes, and the number and boolean fields around them: each bad value is a problem at the
     * value's line and column with its path, all of them reported by one check (SPEC 3.9).
     */
    @Test
    void durationsSizesNumbersAndBooleansAreCheckedWhereTheyAre() throws Exception {
        Yaml y = Yaml.write("values/policy.yaml",
                "upstream: { url: \"http://127.0.0.1:3000\", connect_timeout: 5 parsecs, response_timeout: -1s,"
                        + " max_connections: many }",                          // 1
                "drain_timeout: soon",                                        // 2
                "limits:",                                                    // 3
                "  max_uri_length: lots",                                     // 4
                "  max_header_size: 16 KiB of it",                            // 5
                "  max_body_size: -1",                                        // 6
                "  header_timeout: 10 seconds",                               // 7
                "  idle_timeout: 0s",                                         // 8
                "  max_connections: 0",                                       // 9
                "  allow_get_body: maybe",                                    // 10
                "watch: sometimes",                                           // 11
                "default: perhaps",                                           // 12
                "rules: []");                                                 // 13

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(1, "5 parsecs", "upstream.connect_timeout"), "\"5 parsecs\""),
                p(y.at(1, "-1s", "upstream.response_timeout"), "\"-1s\""),
                p(y.at(1, "many", "upstream.max_connections"), "many"),
                p(y.at(2, "soon", "drain_timeout"), "\"soon\""),
                p(y.at(4, "lots", "limits.max_uri_length"), "\"lots\""),
                p(y.at(5, "16 KiB", "limits.max_header_size"), "\"16 KiB of it\""),
                p(y.at(6, "-1", "limits.max_body_size"), "-1"),
                p(y.at(7, "10 seconds", "limits.header_timeout"), "\"10 seconds\""),
                p(y.at(8, "0s", "limits.idle_timeout"), "0s"),
                p(y.at(9, "0", "limits.max_connections"), "0"),
                p(y.at(10, "maybe", "limits.allow_get_body"), "maybe"),
                p(y.at(11, "sometimes", "watch"), "sometimes"),
                p(y.at(12, "perhaps", "default"), "\"perhaps\"")});
    }

    /**
     * SPEC 3.2 / 3.3 / 3.5 / 3.9: CIDRs are checked in every list that holds them (clients.trusted_proxies,
     * identity.forwarded.trusted_proxies, rule ip conditions at any depth), IPv4 and IPv6 alike, and a /0 in the
     * forwarded-identity list (v4 or v6) is refused ("no /0"); valid v4, v6 and v4-mapped entries beside them are not
     * reported.
     */
    @Test
    void cidrsOfEveryListAreCheckedForIpv4AndIpv6() throws Exception {
        Yaml y = Yaml.write("cidrs/policy.yaml",
                UPSTREAM,                                                                                    // 1
                "clients: { trusted_proxies: [\"10.0.0/8\", \"192.0.2.0/24\", \"2001:db8::/129\", \"fd00::/8\"] }", // 2
                "identity:",                                                                                 // 3
                "  forwarded:",                                                                              // 4
                "    trusted_proxies: [\"0.0.0.0/0\", \"::/0\", \"10.0.0.7/32\"]",                           // 5
                "    user_header: \"X-Forwarded-User\"",                                                     // 6
                "rules:",                                                                                    // 7
                "  - name: v4",                                                                              // 8
                "    match: { ip: [\"256.1.1.1/32\", \"1.2.3.4/-1\", \"1.2.3.4/33\", \"203.0.113.0/24\"] }", // 9
                "    action: deny",                                                                          // 10
                "  - name: v6",                                                                              // 11
                "    match: { ip: [\"2001:db8:::/48\", \"fe80::1%eth0/64\", \"::ffff:192.0.2.1/128\"] }",   // 12
                "    action: deny",                                                                          // 13
                "  - name: nested",                                                                          // 14
                "    require: { all: [ { not: { ip: [\"2001:db8::g/64\"] } } ] }");                          // 15

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(2, "\"10.0.0/8\"", "clients.trusted_proxies[0]"), "\"10.0.0/8\""),
                p(y.at(2, "\"2001:db8::/129\"", "clients.trusted_proxies[2]"), "\"2001:db8::/129\""),
                p(y.at(5, "\"0.0.0.0/0\"", "identity.forwarded.trusted_proxies[0]"), "\"0.0.0.0/0\""),
                p(y.at(5, "\"::/0\"", "identity.forwarded.trusted_proxies[1]"), "\"::/0\""),
                p(y.at(9, "\"256.1.1.1/32\"", "rules[0].match.ip[0]"), "\"256.1.1.1/32\""),
                p(y.at(9, "\"1.2.3.4/-1\"", "rules[0].match.ip[1]"), "\"1.2.3.4/-1\""),
                p(y.at(9, "\"1.2.3.4/33\"", "rules[0].match.ip[2]"), "\"1.2.3.4/33\""),
                p(y.at(12, "\"2001:db8:::/48\"", "rules[1].match.ip[0]"), "\"2001:db8:::/48\""),
                p(y.at(12, "\"fe80::1%eth0/64\"", "rules[1].match.ip[1]"), "\"fe80::1%eth0/64\""),
                p(y.at(15, "\"2001:db8::g/64\"", "rules[2].require.all[0].not.ip[0]"), "\"2001:db8::g/64\"")});
    }

    /**
     * SPEC 3.2: countries are ISO 3166 alpha-2 (upper case, README; ZZ for unknown), ASNs are AS numbers (README:
     * plain numbers, not AS64500; 32-bit), methods are upper-case tokens, paths are globs of a normalized path
     * (starting with /, no query, no encoded / that requests may not carry), hosts are names or *. and a domain with
     * the port removed. Each bad value is reported at its place; the good ones beside them are not. The GeoIP files
     * are relative paths, resolved against the config's folder (SPEC 3).
     */
    @Test
    void countriesAsnsMethodsGlobsAndHostsAreCheckedValueByValue() throws Exception {
        Path geo = dir.resolve("values2/geo");
        Files.createDirectories(geo);
        Files.copy(configRoot.resolve("examples/geoip/example-country.mmdb"), geo.resolve("country.mmdb"));
        Files.copy(configRoot.resolve("examples/geoip/example-asn.mmdb"), geo.resolve("asn.mmdb"));
        Yaml y = Yaml.write("values2/policy.yaml",
                UPSTREAM,                                                                             // 1
                "geoip: { database: \"geo/country.mmdb\", asn_database: \"geo/asn.mmdb\" }",           // 2
                "rules:",                                                                             // 3
                "  - name: geo",                                                                      // 4
                "    match: { countries: [DE, kp, USA, K1, ZZ], asns: [64500, AS64501, -1, 4294967296, abc,"
                        + " 4294967295] }",                                                           // 5
                "    action: deny",                                                                   // 6
                "  - name: methods",                                                                  // 7
                "    match: { methods: [GET, get, Delete, \"GE T\", M-SEARCH] }",                     // 8
                "  - name: paths",                                                                    // 9
                "    match: { paths: [\"/ok/*\", \"admin/**\", \"/a?b\", \"/a/%2F/b\", \"/docs/**\"] }", // 10
                "  - name: hosts",                                                                    // 11
                "    match: { hosts: [\"*.example.com\", \"foo.*.com\", \"example.com:8080\", \"api.example.com\"] }"); // 12

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(5, "kp", "rules[0].match.countries[1]"), "\"kp\""),
                p(y.at(5, "USA", "rules[0].match.countries[2]"), "\"USA\""),
                p(y.at(5, "K1", "rules[0].match.countries[3]"), "\"K1\""),
                p(y.at(5, "AS64501", "rules[0].match.asns[1]"), "\"AS64501\""),
                p(y.at(5, "-1", "rules[0].match.asns[2]"), "\"-1\""),
                p(y.at(5, "4294967296", "rules[0].match.asns[3]"), "\"4294967296\""),
                p(y.at(5, "abc", "rules[0].match.asns[4]"), "\"abc\""),
                p(y.at(8, "get", "rules[1].match.methods[1]"), "\"get\""),
                p(y.at(8, "Delete", "rules[1].match.methods[2]"), "\"Delete\""),
                p(y.at(8, "\"GE T\"", "rules[1].match.methods[3]"), "\"GE T\""),
                p(y.at(10, "\"admin/**\"", "rules[2].match.paths[1]"), "\"admin/**\""),
                p(y.at(10, "\"/a?b\"", "rules[2].match.paths[2]"), "\"/a?b\""),
                p(y.at(10, "\"/a/%2F/b\"", "rules[2].match.paths[3]"), "\"/a/%2F/b\""),
                p(y.at(12, "\"foo.*.com\"", "rules[3].match.hosts[1]"), "\"foo.*.com\""),
                p(y.at(12, "\"example.com:8080\"", "rules[3].match.hosts[2]"), "\"example.com:8080\"")});
    }

    /**
     * SPEC 3.2 schedule {days, from, to, timezone} with README's ranges: days mon..sun, HH:MM times (24:00 only as
     * an end), IANA zones only (no offsets or abbreviations), from and to and timezone required. Problems of one
     * schedule are all reported; a valid 22:00-24:00 window is not.
     */
    @Test
    void schedulesAndTimeZonesAreChecked() throws Exception {
        Yaml y = Yaml.write("schedules/policy.yaml",
                UPSTREAM,                                                                                   // 1
                "rules:",                                                                                   // 2
                "  - name: s1",                                                                             // 3
                "    require: { schedule: { days: [monday, fri], from: \"25:00\", to: \"24:00\","
                        + " timezone: \"CET\" } }",                                                         // 4
                "  - name: s2",                                                                             // 5
                "    require: { schedule: { from: \"8:00\", to: \"08:60\", timezone: \"+02:00\" } }",       // 6
                "  - name: s3",                                                                             // 7
                "    require: { schedule: { from: \"24:00\", to: \"06:00\", timezone: \"UTC\" } }",         // 8
                "  - name: s4",                                                                             // 9
                "    require: { schedule: { from: \"08:00\", to: \"18:00\" } }",                            // 10
                "  - name: s5",                                                                             // 11
                "    require: { schedule: { days: [sat, sun], from: \"22:00\", to: \"24:00\","
                        + " timezone: \"Europe/Berlin\" } }",                                              // 12
                "  - name: s6",                                                                             // 13
                "    require: { schedule: { from: \"08:00\", to: \"18:00\", timezone: \"Mars/Olympus\" } }"); // 14

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(4, "monday", "rules[0].require.schedule.days[0]"), "\"monday\""),
                p(y.at(4, "\"25:00\"", "rules[0].require.schedule.from"), "\"25:00\""),
                p(y.at(4, "\"CET\"", "rules[0].require.schedule.timezone"), "\"CET\""),
                p(y.at(6, "\"8:00\"", "rules[1].require.schedule.from"), "\"8:00\""),
                p(y.at(6, "\"08:60\"", "rules[1].require.schedule.to"), "\"08:60\""),
                p(y.at(6, "\"+02:00\"", "rules[1].require.schedule.timezone"), "\"+02:00\""),
                // located at line 8; the column and path (schedule, not schedule.from) are left to the disabled
                // everyProblemOfOneLimiterOrScheduleIsReportedAtItsOwnKey
                p(y.file + ":8:", "\"24:00\""),
                p(y.at(10, "{ from", "rules[3].require.schedule"), "timezone"),
                p(y.at(14, "\"Mars/Olympus\"", "rules[5].require.schedule.timezone"), "\"Mars/Olympus\"")});
    }

    /**
     * SPEC 3 rate_limits / rate_limit_store with README's ranges: limit a positive integer, per a positive duration,
     * burst a non-negative integer, key subject | client_ip | header:Name, scope local | shared, shared needs a
     * store; the Redis url is redis:// or rediss://, on_error allow | deny, timeout a duration; rules name defined
     * limiters, and only allow rules may (SPEC 3.1 "applied only when the request is allowed"). One problem per
     * limiter here (see {@link #everyProblemOfOneLimiterOrScheduleIsReportedAtItsOwnKey} for several).
     */
    @Test
    void rateLimitsAndTheirStoreAreChecked() throws Exception {
        Yaml y = Yaml.write("ratelimits/policy.yaml",
                UPSTREAM,                                                                         // 1
                "rate_limits:",                                                                   // 2
                "  zero: { key: subject, limit: 0, per: 1s }",                                    // 3
                "  frac: { key: subject, limit: 1.5, per: 1s }",                                  // 4
                "  noper: { key: subject, limit: 5 }",                                            // 5
                "  instant: { key: subject, limit: 5, per: 0s }",                                 // 6
                "  neg: { key: subject, limit: 5, per: 1m, burst: -1 }",                          // 7
                "  badkey: { key: ip, limit: 5, per: 1s }",                                       // 8
                "  nohdr: { key: \"header:\", limit: 5, per: 1s }",                               // 9
                "  global: { key: client_ip, limit: 5, per: 1s, scope: global }",                 // 10
                "  ok: { key: \"header:X-Tenant\", limit: 5, per: 1s, burst: 0, scope: shared }", // 11
                "rate_limit_store:",                                                              // 12
                "  redis:",                                                                       // 13
                "    url: \"http://127.0.0.1:6379/0\"",                                           // 14
                "    timeout: whenever",                                                          // 15
                "    on_error: shrug",                                                            // 16
                "rules:",                                                                         // 17
                "  - name: a",                                                                    // 18
                "    rate_limit: per-nobody",                                                     // 19
                "  - name: d",                                                                    // 20
                "    action: deny",                                                               // 21
                "    rate_limit: ok");                                                            // 22

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(3, "0", "rate_limits.zero.limit"), "0"),
                p(y.at(4, "1.5", "rate_limits.frac.limit"), "1.5"),
                p(y.at(5, "{", "rate_limits.noper"), "per"),
                p(y.at(6, "0s", "rate_limits.instant.per"), "0s"),
                p(y.at(7, "-1", "rate_limits.neg.burst"), "-1"),
                p(y.at(8, "ip", "rate_limits.badkey.key"), "\"ip\""),
                p(y.at(9, "\"header:\"", "rate_limits.nohdr.key"), "\"header:\""),
                p(y.at(10, "global }", "rate_limits.global.scope"), "\"global\""),
                p(y.at(14, "\"http:", "rate_limit_store.redis.url"), "\"http://127.0.0.1:6379/0\""),
                p(y.at(15, "whenever", "rate_limit_store.redis.timeout"), "\"whenever\""),
                p(y.at(16, "shrug", "rate_limit_store.redis.on_error"), "\"shrug\""),
                p(y.at(19, "per-nobody", "rules[0].rate_limit"), "\"per-nobody\""),
                p(y.at(22, "ok", "rules[1].rate_limit"), "allow")});
    }

    /**
     * SPEC 3.9 "Every error, not just the first, as FILE:LINE:COLUMN: path.to.key: message": a limiter with three
     * independent bad fields gets three problems, each at its own key (key, limit, scope); a schedule with a start of
     * 24:00 (README: only `to` may be 24:00) and an unknown zone gets both, at schedule.from and schedule.timezone.
     */
    @Test
    void everyProblemOfOneLimiterOrScheduleIsReportedAtItsOwnKey() throws Exception {
        Yaml y = Yaml.write("every-field/policy.yaml",
                UPSTREAM,                                                                                  // 1
                "rate_limits:",                                                                            // 2
                "  a: { key: ip, limit: 0, per: 1s, scope: global }",                                      // 3
                "rules:",                                                                                  // 4
                "  - name: s",                                                                             // 5
                "    require: { schedule: { from: \"24:00\", to: \"06:00\", timezone: \"Mars/Olympus\" } }"); // 6

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(3, "ip", "rate_limits.a.key"), "\"ip\""),
                p(y.at(3, "0", "rate_limits.a.limit"), "0"),
                p(y.at(3, "global", "rate_limits.a.scope"), "\"global\""),
                p(y.at(6, "\"24:00\"", "rules[0].require.schedule.from"), "\"24:00\""),
                p(y.at(6, "\"Mars/Olympus\"", "rules[0].require.schedule.timezone"), "\"Mars/Olympus\"")});
    }

    /**
     * SPEC 3 identity / 3.5 / 3.9 with README "Identity": algorithms from the allow-list ("none" never), durations
     * and booleans, claim paths, exactly one key source per provider (none is an error), jwks_url an http(s) URL,
     * secret_env set in the environment, forwarded.trusted_proxies required, identity headers neither ones the
     * gateway reads or sets nor shared between upstream_headers and forwarded. Every problem of every provider.
     */
    @Test
    void identityBlocksAreChecked() throws Exception {
        Yaml y = Yaml.write("identity/policy.yaml",
                UPSTREAM,                                                       // 1
                "identity:",                                                    // 2
                "  jwt:",                                                       // 3
                "    - issuer: \"https://a.example/\"",                         // 4
                "      audience: [api]",                                        // 5
                "      algorithms: [none, RS999, ES256]",                       // 6
                "      public_key_file: \"a.pem\"",                             // 7
                "      clock_skew: forever",                                    // 8
                "      require_exp: sometimes",                                 // 9
                "      roles_claim: \"\"",                                      // 10
                "    - issuer: \"https://b.example/\"",                         // 11
                "      audience: [api]",                                        // 12
                "      algorithms: [RS256]",                                    // 13
                "    - issuer: \"https://c.example/\"",                         // 14
                "      audience: [api]",                                        // 15
                "      algorithms: [RS256]",                                    // 16
                "      jwks_url: \"ftp://c.example/jwks\"",                     // 17
                "      jwks_refresh: 0s",                                       // 18
                "  forwarded:",                                                 // 19
                "    user_header: \"X-Forwarded-User\"",                        // 20
                "    roles_header: \"Authorization\"",                          // 21
                "  upstream_headers: { subject: \"X-Auth-Subject\", roles: \"Host\" }", // 22
                "rules: []");                                                   // 23
        Files.writeString(dir.resolve("identity/a.pem"), "unused: the config has problems, so it is not opened\n");
        Yaml clash = Yaml.write("identity-clash/policy.yaml",
                UPSTREAM,                                                       // 1
                "identity:",                                                    // 2
                "  forwarded:",                                                 // 3
                "    trusted_proxies: [\"10.0.0.7/32\"]",                       // 4
                "    user_header: \"X-Auth-Subject\"",                          // 5
                "  upstream_headers: { subject: \"X-Auth-Subject\" }",          // 6
                "rules: []");                                                   // 7

        Result r = check(y.file);
        Result c = check(clash.file);

        assertProblems(r, y, new String[][] {
                p(y.at(6, "none", "identity.jwt[0].algorithms[0]"), "\"none\""),
                p(y.at(6, "RS999", "identity.jwt[0].algorithms[1]"), "\"RS999\""),
                p(y.at(8, "forever", "identity.jwt[0].clock_skew"), "\"forever\""),
                p(y.at(9, "sometimes", "identity.jwt[0].require_exp"), "sometimes"),
                p(y.at(10, "\"\"", "identity.jwt[0].roles_claim"), "\"\""),
                p(y.at(11, "issuer", "identity.jwt[1]"), "key source"),
                p(y.at(17, "\"ftp:", "identity.jwt[2].jwks_url"), "\"ftp://c.example/jwks\""),
                p(y.at(18, "0s", "identity.jwt[2].jwks_refresh"), "0s"),
                p(y.at(20, "user_header", "identity.forwarded.trusted_proxies"), "required"),
                p(y.at(21, "\"Authorization\"", "identity.forwarded.roles_header"), "\"Authorization\""),
                p(y.at(22, "\"Host\"", "identity.upstream_headers.roles"), "\"Host\"")});
        assertProblems(c, clash, new String[][] {
                p(clash.at(6, "\"X-Auth-Subject\"", "identity.upstream_headers.subject"), "\"X-Auth-Subject\"")});
    }

    /**
     * SPEC 3 "Unknown keys are errors" at every level (top, upstream, limits, admin, jwt, limiter, rule, schedule,
     * responses), wrong types (a scalar for a map or list, a list for a map), a key written twice, and the rule and
     * response fields' own ranges (SPEC 3.1: require only with allow, deny_status 403 | 404, mode enforce | audit;
     * responses: statuses of 3.6, exactly one body; listen host:port, admin never on the public port): all in one
     * file, every one reported (SPEC 3.9).
     */
    @Test
    void unknownKeysWrongTypesAndRuleFieldsAreAllReportedTogether() throws Exception {
        Files.createDirectories(dir.resolve("keys-types/errors"));
        Files.writeString(dir.resolve("keys-types/errors/403.html"), "<h1>no</h1>\n");
        Files.copy(configRoot.resolve("keys/jwks.json"), dir.resolve("keys-types/k.json"));
        Yaml y = Yaml.write("keys-types/policy.yaml",
                "listen: \"127.0.0.1:18080\"",                                                       // 1
                "admin: { listen: \"127.0.0.1:18080\", lsten: x }",                                  // 2
                "upstream: { url: \"http://127.0.0.1:3000\", urll: x }",                             // 3
                "limits: { max_uri_lenght: 1KiB }",                                                  // 4
                "clients: { trusted_proxies: \"10.0.0.0/8\" }",                                      // 5
                "identity: { jwt: { isuer: x, algorithms: [RS256], jwks_file: \"k.json\" } }",        // 6
                "rate_limits: { x: { key: subject, limit: 1, per: 1s, brust: 2 } }",                 // 7
                "geoip: [country.mmdb]",                                                             // 8
                "responses:",                                                                        // 9
                "  403: { body: x, body_file: \"errors/403.html\" }",                                // 10
                "  418: { body: teapot }",                                                           // 11
                "  429: { bdy: x }",                                                                 // 12
                "default: deny",                                                                     // 13
                "default: allow",                                                                    // 14
                "rules:",                                                                            // 15
                "  - name: a",                                                                       // 16
                "    requre: { authenticated: true }",                                               // 17
                "    match: { paths: [\"/a\"], schedule: { from: \"08:00\", to: \"09:00\", timezone: UTC,"
                        + " tz: UTC } }",                                                            // 18
                "  - name: b",                                                                       // 19
                "    action: deny",                                                                  // 20
                "    require: { authenticated: true }",                                              // 21
                "    deny_status: 401",                                                              // 22
                "    mode: dryrun",                                                                  // 23
                "  - name: c",                                                                       // 24
                "    match: \"/c\"",                                                                 // 25
                "  - \"d\"");                                                                        // 26

        Result r = check(y.file);

        assertProblems(r, y, new String[][] {
                p(y.at(2, "\"127.0.0.1:18080\"", "admin.listen"), "\"127.0.0.1:18080\""),
                p(y.at(2, "lsten", "admin.lsten"), "unknown key"),
                p(y.at(3, "urll", "upstream.urll"), "unknown key"),
                p(y.at(4, "max_uri_lenght", "limits.max_uri_lenght"), "unknown key"),
                p(y.at(5, "\"10.0.0.0/8\"", "clients.trusted_proxies"), "\"10.0.0.0/8\""),
                p(y.at(6, "isuer", "identity.jwt.isuer"), "unknown key"),
                p(y.at(7, "brust", "rate_limits.x.brust"), "unknown key"),
                p(y.at(8, "[country", "geoip"), "list"),
                p(y.at(10, "{", "responses.403"), "body_file"),
                p(y.at(11, "{", "responses.418"), "\"418\""),
                p(y.at(12, "{", "responses.429"), "body_file"),
                p(y.at(12, "bdy", "responses.429.bdy"), "unknown key"),
                p(y.at(14, "default", "default"), "\"default\""),
                p(y.at(17, "requre", "rules[0].requre"), "unknown key"),
                p(y.at(18, "tz", "rules[0].match.schedule.tz"), "unknown key"),
                p(y.at(21, "{", "rules[1].require"), "deny"),
                p(y.at(22, "401", "rules[1].deny_status"), "401"),
                p(y.at(23, "dryrun", "rules[1].mode"), "\"dryrun\""),
                p(y.at(25, "\"/c\"", "rules[2].match"), "\"/c\""),
                p(y.at(26, "\"d\"", "rules[3]"), "\"d\"")});
    }

    // --------------------------------------------------------------------------------- rejected reloads (3.8)

    /** The policy a reload starts from: /open allowed, 403 as an HTML page from a file, bodies up to 1KiB. */
    private static String reloadBase(String limits, String responses, String extraRule) {
        return LISTENERS + "upstream: { url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\" }\n"
                + "limits: { max_body_size: " + limits + " }\n"
                + "responses:\n"
                + "  403: { content_type: \"text/html; charset=utf-8\", body_file: \"" + responses + "\" }\n"
                + "default: deny\n"
                + "rules:\n"
                + "  - name: open\n"
                + "    match: { paths: [\"/open/**\"] }\n"
                + extraRule;
    }

    private static final String CLOSED_RULE = "  - name: closed\n    match: { paths: [\"/closed/**\"] }\n";

    /**
     * SPEC 3.8: a reload whose file has a bad value of section 3 (a size, a time zone, a missing body_file, a limiter
     * field) is rejected with located problems (SPEC 6: 422; 3.9), and the old config keeps serving whole: its rules
     * (/closed stays 403), its responses (the HTML page read from the old body_file) and its limits (1KiB bodies).
     * A valid file is then applied: new rules and, on new connections, the new body limit.
     */
    @Test
    void rejectedReloadsKeepTheOldRulesLimitsAndResponseBodiesServing() throws Exception {
        Path folder = dir.resolve("reload");
        Files.createDirectories(folder.resolve("errors"));
        String page = "<h1>Forbidden here</h1>\n";
        Files.writeString(folder.resolve("errors/403.html"), page);
        Path file = folder.resolve("policy.yaml");
        Files.writeString(file, harness.fill(reloadBase("1KiB", "errors/403.html", ""), Map.of()));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        String version = admin.config().path("version").asText();

        record Bad(String what, String yaml, String needle, String path) {
            /** ":LINE:COLUMN: path: " of the first line holding {@code needle}, at its first character. */
            String location() {
                List<String> lines = yaml.lines().toList();
                for (int i = 0; i < lines.size(); i++) {
                    int at = lines.get(i).indexOf(needle);
                    if (at >= 0) {
                        return ":" + (i + 1) + ":" + (at + 1) + ": " + path + ": ";
                    }
                }
                throw new IllegalArgumentException("no " + needle + " in " + yaml);
            }
        }
        List<Bad> bads = List.of(
                new Bad("a size that is not a size",
                        reloadBase("a lot", "errors/403.html", CLOSED_RULE), "a lot", "limits.max_body_size"),
                new Bad("an offset for a time zone",
                        reloadBase("4KiB", "errors/403.html", CLOSED_RULE
                                + "    require: { schedule: { from: \"00:00\", to: \"24:00\", timezone: \"UTC+1\" } }\n"),
                        "\"UTC+1\"", "rules[1].require.schedule.timezone"),
                new Bad("a body_file that does not exist",
                        reloadBase("4KiB", "errors/gone.html", CLOSED_RULE), "\"errors/gone.html\"",
                        "responses.403.body_file"),
                new Bad("a limiter whose per is not a duration",
                        reloadBase("4KiB", "errors/403.html", CLOSED_RULE + "    rate_limit: r\n")
                                + "rate_limits: { r: { key: client_ip, limit: 10, per: 10 } }\n",
                        "10 }", "rate_limits.r.per"));
        for (Bad bad : bads) {
            Files.writeString(file, harness.fill(bad.yaml(), Map.of()));
            ConfigAdmin.Answer answer = admin.reload();
            assertThat(answer.status()).as("reload of %s: %s", bad.what(), answer.body()).isEqualTo(422);
            List<String> problems = new ArrayList<>();
            answer.body().path("problems").forEach(n -> problems.add(n.asText()));
            assertThat(problems).as("problems of %s", bad.what()).hasSize(1)
                    .allSatisfy(pr -> assertThat(pr).startsWith(file.toString()).contains(bad.location()));

            HttpResponse<byte[]> closed = harness.get(gw, "/closed/x");
            assertThat(closed.statusCode()).as("old rules after %s", bad.what()).isEqualTo(403);
            assertThat(new String(closed.body(), StandardCharsets.UTF_8)).as("old 403 page after %s", bad.what())
                    .isEqualTo(page);
            assertThat(closed.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
            GatewayAssertions.assertGatewayError(exchange(gw, post(gw, "/open/big", 1025)), 413);
            assertThat(exchange(gw, post(gw, "/open/small", 1024)).status()).as("old limit after %s", bad.what())
                    .isEqualTo(200);
            JsonNode config = admin.config();
            assertThat(config.path("version").asText()).as("still the old file's version").isEqualTo(version);
        }

        String good = harness.fill(reloadBase("4KiB", "errors/403.html", CLOSED_RULE), Map.of());
        Files.writeString(file, good);
        ConfigAdmin.Answer applied = admin.reload();
        assertThat(applied.status()).as("%s", applied.body()).isEqualTo(200);
        assertThat(applied.body().path("version").asText()).isEqualTo(ConfigAdmin.version(good));
        assertThat(harness.get(gw, "/closed/x").statusCode()).isEqualTo(200);
        assertThat(exchange(gw, post(gw, "/open/bigger", 4096)).status()).as("new limit, new connection")
                .isEqualTo(200);
        GatewayAssertions.assertGatewayError(exchange(gw, post(gw, "/open/too-big", 4097)), 413);
    }

    /**
     * README "Shared rate limits": check refuses a password written into the Redis URL (it belongs in password_env);
     * README "Logs": secrets are never logged. The refusal, from check, from a rejected reload (422 and /config's
     * last_error) and in the gateway's log, names the problem without repeating the password.
     */
    @Test
    void aPasswordInTheRedisUrlIsRefusedWithoutBeingRepeated() throws Exception {
        String secret = "Hunter2-SpecConfig-Secret";
        String store = "rate_limit_store:\n  redis:\n    url: \"redis://:" + secret + "@127.0.0.1:6379/0\"\n";
        Yaml y = Yaml.write("redis-secret/policy.yaml", UPSTREAM, store.stripTrailing(), "rules: []");

        Result r = check(y.file);

        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.errLines()).as(r.all()).first().asString()
                .startsWith(y.file + ":4:10: rate_limit_store.redis.url: ");
        assertThat(r.err()).as("check names the problem, not the password").doesNotContain(secret);

        Path file = dir.resolve("redis-secret/running.yaml");
        String initial = harness.fill(LISTENERS + "upstream: { url: \"http://127.0.0.1:{{UPSTREAM_PORT}}\" }\n"
                + "default: allow\n", Map.of());
        Files.writeString(file, initial);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        LogCapture log = LogCapture.attach(org.slf4j.Logger.ROOT_LOGGER_NAME);
        try {
            Files.writeString(file, initial + store);
            ConfigAdmin.Answer answer = admin.reload();
            assertThat(answer.status()).isEqualTo(422);
            assertThat(answer.body().toString()).as("422 problems").contains("rate_limit_store.redis.url")
                    .doesNotContain(secret);
            assertThat(admin.config().path("last_error").toString()).as("/config last_error")
                    .contains("rate_limit_store.redis.url").doesNotContain(secret);
            assertThat(log.text()).as("the gateway's log").doesNotContain(secret);
        } finally {
            log.detach();
        }
        assertThat(harness.get(gw, "/still-serving").statusCode()).isEqualTo(200);
    }
}
