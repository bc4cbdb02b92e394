package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.LogCapture;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box checks of the less-trodden condition keys of the policy language (SPEC 3.2, 3.6, 3.9, 3.10; README "The
 * policy language", "Status codes", "Explaining and testing a policy"), written from the contract only: `referrers`
 * (spellings of one origin, look-alike origins, literal paths, repeated and very long values), `headers` (exact values,
 * presence, whitespace, repeated and re-spelled names), `hosts` (trailing dots, subdomain patterns), `methods`
 * (extension methods, non-tokens), `not`/`any` over missing inputs (deny on doubt), and `schedule` through
 * `portcullis test`/`explain` (window edges, offsets in `at`, DST gaps and overlaps in Europe/Berlin and America/New_York,
 * windows wrapping midnight) plus the config errors of all of these.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecPredicateEdgeCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @RegisterExtension
    final LogCapture access = LogCapture.eachTest("portcullis.access");

    @TempDir
    static Path dir;

    static Path countryDb;
    static Path jar;

    @BeforeAll
    static void setUp() throws Exception {
        countryDb = MmdbWriter.countries(Map.of("81.2.69.0/24", "GB"))
                .buildEpoch(Instant.parse("2025-06-01T12:00:00Z"))
                .write(dir.resolve("country.mmdb"));
        jar = Path.of("target", "portcullis.jar").toAbsolutePath();
        assertThat(jar).as("the packaged jar (mvn package runs before the ITs)").isRegularFile();
    }

    private static final String POLICY = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            clients:
              trusted_proxies: ["127.0.0.1/32"]
            geoip:
              database: "{{COUNTRY_DB}}"
            default: allow
            rules:
              - name: assets
                match: { paths: ["/assets/**"] }
                require: { referrers: ["https://app.example.com/**"] }
              - { name: wild, match: { paths: ["/wild/**"] }, require: { referrers: ["https://*.example.com/**"] } }
              - name: strict
                match: { paths: ["/strict/**"] }
                require: { referrers: ["https://app.example.com/app/**"] }
              - name: many-stars
                match: { paths: ["/stars/**"] }
                require: { referrers: ["https://app.example.com/**/a/**/b/**/c/**/d/**/z"] }
              - name: block-evil
                match: { paths: ["/blk/**"], referrers: ["https://evil.example/**"] }
                action: deny
              - name: not-evil
                match: { paths: ["/not-evil/**"] }
                require: { not: { referrers: ["https://evil.example/**"] } }
              - { name: need-referer, match: { paths: ["/need-ref/**"] }, require: { not: { referrers: [none] } } }
              - name: ref-or-key
                match: { paths: ["/ref-or-key/**"] }
                require: { any: [ { referrers: ["https://app.example.com/**"] }, { headers: { X-Key: [k1] } } ] }
              - { name: env, match: { paths: ["/env/**"] }, require: { headers: { X-Env: [prod] } } }
              - { name: key-present, match: { paths: ["/key/**"] }, require: { headers: { X-Key: [] } } }
              - { name: debug-deny, match: { paths: ["/dbg/**"], headers: { X-Debug: [] } }, action: deny }
              - { name: not-debug, match: { paths: ["/not-dbg/**"] }, require: { not: { headers: { X-Debug: [] } } } }
              - { name: known-country, match: { paths: ["/geo/**"] }, require: { not: { countries: [ZZ] } } }
              - { name: admin-host, match: { hosts: ["admin.example.com", "*.internal.example"] }, action: deny }
              - { name: sub-only, match: { paths: ["/sub/**"] }, require: { hosts: ["*.example.com"] } }
              - { name: no-delete, match: { methods: [DELETE, PURGE] }, action: deny }
              - { name: read-only, match: { paths: ["/ro/**"] }, require: { methods: [GET, HEAD] } }
            """;

    private static Probe probe() throws Exception {
        return new Probe(harness, harness.startYaml(dir, POLICY, Map.of("COUNTRY_DB", countryDb.toString())));
    }

    private JsonNode line(RawResponse r) throws Exception {
        return access.jsonLineFor(r.header("X-Request-Id").orElseThrow());
    }

    /** 403 decided by {@code rule}, whose logged reason contains {@code reason}. */
    private void denied(Probe p, String rule, String reason, String target, String... headers) throws Exception {
        JsonNode l = line(p.forbidden(target, headers));
        assertThat(l.path("rule").asText()).as("rule for %s %s", target, List.of(headers)).isEqualTo(rule);
        assertThat(l.path("decision").asText()).isEqualTo("deny");
        assertThat(l.path("reason").asText()).as("reason for %s %s", target, List.of(headers)).contains(reason);
    }

    /** 400 before any rule ran, with {@code reason} in the log, and nothing reaches the upstream. */
    private void refused(Probe p, String reason, String target, String... headers) throws Exception {
        JsonNode l = line(p.rejected(400, "GET", target, headers));
        assertThat(l.path("rule").isNull()).as("rule of a 400: %s", l).isTrue();
        assertThat(l.path("reason").asText()).as("reason for %s %s", target, List.of(headers)).isEqualTo(reason);
    }

    /** Never proxied: 400 or 403, and the upstream received nothing. */
    private static RawResponse notProxied(Probe p, String target, String... headers) throws Exception {
        int before = harness.upstream().headsReceived();
        RawResponse r = p.send("GET", target, headers);
        assertThat(r.status()).as("GET %s %s must be refused or denied; got%n%s", target, List.of(headers), r)
                .isIn(400, 403);
        harness.upstream().assertHeadsStayAt(before, Probe.QUIET);
        return r;
    }

    private static String ref(String value) {
        return "Referer: " + value;
    }

    // ============================================================== referrers

    /**
     * SPEC 3.2 referrers "the Referer (scheme://host/path, query ignored) matches a glob"; README: "A Referer that is
     * not an absolute http(s) URL (or has user info) matches nothing". Values whose origin a URL parser (RFC 3986 or a
     * browser's WHATWG parser) reads as another host, or cannot read at all, never satisfy an allow-list: user info
     * hidden behind a port, `\`, `#` and `?` before an `@` or a `.`, a port that overflows to 443, two ports, an encoded
     * `/` in the host, missing slashes, a space, comma-joined lists in either order, and the misspelled `Referrer`.
     */
    @Test
    void referrerAllowListsRefuseLookAlikeAndUnparsableOrigins() throws Exception {
        Probe p = probe();
        p.allowed("/assets/a.png", ref("https://app.example.com/page"));
        for (String bad : List.of(
                "https://app.example.com:443@evil.example/x", "https://evil.example\\@app.example.com/",
                "https://app.example.com\\@evil.example/", "https://evil.example#@app.example.com/",
                "https://evil.example?@app.example.com/", "https://evil.example#.app.example.com/",
                "https://app.example.com:65979/x", "https://app.example.com:443:443/x",
                "https://app.example.com%2fevil/x", "https://%61pp.example.com/x", "https:/app.example.com/x",
                "https:///app.example.com/x", "https://app.example.com/a b",
                "https://app.example.com/x, https://evil.example/", "https://evil.example/, https://app.example.com/x")) {
            denied(p, "assets", "matches none of", "/assets/a.png", ref(bad));
        }
        // `*` is one host label: a label that a browser ends at `\`, `#` or `?` is not a subdomain of example.com
        p.allowed("/wild/a.png", ref("https://cdn.example.com/x"));
        for (String bad : List.of("https://evil\\.example.com/", "https://evil#.example.com/",
                "https://evil?.example.com/", "https://evil%2f.example.com/", "https://.example.com/")) {
            denied(p, "wild", "matches none of", "/wild/a.png", ref(bad));
        }
        // the policy reads Referer only: a misspelled Referrer is no Referer at all
        denied(p, "assets", "absent", "/assets/a.png", "Referrer: https://app.example.com/page");
        denied(p, "need-referer", "none", "/need-ref/x", "Referrer: https://app.example.com/page");
        p.allowed("/not-evil/x", "Referrer: https://evil.example/x");
        // any: a missing Referer and a missing header are two failures, not an allow
        denied(p, "ref-or-key", "", "/ref-or-key/x");
        p.allowed("/ref-or-key/x", "X-Key: k1");
        p.allowed("/ref-or-key/x", ref("https://app.example.com/"));
    }

    /**
     * README: "scheme and host case-insensitive ... default ports ignored", "query and fragment ignored". An allow-list
     * and a deny-list must read one origin's spellings alike: each that the allow-list accepts for app.example.com the
     * deny-list (a deny rule's match, and a `not` in require) must catch for evil.example. Spellings README does not
     * name (a trailing dot, an empty or zero-padded default port, no path) are held to the deny side only: they must
     * never walk around a deny-list.
     */
    @Test
    void referrerSpellingsOfOneOriginAreReadAlikeByAllowAndDenyLists() throws Exception {
        Probe p = probe();
        List<String> both = List.of("https://%s/x", "HTTPS://%S/X", "https://%s:443/x", "https://%s/x?q=/other",
                "https://%s/x#/other", "hTTpS://%s/");
        List<String> denyOnly = List.of("https://%s./x", "https://%s.:443/x", "https://%s:/x", "https://%s:0443/x",
                "https://%s", "https://%s?q", "https://%s#f");
        for (String f : both) {
            String allowed = f.replace("%S", "APP.EXAMPLE.COM").replace("%s", "app.example.com");
            p.allowed("/assets/a.png", ref(allowed));
        }
        List<String> all = new ArrayList<>(both);
        all.addAll(denyOnly);
        for (String f : all) {
            String evil = f.replace("%S", "EVIL.EXAMPLE").replace("%s", "evil.example");
            denied(p, "block-evil", "evil.example", "/blk/x", ref(evil));
            denied(p, "not-evil", "evil.example", "/not-evil/x", ref(evil));
        }
        p.allowed("/blk/x", ref("https://good.example/x"));
        p.allowed("/not-evil/x");
    }

    /**
     * The referrer's path is compared as sent, never decoded or merged: an encoded letter, a doubled slash, encoded
     * slashes or backslashes never turn another page into one under /app/**; the part after `#` or `?` is not path.
     */
    @Test
    void referrerPathsAreMatchedLiterallyAndCaseSensitively() throws Exception {
        Probe p = probe();
        p.allowed("/strict/x", ref("https://app.example.com/app/page"));
        p.allowed("/strict/x", ref("https://app.example.com/app/x#/../../admin"));
        p.allowed("/strict/x", ref("https://app.example.com/app/x?/../../admin"));
        for (String bad : List.of("https://app.example.com/%61pp/x", "https://app.example.com//app/x",
                "https://app.example.com/app%2f..%2fadmin/x", "https://app.example.com/app\\..\\admin",
                "https://app.example.com/App/x", "https://app.example.com/admin#/app/x",
                "https://app.example.com/admin?/app/x")) {
            denied(p, "strict", "matches none of", "/strict/x", ref(bad));
        }
    }

    /**
     * README "Status codes": "a repeated header, in any spelling of its name ... that decides access: one a headers or
     * referrers condition of an enforcing rule reads" gets 400 ambiguous_header, also when the condition sits in a deny
     * rule's match or inside `not`, and whichever value comes first.
     */
    @Test
    void repeatedReferersAreRefusedWhereverAConditionReadsThem() throws Exception {
        Probe p = probe();
        for (String target : List.of("/assets/a.png", "/blk/x", "/not-evil/x", "/need-ref/x")) {
            refused(p, "ambiguous_header", target, ref("https://app.example.com/x"), ref("https://evil.example/"));
            refused(p, "ambiguous_header", target, ref("https://evil.example/"), "referer: https://app.example.com/x");
            refused(p, "ambiguous_header", target, ref("https://app.example.com/x"), "REFERER: https://app.example.com/x");
        }
    }

    /**
     * A Referer close to the header limit against a pattern of five `**` is decided at once (no backtracking blow-up),
     * both ways; one past `limits.max_header_size` gets 431 before any rule runs.
     */
    @Test
    void longReferrersAreDecidedPromptlyAndTheHeaderLimitStillApplies() throws Exception {
        Probe p = probe();
        String base = "https://app.example.com/" + "a/b/c/d/".repeat(1_500);
        long start = System.nanoTime();
        denied(p, "many-stars", "matches none of", "/stars/x", ref(base + "y"));
        p.allowed("/stars/x", ref(base + "z"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("two decisions over a 12 KB Referer")
                .isLessThan(Duration.ofSeconds(5));
        p.allowed("/assets/a.png", ref("https://app.example.com/" + "seg/".repeat(3_500)));
        JsonNode l = line(p.rejected(431, "GET", "/assets/a.png", ref("https://app.example.com/" + "x".repeat(20_000))));
        assertThat(l.path("rule").isNull()).as("%s", l).isTrue();
    }

    // ============================================================== headers

    /**
     * SPEC 3.2 headers: "present with one of the exact values". Optional whitespace around a value is not part of it
     * (RFC 9110 5.5) and the name is case-insensitive, with _ for - (README); anything else differs: case, quotes, a comma-joined list
     * holding the value, no-break space, an empty value, a folded line. Whitespace before the colon and control
     * characters are malformed (400), and no variant that is denied reaches the upstream.
     */
    @Test
    void headerValuesAreExactOnceOptionalWhitespaceIsRemoved() throws Exception {
        Probe p = probe();
        for (String ok : List.of("X-Env: prod", "X-Env:   prod   ", "X-Env:\tprod\t", "x-ENV: prod", "X-ENV:prod")) {
            RecordedRequest up = p.allowed("/env/x", ok);
            assertThat(up.headerValues("X-Env")).as("what the upstream read for %s", ok).containsExactly("prod");
        }
        for (String bad : List.of("X-Env: Prod", "X-Env: \"prod\"", "X-Env: prod, prod", "X-Env: staging, prod",
                "X-Env: prod,staging", "X-Env: prod\u00a0", "X-Env:", "X-Env: pro d", "XEnv: prod")) {
            denied(p, "env", "X-Env", "/env/x", bad);
        }
        // README: X_Env is a spelling of X-Env (as CGI-style upstreams read it); it is forwarded as sent
        assertThat(p.allowed("/env/x", "X_Env: prod").headerValues("X_Env")).containsExactly("prod");
        notProxied(p, "/env/x", "X-Env: staging\r\n prod");
        notProxied(p, "/env/x", "X-Env: prod\r\n staging");
        refused(p, "ambiguous_header", "/env/x", "X-Env: prod", "X_Env: staging");
        refused(p, "ambiguous_header", "/env/x", "X-Env: prod", "X-Env: prod");
        for (String malformed : List.of("X-Env : prod", "X-Env\t: prod", "X-Env: pro\u0000d", "X-Env: prod\u000b")) {
            p.rejected(400, "GET", "/env/x", malformed);
        }
    }

    /**
     * SPEC 3.2 headers `[]` = "present with any value": an empty value is present. A deny rule on presence fires for
     * it, a `not` over it fails, and an allow on presence holds; absence is the only way past the deny rule, and a
     * repeated header read only by a deny rule or a `not` is still ambiguous (400).
     */
    @Test
    void presenceMeansAnyValueIncludingEmptyAndRepeatsAreAmbiguous() throws Exception {
        Probe p = probe();
        for (String h : List.of("X-Debug: 1", "X-Debug:", "x-debug:   ", "X-DEBUG: false")) {
            denied(p, "debug-deny", "X-Debug", "/dbg/x", h);
            denied(p, "not-debug", "X-Debug", "/not-dbg/x", h);
        }
        p.allowed("/dbg/x");
        p.allowed("/not-dbg/x", "X-Debugging: 1");
        p.allowed("/key/x", "X-Key: anything");
        p.allowed("/key/x", "X-Key:");
        denied(p, "key-present", "absent", "/key/x");
        for (String target : List.of("/dbg/x", "/not-dbg/x")) {
            refused(p, "ambiguous_header", target, "X-Debug: 0", "X-Debug: 1");
            refused(p, "ambiguous_header", target, "X-Debug: 1", "x_debug: 1");
        }
    }

    /**
     * README: a header name matches in any case and with {@code _} for {@code -}, as CGI-style upstreams read it: a lone
     * {@code X_Debug: 1} trips {@code match: {headers: {X-Debug: []}}, action: deny} and its {@code not} twin.
     */
    @Test
    void anUnderscoreSpellingOfADeniedHeaderIsDenied() throws Exception {
        Probe p = probe();
        for (String target : List.of("/dbg/x", "/not-dbg/x")) {
            assertThat(p.forbidden(target, "X_Debug: 1").status()).isEqualTo(403);
            assertThat(p.forbidden(target, "x_DEBUG: 1").status()).isEqualTo(403);
        }
    }

    // ============================================================== hosts and methods

    /**
     * SPEC 3.2 hosts: "Host (port removed, case-insensitive)"; `*.example.com` "matches subdomains, not example.com".
     * A trailing dot (the same DNS name), any case, a port or an empty port never walk around a deny rule; any depth
     * of subdomain is one; an empty label is not a subdomain for an allow-list; hosts that are not one host get 400.
     */
    @Test
    void hostConditionsSeeEverySpellingOfADeniedHost() throws Exception {
        Probe p = probe();
        for (String host : List.of("admin.example.com", "admin.example.com.", "ADMIN.EXAMPLE.COM.:8080",
                "admin.example.com:", "admin.example.com.:", "admin.example.com:080", "x.internal.example",
                "a.b.internal.example", "X.Internal.Example.:1")) {
            denied(p, "admin-host", "host", "/open/x", "Host: " + host);
        }
        for (String host : List.of("internal.example", "xinternal.example", "admin.example.co", "admin-example.com")) {
            assertThat(p.allowed("/open/x", "Host: " + host).header("Host")).contains(host);
        }
        for (String host : List.of("admin%2eexample.com", "[admin.example.com]", "admin.example.com:65616",
                "admin.example.com, x", "admin.example.com:80:80")) {
            p.rejected(400, "GET", "/open/x", "Host: " + host);
        }
        p.allowed("/sub/x", "Host: a.example.com");
        p.allowed("/sub/x", "Host: A.B.EXAMPLE.COM.:443");
        for (String host : List.of("example.com", "example.com.", "a.example.com.evil", "aexample.com")) {
            denied(p, "sub-only", "host", "/sub/x", "Host: " + host);
        }
    }

    /** README 400 row: a Host with an empty label is not one host name (nginx: 400 invalid host). */
    @Test
    void aHostWithAnEmptyLabelIsRefused() throws Exception {
        Probe p = probe();
        p.rejected(400, "GET", "/open/x", "Host: admin.example.com..");
        p.rejected(400, "GET", "/open/x", "Host: x.internal.example..");
        p.rejected(400, "GET", "/sub/x", "Host: a..example.com");
        p.rejected(400, "GET", "/sub/x", "Host: .example.com");
    }

    /**
     * SPEC 3.2 methods / 3.6: extension methods are methods like any other (a deny rule names one, an allow-list
     * refuses the rest); README: a method is an upper-case token of A-Z, `-`, `_`, anything else gets 400 bad_method;
     * README "Proxying": method overrides are removed, so they never satisfy a methods condition.
     */
    @Test
    void methodConditionsSeeExtensionMethodsAndNeverTheOverrideHeaders() throws Exception {
        Probe p = probe();
        JsonNode purge = line(p.forbiddenAs("PURGE", "/x"));
        assertThat(purge.path("rule").asText()).isEqualTo("no-delete");
        for (String m : List.of("PROPFIND", "FOO-BAR", "M_X", "X", "PATCH", "OPTIONS", "DELETE", "PURGE")) {
            p.forbiddenAs(m, "/ro/x");
        }
        assertThat(p.allowedAs("BREW", "/open/x").method()).isEqualTo("BREW");
        for (String m : List.of("delete", "Delete", "PURGe", "GET1", "DELETE2", "G.ET")) {
            JsonNode l = line(p.rejected(400, m, "/ro/x"));
            assertThat(l.path("reason").asText()).as("reason for method %s", m).isEqualTo("bad_method");
        }
        p.forbiddenAs("POST", "/ro/x", "Content-Length: 0", "X-HTTP-Method-Override: GET");
        p.forbiddenAs("DELETE", "/open/x", "X-HTTP-Method: GET", "X_Method_Override: GET");
    }

    // ============================================================== not / any over missing inputs

    /**
     * Deny on doubt: `not` holds only where SPEC promises it. `not: {referrers: [none]}` needs a Referer;
     * `not: {countries: [ZZ]}` fails for a client without a known country (SPEC 3.2: unknown -> ZZ),
     * also when X-Forwarded-For names no usable address (the walk stops at the peer, SPEC 3.3).
     */
    @Test
    void missingInputsNeverTurnNotIntoAnAllow() throws Exception {
        Probe p = probe();
        denied(p, "need-referer", "none", "/need-ref/x");
        p.allowed("/need-ref/x", ref("https://app.example.com/"));
        p.allowed("/geo/x", "X-Forwarded-For: 81.2.69.160");
        for (String[] h : List.of(new String[0], new String[] {"X-Forwarded-For: unknown"},
                new String[] {"X-Forwarded-For: 10.1.2.3"}, new String[] {"X-Forwarded-For: 81.2.69.160, not-an-ip"},
                new String[] {"X-Forwarded-For: "}, new String[] {"Forwarded: for=_hidden"})) {
            JsonNode l = line(p.forbidden("/geo/x", h));
            assertThat(l.path("rule").asText()).as("rule for %s", List.of(h)).isEqualTo("known-country");
            assertThat(l.path("country").asText()).as("country for %s", List.of(h)).isEqualTo("ZZ");
        }
    }

    // ============================================================== schedule, offline (portcullis test / explain)

    /** Rule {@code name} decides /{@code name}/** and requires {@code condition}. */
    private static String rule(String name, String condition) {
        return "  - name: " + name + "\n    match: { paths: [\"/" + name + "/**\"] }\n    require: { " + condition + " }\n";
    }

    private static String window(String name, String days, String from, String to, String zone) {
        return rule(name, "schedule: { " + (days.isEmpty() ? "" : "days: [" + days + "], ") + "from: \"" + from
                + "\", to: \"" + to + "\", timezone: \"" + zone + "\" }");
    }

    private static final String SCHEDULE_POLICY = "upstream: { url: \"http://127.0.0.1:3000\" }\ndefault: deny\nrules:\n"
            + window("office", "mon, tue, wed, thu, fri", "08:00", "19:00", "Europe/Berlin")
            + window("saturday", "sat", "00:00", "24:00", "Europe/Berlin")
            + window("b-two", "", "02:00", "03:00", "Europe/Berlin")
            + window("b-half", "", "02:30", "03:30", "Europe/Berlin")
            + window("ny-two", "", "02:00", "03:00", "America/New_York")
            + window("ny-one", "", "01:00", "02:00", "America/New_York")
            + window("fri-night", "fri", "22:00", "06:00", "Europe/Berlin")
            + window("sat-night", "sat", "22:00", "06:00", "Europe/Berlin")
            + window("ny-night", "sat", "23:00", "03:00", "America/New_York")
            + window("fri-late", "fri", "22:00", "24:00", "Europe/Berlin")
            + rule("unquoted", "schedule: { from: 08:00, to: 19:00, timezone: UTC }") // YAML 1.1: 19:00 is 1140
            + rule("not-night", "not: { schedule: { from: \"22:00\", to: \"06:00\", timezone: \"UTC\" } }");

    record Cli(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "\n[stdout]\n" + out + "[stderr]\n" + err;
        }
    }

    /** Runs the packaged jar with {@code args} (env additions in {@code env}), bounded to 30 s. */
    private static Cli cli(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder b = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        b.environment().putAll(env);
        Process process = b.start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            fail("portcullis %s did not exit within 30 s", String.join(" ", args));
        }
        Cli r = new Cli(process.exitValue(), Files.readString(out), Files.readString(err));
        assertThat(r.out() + r.err()).as(r.all()).doesNotContain("Exception").doesNotContainPattern("(?m)^\\s+at \\S+\\(");
        return r;
    }

    /** One case of SPEC 3.10: GET /{rule}/x at {@code at}, expected {@code status} decided by {@code rule}. */
    private static String c(String name, String rule, String at, int status) {
        return String.format(Locale.ROOT, "  - { name: %s, request: { path: /%s/x, at: \"%s\" }, expect: { status: %d, rule: %s } }",
                name, rule, at, status, rule);
    }

    /** Runs {@code portcullis test} on SCHEDULE_POLICY and {@code cases}; every case must pass. */
    private static void allPass(String file, String... cases) throws Exception {
        Path policy = dir.resolve("schedule-policy.yaml");
        Files.writeString(policy, SCHEDULE_POLICY);
        Path casesFile = dir.resolve(file);
        Files.writeString(casesFile, "cases:\n" + String.join("\n", cases) + "\n");
        Cli r = cli(Map.of(), "test", "-c", policy.toString(), casesFile.toString());
        assertThat(r.out().lines().filter(l -> l.startsWith("FAIL")).toList()).as(r.all()).isEmpty();
        assertThat(r.out()).as(r.all()).endsWith(cases.length + " passed, 0 failed\n");
        assertThat(r.exit()).as(r.all()).isZero();
    }

    /**
     * SPEC 3.2 schedule: "now, in that zone, is one of the days and in [from, to)". `from` is in, `to` is out, to the
     * second; the instant of `at` counts, not its offset's wall clock or date (an offset of +14:00 on Saturday that is
     * Friday in Berlin is Friday; a +05:45 offset is honoured to the minute); unquoted YAML times read as written.
     */
    @Test
    void scheduleWindowsAreHalfOpenAndReadInTheRulesZoneWhateverTheOffsetOfAt() throws Exception {
        allPass("edges.yaml",
                c("at-from", "office", "2026-03-13T08:00:00+01:00", 200),
                c("before-from", "office", "2026-03-13T07:59:59+01:00", 403),
                c("last-second", "office", "2026-03-13T18:59:59+01:00", 200),
                c("last-millisecond", "office", "2026-03-13T18:59:59.999+01:00", 200),
                c("at-to", "office", "2026-03-13T19:00:00+01:00", 403),
                c("at-to-in-utc", "office", "2026-03-13T18:00:00Z", 403),
                c("saturday-offset-friday-berlin", "office", "2026-03-14T02:00:00+09:00", 200),
                c("friday-offset-saturday-berlin", "office", "2026-03-13T23:30:00-10:00", 403),
                c("plus14-saturday-is-friday", "saturday", "2026-03-14T08:00:00+14:00", 403),
                c("minus5-friday-is-saturday", "saturday", "2026-03-13T23:30:00-05:00", 200),
                c("kathmandu-one-second-early", "saturday", "2026-03-14T04:44:59+05:45", 403),
                c("kathmandu-midnight-berlin", "saturday", "2026-03-14T04:45:00+05:45", 200),
                c("unquoted-in", "unquoted", "2026-03-13T18:59:00Z", 200),
                c("unquoted-out", "unquoted", "2026-03-13T19:00:00Z", 403),
                c("unquoted-not-sexagesimal", "unquoted", "2026-03-13T07:00:00Z", 403));
    }

    /**
     * README: "At spring-forward a window inside the skipped hour does not happen; at fall-back the repeated hour
     * counts twice." Europe/Berlin (2026-03-29 01:00Z, 2026-10-25 01:00Z) and America/New_York (2026-03-08 07:00Z,
     * 2026-11-01 06:00Z); a window half inside the gap holds for its existing half; `explain --at` agrees.
     */
    @Test
    void scheduleWindowsAcrossDaylightSavingGapsAndOverlaps() throws Exception {
        allPass("dst.yaml",
                c("b-day-before", "b-two", "2026-03-28T01:30:00Z", 200),
                c("b-last-cet-second", "b-two", "2026-03-29T00:59:59Z", 403),
                c("b-first-cest-second", "b-two", "2026-03-29T01:00:00Z", 403),
                c("b-gap-spelled-as-cet", "b-two", "2026-03-29T02:30:00+01:00", 403),
                c("b-half-existing-part", "b-half", "2026-03-29T01:15:00Z", 200),
                c("b-half-end", "b-half", "2026-03-29T01:30:00Z", 403),
                c("b-half-before-gap", "b-half", "2026-03-29T00:59:00Z", 403),
                c("b-fall-0159-cest", "b-two", "2026-10-24T23:59:59Z", 403),
                c("b-fall-0200-cest", "b-two", "2026-10-25T00:00:00Z", 200),
                c("b-fall-0259-cest", "b-two", "2026-10-25T00:59:59Z", 200),
                c("b-fall-0200-cet", "b-two", "2026-10-25T01:00:00Z", 200),
                c("b-fall-0259-cet", "b-two", "2026-10-25T01:59:59Z", 200),
                c("b-fall-0300-cet", "b-two", "2026-10-25T02:00:00Z", 403),
                c("ny-day-before", "ny-two", "2026-03-07T07:30:00Z", 200),
                c("ny-last-est-second", "ny-two", "2026-03-08T06:59:59Z", 403),
                c("ny-first-edt-second", "ny-two", "2026-03-08T07:00:00Z", 403),
                c("ny-gap-spelled-as-est", "ny-two", "2026-03-08T02:30:00-05:00", 403),
                c("ny-fall-0059-edt", "ny-one", "2026-11-01T04:59:59Z", 403),
                c("ny-fall-0100-edt", "ny-one", "2026-11-01T05:00:00Z", 200),
                c("ny-fall-0100-est", "ny-one", "2026-11-01T06:00:00Z", 200),
                c("ny-fall-0159-est", "ny-one", "2026-11-01T06:59:59Z", 200),
                c("ny-fall-0200-est", "ny-one", "2026-11-01T07:00:00Z", 403));

        Path policy = dir.resolve("schedule-policy.yaml");
        Cli repeated = cli(Map.of(), "explain", "-c", policy.toString(), "--method", "GET", "--path", "/b-two/x",
                "--at", "2026-10-25T02:30:00+01:00");
        assertThat(repeated.exit()).as(repeated.all()).isZero();
        assertThat(repeated.out()).as(repeated.all()).contains("time      2026-10-25T01:30:00Z")
                .containsPattern("(?m)^decision\\s+200 proxied, rule b-two");
        Cli gap = cli(Map.of(), "explain", "-c", policy.toString(), "--method", "GET", "--path", "/b-two/x",
                "--at", "2026-03-29T02:30:00+01:00");
        assertThat(gap.exit()).as(gap.all()).isZero();
        assertThat(gap.out()).as(gap.all()).contains("03:30 Europe/Berlin").containsPattern("(?m)^decision\\s+403");
    }

    /**
     * SPEC 3.2 "from > to wraps midnight"; README: "the window belongs to the day it starts on (fri 22:00-06:00 holds
     * on Saturday 03:00, not on Friday 03:00)", and `to` may be 24:00. Also across a DST change inside the night, and
     * under `not` (the complement of a wrapped window is the day, edges included the other way round).
     */
    @Test
    void windowsWrappingMidnightBelongToTheDayTheyStartOn() throws Exception {
        allPass("wrap.yaml",
                c("fri-2159", "fri-night", "2026-03-13T20:59:59Z", 403),
                c("fri-2200", "fri-night", "2026-03-13T21:00:00Z", 200),
                c("sat-0000", "fri-night", "2026-03-13T23:00:00Z", 200),
                c("sat-0300", "fri-night", "2026-03-14T02:00:00Z", 200),
                c("sat-0559", "fri-night", "2026-03-14T04:59:59Z", 200),
                c("sat-0600", "fri-night", "2026-03-14T05:00:00Z", 403),
                c("fri-0300-is-thursdays", "fri-night", "2026-03-13T02:00:00Z", 403),
                c("sat-2300-is-saturdays", "fri-night", "2026-03-14T22:00:00Z", 403),
                c("sun-0300", "fri-night", "2026-03-15T02:00:00Z", 403),
                c("spring-sat-2330-cet", "sat-night", "2026-03-28T22:30:00Z", 200),
                c("spring-sun-0130-cet", "sat-night", "2026-03-29T00:30:00Z", 200),
                c("spring-sun-0559-cest", "sat-night", "2026-03-29T03:59:59Z", 200),
                c("spring-sun-0600-cest", "sat-night", "2026-03-29T04:00:00Z", 403),
                c("fall-sun-0559-cet", "sat-night", "2026-10-25T04:59:59Z", 200),
                c("fall-sun-0600-cet", "sat-night", "2026-10-25T05:00:00Z", 403),
                c("ny-sat-2259", "ny-night", "2026-03-08T03:59:59Z", 403),
                c("ny-sat-2300", "ny-night", "2026-03-08T04:00:00Z", 200),
                c("ny-sun-0159-est", "ny-night", "2026-03-08T06:59:59Z", 200),
                c("ny-sun-0300-edt", "ny-night", "2026-03-08T07:00:00Z", 403),
                c("late-2359", "fri-late", "2026-03-13T22:59:59Z", 200),
                c("late-sat-0000", "fri-late", "2026-03-13T23:00:00Z", 403),
                c("not-0300", "not-night", "2026-03-13T03:00:00Z", 403),
                c("not-0559", "not-night", "2026-03-13T05:59:59Z", 403),
                c("not-0600", "not-night", "2026-03-13T06:00:00Z", 200),
                c("not-2159", "not-night", "2026-03-13T21:59:59Z", 200),
                c("not-2200", "not-night", "2026-03-13T22:00:00Z", 403));
    }

    /**
     * SPEC 3.10 `at` is an ISO-8601 time; README: "with offset". A local time without one would be read in the
     * machine's zone, so it must be refused (here with TZ=Pacific/Kiritimati, +14:00), as must impossible dates and
     * times, each as a located problem (SPEC 3.9 style), exit 1, no case run, no stack trace.
     */
    @Test
    void testCasesRefuseTimesWithoutAnOffsetOrThatDoNotExist() throws Exception {
        Path policy = dir.resolve("schedule-policy.yaml");
        Files.writeString(policy, SCHEDULE_POLICY);
        Path cases = dir.resolve("no-offset.yaml");
        Files.writeString(cases, "cases:\n" + String.join("\n",
                c("local", "office", "2026-03-13T17:30:00", 200),
                c("feb-30", "office", "2026-02-30T10:00:00Z", 200),
                c("hour-24", "office", "2026-03-13T24:30:00Z", 200),
                c("date-only", "office", "2026-03-13", 200),
                c("zone-id", "office", "2026-03-13T10:00:00+01:00[Europe/Berlin]", 200)) + "\n");
        Cli r = cli(Map.of("TZ", "Pacific/Kiritimati"), "test", "-c", policy.toString(), cases.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).as(r.all()).doesNotContain("PASS").doesNotContain("FAIL");
        for (int i = 0; i < 5; i++) {
            assertThat(r.err()).as(r.all()).containsPattern("(?m)^" + cases + ":" + (i + 2) + ":\\d+: cases\\[" + i
                    + "]\\.request\\.at: ");
        }
        assertThat(r.err()).as(r.all()).contains("5 problems in " + cases);
    }

    /**
     * SPEC 3.9: mistakes in these keys are config errors, every one located as FILE:LINE:COLUMN: path: message, never
     * a stack trace and never a rule that silently means something else: an empty window (from = to), empty lists
     * (days, any, all, referrers, hosts) that would match nothing or everything, `not` over a list, a header without a
     * value list or with a name that is not a token, a referrer pattern without a scheme, a method that is not an
     * upper-case token, a host pattern with a port, and time zones / times / days README refuses.
     */
    @Test
    void predicateMistakesAreLocatedConfigErrors() throws Exception {
        String[][] rules = {
                {"schedule: { from: \"08:00\", to: \"08:00\", timezone: \"UTC\" }", "require.schedule", "08:00"},
                {"schedule: { days: [], from: \"00:00\", to: \"24:00\", timezone: \"UTC\" }", "require.schedule.days", ""},
                {"any: []", "require.any", ""},
                {"all: []", "require.all", ""},
                {"not: [ { methods: [GET] } ]", "require.not", ""},
                {"referrers: []", "require.referrers", ""},
                {"hosts: []", "require.hosts", ""},
                {"headers: { X-A: }", "require.headers.X-A", ""},
                {"headers: { \"X A\": [] }", "require.headers.X A", "\"X A\""},
                {"referrers: [\"app.example.com/**\"]", "require.referrers[0]", "\"app.example.com/**\""},
                {"methods: [get]", "require.methods[0]", "\"get\""},
                {"methods: [\"G ET\"]", "require.methods[0]", "\"G ET\""},
                {"hosts: [\"a.example.com:8080\"]", "require.hosts[0]", "\"a.example.com:8080\""},
                {"schedule: { from: \"08:00\", to: \"09:00\", timezone: \"\" }", "require.schedule.timezone", "\"\""},
                {"schedule: { from: \"08:00\", to: \"09:00\", timezone: \"europe/berlin\" }", "require.schedule.timezone",
                        "\"europe/berlin\""},
                {"schedule: { from: \"08:00\", to: \"09:00\", timezone: \"Etc/GMT-2\" }", "require.schedule.timezone",
                        "\"Etc/GMT-2\""},
                {"schedule: { from: \"08:00:00\", to: \"09:00\", timezone: \"UTC\" }", "require.schedule.from", "\"08:00:00\""},
                {"schedule: { days: \"mon\", from: \"08:00\", to: \"09:00\", timezone: \"UTC\" }", "require.schedule.days",
                        "\"mon\""},
                {"schedule: { days: [MON], from: \"08:00\", to: \"09:00\", timezone: \"UTC\" }", "require.schedule.days[0]",
                        "\"MON\""}};
        StringBuilder yaml = new StringBuilder("upstream: { url: \"http://127.0.0.1:3000\" }\ndefault: deny\nrules:\n");
        for (int i = 0; i < rules.length; i++) {
            yaml.append("  - name: r").append(i).append('\n')
                    .append("    require: { ").append(rules[i][0]).append(" }\n");
        }
        Path file = dir.resolve("mistakes.yaml");
        Files.writeString(file, yaml.toString());
        Cli r = cli(Map.of(), "check", "-c", file.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).as(r.all()).doesNotContain("OK");
        List<String> lines = r.err().lines().toList();
        for (int i = 0; i < rules.length; i++) {
            String prefix = file + ":" + (2 * i + 5) + ":";
            String path = " rules[" + i + "]." + rules[i][1] + ": ";
            String value = rules[i][2];
            assertThat(lines).as("a located problem for `%s`%n%s", rules[i][0], r.all())
                    .anySatisfy(l -> assertThat(l).startsWith(prefix).contains(path).contains(value));
        }
        assertThat(lines).as(r.all()).last().isEqualTo(rules.length + " problems in " + file);
    }
}
