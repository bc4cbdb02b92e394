package dev.portcullis.server.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.portcullis.server.it.support.GatewayAssertions;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays every case of the AWS http-desync-guardian corpus ({@code shared/corpora/http-desync-guardian},
 * see its README in {@code shared/corpora}) against the real gateway over raw sockets, and checks the tier
 * rules of the corpora README with SPEC 3.4 / 3.6:
 *
 * <ul>
 *   <li>severe.yaml, bad-header-characters.yaml, ambiguous.yaml: 400, the connection closed, and nothing
 *       reaches the upstream;
 *   <li>acceptable.yaml, rfc-compliant.yaml, more-compliant-tests.yaml: proxied (the upstream receives
 *       exactly one request, framed by a single Content-Length or by chunked, never both, with the body
 *       that was sent), or a protocol answer that the SPEC explains for that request (see
 *       {@link #specReasonsFor400});
 *   <li>edge-cases.yaml, real-life-test-cases.yaml, uri-specific-test-cases.yaml: per case, by its
 *       {@code expected.tier} (Severe/Ambiguous as the first row, Acceptable/Compliant as the second).
 * </ul>
 *
 * <p>The corpus is not part of the project: it is looked up in the system property
 * {@code portcullis.corpus.dir}, then next to the repository ({@code ../../shared/...} from this module,
 * {@code ../shared/...} from the repository root); when it is absent the test is skipped by an assumption
 * whose message names those places. The project's own cases for these classes live in ProtocolIT and
 * PathNormalizationIT.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DesyncCorpusIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    static final String CORPUS_PROPERTY = "portcullis.corpus.dir";
    private static final String CORPUS_RELATIVE = "shared/corpora/http-desync-guardian";
    private static final String SCENARIO = "corpus.yaml";
    private static final String HOST = "corpus.test";

    /** Bound on every read of the gateway's answer. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);
    /** How long a connection gets to close after a 400. */
    private static final Duration CLOSE_WITHIN = Duration.ofSeconds(3);
    /** How long the upstream must stay quiet (or stay at one request) after the answer. */
    private static final Duration QUIET = Duration.ofMillis(300);

    /** The files whose every case must be rejected, whatever the case's own tier says. */
    private static final List<String> REJECT_FILES =
            List.of("severe.yaml", "bad-header-characters.yaml", "ambiguous.yaml");
    /** The files whose every case must be proxied (or answered as the SPEC explains). */
    private static final List<String> PROXY_FILES =
            List.of("acceptable.yaml", "rfc-compliant.yaml", "more-compliant-tests.yaml");
    /** The files whose cases are judged one by one, by expected.tier. */
    private static final List<String> PER_CASE_FILES =
            List.of("edge-cases.yaml", "real-life-test-cases.yaml", "uri-specific-test-cases.yaml");

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,18}");
    private static final Pattern PERCENT = Pattern.compile("%(..)?");
    private static final byte[] CHUNKED_BODY = "5\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    private static final int CHUNKED_BODY_DECODED = 5;

    /** What the tier rules demand of a case. */
    enum Expectation {
        /** 400, connection closed, nothing reaches the upstream. */
        REJECT,
        /** Proxied with clean framing, or a protocol answer the SPEC explains. */
        PROXY
    }

    /** One header of a case, as written in the corpus. */
    record Field(String name, String value) {}

    /** One corpus case. */
    record CorpusCase(String file, int index, String name, String method, String uri, String version,
            List<Field> headers, String tier) {

        Expectation expectation() {
            if (REJECT_FILES.contains(file)) {
                return Expectation.REJECT;
            }
            if (PROXY_FILES.contains(file)) {
                return Expectation.PROXY;
            }
            return switch (tier.toLowerCase(Locale.ROOT)) {
                case "severe", "ambiguous" -> Expectation.REJECT;
                case "acceptable", "compliant" -> Expectation.PROXY;
                default -> throw new IllegalStateException(file + " [" + index + "]: unknown expected.tier " + tier);
            };
        }

        String id() {
            return file + " [" + index + "] " + printable(name);
        }

        @Override
        public String toString() {
            return id();
        }
    }

    /** The bytes of one request, and what the body is. */
    record Request(byte[] head, byte[] body, long decodedBodyLength, String bodyKind) {

        String describe() {
            String shownBody;
            if (body.length == 0) {
                shownBody = "";
            } else if (bodyKind.equals("chunked")) {
                shownBody = printable(new String(body, StandardCharsets.ISO_8859_1));
            } else {
                shownBody = "<" + body.length + " bytes 'x'>";
            }
            return "\"" + printable(new String(head, StandardCharsets.ISO_8859_1)) + shownBody + "\" (body: "
                    + bodyKind + ")";
        }
    }

    /** What happened on the client connection; {@code after}: what the connection did after a 400. */
    record Outcome(RawResponse response, String failure, RawHttp.State after, boolean head) {}

    /**
     * One invocation per corpus case; when the corpus is absent, one invocation without a case, which the
     * test skips with an assumption naming the places looked in (so the skip shows in the reports).
     */
    static Stream<Arguments> corpus() throws IOException {
        Optional<Path> dir = locateCorpus();
        if (dir.isEmpty()) {
            return Stream.of(Arguments.of("http-desync-guardian corpus absent", null));
        }
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<Arguments> cases = new ArrayList<>();
        List<String> files = new ArrayList<>();
        files.addAll(REJECT_FILES);
        files.addAll(PROXY_FILES);
        files.addAll(PER_CASE_FILES);
        for (String file : files) {
            Path p = dir.get().resolve(file);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("the corpus at " + dir.get() + " lacks " + file);
            }
            JsonNode root = yaml.readTree(p.toFile());
            if (root == null || !root.isArray()) {
                throw new IllegalStateException(p + " is not a YAML list");
            }
            int index = 0;
            for (JsonNode c : root) {
                List<Field> headers = new ArrayList<>();
                for (JsonNode h : c.path("headers")) {
                    headers.add(new Field(text(h.get("name")), text(h.get("value"))));
                }
                CorpusCase cc = new CorpusCase(file, index++, text(c.get("name")), text(c.get("method")),
                        text(c.get("uri")), text(c.get("version")), List.copyOf(headers),
                        text(c.path("expected").get("tier")));
                cc.expectation(); // fails loading on an unknown tier rather than skipping a case silently
                cases.add(Arguments.of(cc.id(), cc));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void replaysTheCase(String id, CorpusCase c) throws Exception {
        assumeTrue(c != null, DesyncCorpusIT::absentMessage);
        Gateway gw = harness.start(SCENARIO);
        Request req = build(c);
        Outcome out = exchange(gw, c, req);

        List<String> violations = c.expectation() == Expectation.REJECT
                ? checkRejected(c, out, harness.upstream())
                : checkProxiedOrExplained(c, req, out, harness.upstream());

        System.out.println("[corpus] " + c.id() + " (" + c.expectation() + "): "
                + (out.response() == null ? "no answer" : out.response().statusLine())
                + (harness.upstream().headsReceived() > 0 ? ", proxied" : ", upstream received nothing")
                + (violations.isEmpty() ? "" : ", " + violations.size() + " violation(s)"));
        if (!violations.isEmpty()) {
            throw new AssertionError(report(c, req, out, violations));
        }
    }

    // ---- the checks ----

    private static List<String> checkRejected(CorpusCase c, Outcome out, UpstreamServer upstream) {
        List<String> v = new ArrayList<>();
        expect400AndClose(out, v);
        upstreamReceivedNothing(upstream, v);
        return v;
    }

    private static List<String> checkProxiedOrExplained(CorpusCase c, Request req, Outcome out,
            UpstreamServer upstream) {
        List<String> v = new ArrayList<>();
        RawResponse r = out.response();
        if (r == null) {
            v.add("no answer: " + out.failure());
            return v;
        }
        if (r.status() == 400 || r.status() == 505) {
            List<String> reasons = specReasonsFor400(c);
            boolean versionAnswer = r.status() == 505 && reasons.stream().anyMatch(s -> s.startsWith("version"));
            if (reasons.isEmpty() || (r.status() == 505 && !versionAnswer)) {
                v.add("answered " + r.status() + " to a request the tier rules want proxied, and the SPEC gives "
                        + "no reason to refuse it");
            }
            if (r.status() == 400) {
                expect400AndClose(out, v);
            }
            upstreamReceivedNothing(upstream, v);
            return v;
        }
        if (r.status() != 200 || !r.header("X-Echo-Method").isPresent()) {
            v.add("expected the upstream's 200 (proxied) or a protocol answer the SPEC explains, got status "
                    + r.status() + (r.header("X-Echo-Method").isPresent() ? "" : " not from the upstream"));
        }
        List<RecordedRequest> got;
        try {
            got = upstream.awaitRequests(1, Duration.ofSeconds(5));
            upstream.assertHeadsStayAt(1, QUIET);
            got = upstream.requests();
        } catch (AssertionError e) {
            v.add("the upstream did not receive exactly one request: " + e.getMessage());
            return v;
        }
        if (got.size() != 1) {
            v.add("the upstream received " + got.size() + " requests, expected exactly one: " + got);
            return v;
        }
        RecordedRequest rec = got.get(0);
        List<String> cl = rec.headerValues("Content-Length");
        List<String> te = rec.headerValues("Transfer-Encoding");
        if (cl.size() > 1) {
            v.add("the upstream received " + cl.size() + " Content-Length headers: " + cl);
        }
        if (cl.size() == 1 && !DIGITS.matcher(cl.get(0)).matches()) {
            v.add("the upstream received an invalid Content-Length: " + printable(cl.get(0)));
        }
        if (!cl.isEmpty() && !te.isEmpty()) {
            v.add("the upstream received both Content-Length " + cl + " and Transfer-Encoding " + te);
        }
        if (!te.isEmpty() && !rec.chunked()) {
            v.add("the upstream received a Transfer-Encoding without a final chunked: " + te);
        }
        if (!te.isEmpty() && !lastCodingIsChunked(String.join(",", te))) {
            v.add("the upstream's Transfer-Encoding does not end in chunked: " + te);
        }
        for (var h : rec.headers()) {
            if (!TOKEN.matcher(h.name()).matches()) {
                v.add("the upstream received a header whose name is not a token: \"" + printable(h.name()) + "\"");
            }
        }
        if (rec.bodyLength() != req.decodedBodyLength()) {
            v.add("the upstream received a body of " + rec.bodyLength() + " bytes, the client sent "
                    + req.decodedBodyLength());
        }
        if (!rec.method().equals(c.method())) {
            v.add("the upstream received method " + printable(rec.method()) + ", the client sent "
                    + printable(c.method()));
        }
        return v;
    }

    private static void expect400AndClose(Outcome out, List<String> v) {
        RawResponse r = out.response();
        if (r == null) {
            v.add("expected 400 and a closed connection, got no answer: " + out.failure());
            return;
        }
        if (r.status() != 400) {
            v.add("expected 400, got " + r.status());
            return;
        }
        if (out.head()) {
            // an answer to HEAD has no body (RFC 9110 9.3.2): check the head of the gateway-made error only
            if (!r.header("Content-Type").orElse("").contains("application/json")
                    || r.header("X-Request-Id").orElse("").isBlank() || r.hasHeader("Server")) {
                v.add("the 400 is not a SPEC 3.6 gateway-made error (JSON Content-Type, X-Request-Id, no Server)");
            }
        } else {
            try {
                GatewayAssertions.assertGatewayError(r, 400);
            } catch (AssertionError e) {
                v.add("the 400 is not a SPEC 3.6 gateway-made error: " + e.getMessage());
            }
        }
        if (out.after() == RawHttp.State.DATA) {
            v.add("more bytes followed the 400" + (out.head() ? " (a body on an answer to HEAD?)" : "")
                    + " instead of the connection closing (SPEC 3.6: closed)");
        } else if (out.after() != RawHttp.State.CLOSED) {
            v.add("the connection stayed open " + CLOSE_WITHIN.toMillis() + " ms after the 400 (SPEC 3.6: closed)");
        }
    }

    private static void upstreamReceivedNothing(UpstreamServer upstream, List<String> v) {
        try {
            upstream.assertReceivedNothing(QUIET);
        } catch (AssertionError e) {
            v.add("the upstream must receive nothing: " + e.getMessage());
        }
    }

    /**
     * The reasons the SPEC gives for answering this request with 400 (or, for the version, 505) even though
     * its corpus tier wants it proxied; empty when a refusal has no SPEC ground. Each reason names the rule.
     */
    static List<String> specReasonsFor400(CorpusCase c) {
        List<String> reasons = new ArrayList<>();
        if (!c.version().equals("HTTP/1.1") && !c.version().equals("HTTP/1.0")) {
            reasons.add("version \"" + printable(c.version()) + "\" is not HTTP/1.0 or HTTP/1.1 (malformed HTTP, 3.6)");
        }
        if (!TOKEN.matcher(c.method()).matches()) {
            reasons.add("method is not a token (malformed HTTP, 3.6)");
        }
        reasons.addAll(targetReasons(c.uri()));
        for (Field f : c.headers()) {
            if (!TOKEN.matcher(f.name()).matches()) {
                reasons.add("header name \"" + printable(f.name()) + "\" is not a token (malformed HTTP, 3.6)");
            }
            if (hasControl(f.value())) {
                reasons.add("header \"" + printable(f.name()) + "\" has a control character in its value "
                        + "(malformed HTTP, 3.6)");
            }
        }
        List<String> te = c.headers().stream()
                .filter(f -> f.name().equalsIgnoreCase("Transfer-Encoding"))
                .map(Field::value)
                .toList();
        if (!te.isEmpty()) {
            String problem = transferEncodingProblem(String.join(",", te));
            if (problem != null) {
                reasons.add("Transfer-Encoding \"" + printable(String.join(", ", te)) + "\": " + problem
                        + " (3.6: Transfer-Encoding other than a final chunked)");
            }
        }
        return reasons;
    }

    /** SPEC 3.4 reasons to refuse a request target. */
    private static List<String> targetReasons(String target) {
        List<String> reasons = new ArrayList<>();
        if (target.isEmpty() || target.charAt(0) != '/') {
            reasons.add("target \"" + printable(target) + "\" is not origin-form (3.4)");
            return reasons;
        }
        for (int i = 0; i < target.length(); i++) {
            char ch = target.charAt(i);
            if (ch == '\\' || ch == '#' || ch == ' ' || ch < 0x20 || ch >= 0x7f) {
                reasons.add("target has " + printable(String.valueOf(ch))
                        + " (3.4: \\, #, space, control or non-ASCII anywhere in the target)");
                break;
            }
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        if (path.indexOf(';') >= 0) {
            reasons.add("path has ';' (3.4)");
        }
        var m = PERCENT.matcher(path);
        while (m.find()) {
            String hex = m.group(1);
            if (hex == null || !hex.matches("[0-9A-Fa-f]{2}")) {
                reasons.add("path has an invalid percent escape (3.4)");
                break;
            }
            int b = Integer.parseInt(hex, 16);
            if (b < 0x20 || b == 0x7f || b == '/' || b == '\\' || b == ';') {
                reasons.add("path has an encoded %" + hex + " (3.4: encoded /, \\, ; or control character)");
                break;
            }
        }
        return reasons;
    }

    /**
     * Why a Transfer-Encoding list (all fields joined) is one SPEC 3.6 rejects, or null: every coding must be
     * a syntactically valid transfer-coding (RFC 9112 7: token *( OWS ";" OWS token BWS "=" BWS value )),
     * "identity" is no coding any more (RFC 9112 removed it), chunked must come exactly once and last.
     */
    private static String transferEncodingProblem(String joined) {
        List<String> codings = Arrays.stream(joined.split(",", -1)).map(DesyncCorpusIT::ows).toList();
        int chunked = 0;
        for (int i = 0; i < codings.size(); i++) {
            String coding = codings.get(i);
            String[] parts = coding.split(";", -1);
            String name = ows(parts[0]);
            if (!TOKEN.matcher(name).matches()) {
                return "\"" + printable(coding) + "\" is not a transfer-coding";
            }
            for (int k = 1; k < parts.length; k++) {
                String param = ows(parts[k]);
                int eq = param.indexOf('=');
                if (eq <= 0 || !TOKEN.matcher(ows(param.substring(0, eq))).matches()
                        || ows(param.substring(eq + 1)).isEmpty()) {
                    return "\"" + printable(coding) + "\" has a malformed parameter";
                }
            }
            if (name.equalsIgnoreCase("identity")) {
                return "identity is not a transfer-coding";
            }
            if (name.equalsIgnoreCase("chunked")) {
                chunked++;
                if (parts.length > 1) {
                    return "chunked takes no parameters";
                }
            }
        }
        if (chunked != 1) {
            return chunked == 0 ? "no chunked" : "chunked more than once";
        }
        if (!ows(codings.get(codings.size() - 1)).equalsIgnoreCase("chunked")) {
            return "chunked is not the final coding";
        }
        return null;
    }

    // ---- building and sending the request ----

    /**
     * The request line (the version left out when the case's is empty: HTTP/0.9 style), a Host unless the
     * case has one, the case's headers as "name: value", and a body: N bytes for a single valid
     * Content-Length N, else a valid chunked body when the case is chunked, else none.
     */
    static Request build(CorpusCase c) {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        write(head, c.method() + " " + c.uri() + (c.version().isEmpty() ? "" : " " + c.version()) + "\r\n");
        boolean hasHost = c.headers().stream().anyMatch(f -> f.name().equals("Host"));
        if (!hasHost) {
            write(head, "Host: " + HOST + "\r\n");
        }
        for (Field f : c.headers()) {
            write(head, f.name() + ": " + f.value() + "\r\n");
        }
        write(head, "\r\n");

        List<Field> cl = c.headers().stream().filter(f -> f.name().equalsIgnoreCase("Content-Length")).toList();
        String te = c.headers().stream()
                .filter(f -> f.name().equalsIgnoreCase("Transfer-Encoding"))
                .map(Field::value)
                .collect(Collectors.joining(","));
        if (cl.size() == 1 && DIGITS.matcher(ows(cl.get(0).value())).matches()) {
            long n = Long.parseLong(ows(cl.get(0).value()));
            byte[] body = new byte[(int) n];
            Arrays.fill(body, (byte) 'x');
            return new Request(head.toByteArray(), body, n, "Content-Length " + n);
        }
        if (!te.isEmpty() && lastCodingIsChunked(te)) {
            return new Request(head.toByteArray(), CHUNKED_BODY.clone(), CHUNKED_BODY_DECODED, "chunked");
        }
        return new Request(head.toByteArray(), new byte[0], 0, "none");
    }

    private static Outcome exchange(Gateway gw, CorpusCase c, Request req) {
        boolean head = c.method().equals("HEAD");
        try (RawHttp raw = gw.raw()) {
            raw.readTimeout(READ_TIMEOUT);
            String sendFailure = null;
            try {
                raw.send(req.head());
                if (req.body().length > 0) {
                    raw.send(req.body());
                }
            } catch (IOException e) {
                sendFailure = "sending failed (" + e + ")";
            }
            RawResponse r;
            try {
                r = raw.readResponse(head);
            } catch (IOException | RuntimeException e) {
                return new Outcome(null, (sendFailure == null ? "" : sendFailure + ", then ") + "reading failed: " + e,
                        null, head);
            }
            RawHttp.State after = null;
            if (r.status() == 400) {
                after = raw.await(CLOSE_WITHIN);
            }
            return new Outcome(r, sendFailure, after, head);
        } catch (IOException e) {
            return new Outcome(null, "connection failed: " + e, null, head);
        }
    }

    private static String report(CorpusCase c, Request req, Outcome out, List<String> violations) {
        StringBuilder sb = new StringBuilder();
        sb.append(c.id()).append(" (expected.tier ").append(c.tier()).append(", rule ").append(c.expectation())
                .append(")\n");
        for (String s : violations) {
            sb.append("  - ").append(s).append('\n');
        }
        sb.append("sent: ").append(req.describe()).append('\n');
        if (out.response() != null) {
            sb.append("answer:\n").append(out.response()).append('\n');
            if (out.after() != null) {
                sb.append("connection after the answer: ").append(out.after()).append('\n');
            }
        } else {
            sb.append("answer: none (").append(out.failure()).append(")\n");
        }
        if (out.failure() != null && out.response() != null) {
            sb.append("note: ").append(out.failure()).append('\n');
        }
        sb.append("upstream: ").append(harness.upstream().headsReceived()).append(" head(s); ")
                .append(harness.upstream().describeRequests());
        if (c.expectation() == Expectation.PROXY) {
            sb.append("\nSPEC reasons to refuse this request: ").append(specReasonsFor400(c));
        }
        return sb.toString();
    }

    // ---- helpers ----

    static Optional<Path> locateCorpus() {
        for (Path p : candidates()) {
            if (Files.isDirectory(p) && Files.isRegularFile(p.resolve("severe.yaml"))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        String prop = System.getProperty(CORPUS_PROPERTY);
        if (prop != null && !prop.isBlank()) {
            out.add(Path.of(prop));
        }
        out.add(Path.of("..", "..").resolve(CORPUS_RELATIVE)); // from the gateway-server module
        out.add(Path.of("..").resolve(CORPUS_RELATIVE)); // from the repository root
        return out;
    }

    private static String absentMessage() {
        return "http-desync-guardian corpus not found (it is not part of the project); looked in "
                + candidates().stream().map(p -> p.toAbsolutePath().normalize().toString())
                        .collect(Collectors.joining(", "))
                + " (working directory " + Path.of("").toAbsolutePath() + "); set -D" + CORPUS_PROPERTY
                + "=DIR to point at it";
    }

    private static boolean lastCodingIsChunked(String joined) {
        String[] codings = joined.split(",");
        if (codings.length == 0) {
            return false;
        }
        String last = codings[codings.length - 1];
        int semi = last.indexOf(';');
        return ows(semi < 0 ? last : last.substring(0, semi)).equalsIgnoreCase("chunked");
    }

    private static boolean hasControl(String value) {
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return true;
            }
        }
        return false;
    }

    /** Strips optional whitespace (SP / HTAB) only. */
    private static String ows(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && (s.charAt(b) == ' ' || s.charAt(b) == '\t')) {
            b++;
        }
        while (e > b && (s.charAt(e - 1) == ' ' || s.charAt(e - 1) == '\t')) {
            e--;
        }
        return s.substring(b, e);
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "" : n.asText();
    }

    /**
     * Writes text as the wire bytes the corpus means: a char below 256 (YAML "\xNN" escapes) as that one
     * byte, anything above (Cyrillic paths, U+017F in a header name) as its UTF-8 bytes.
     */
    private static void write(ByteArrayOutputStream out, String s) {
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (cp < 256) {
                out.write(cp);
            } else {
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
            }
            i += Character.charCount(cp);
        }
    }

    /** Escapes CR, LF, TAB and every other non-printable or non-ASCII char. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                default -> {
                    if (ch < 0x20 || ch == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) ch));
                    } else if (ch > 0x7e && ch < 0x100) {
                        sb.append(String.format("\\x%02x", (int) ch));
                    } else if (ch >= 0x100) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.toString();
    }
}
