package dev.portcullis.server.it;

import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.GatewayProcess;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.PrometheusText;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer;
import dev.portcullis.server.it.support.UpstreamServer.Reply;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator does to a running gateway, checked black-box from SPEC.md (2, 3.8, 6) and README.md: files replaced
 * as cp, vim and the kubelet do under {@code watch: true}, SIGHUP storms, concurrent POST /reload, SIGTERM/SIGINT with
 * requests in flight, and two policies flipped under a request loop.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SpecOperationsCheckIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    /** README: the watcher checks once a second and lets content settle 150 ms; HOLD lets it see a passing state. */
    private static final Duration WATCH = Duration.ofSeconds(10);
    private static final Duration HOLD = Duration.ofMillis(1600);
    private static final List<String> CONFIG_MAP_KEYS = List.of("policy.yaml", "403.html", "jwks.json");
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private static final RSAKey K1 = JwtMint.rsa("k1");
    private static final RSAKey K2 = JwtMint.rsa("k2");
    private static final String T1 = "Bearer " + JwtMint.sign(K1, JWSAlgorithm.RS256, JwtMint.claims("alice").build());
    private static final String T2 = "Bearer " + JwtMint.sign(K2, JWSAlgorithm.RS256, JwtMint.claims("bob").build());

    private static String head(boolean watch, int upstreamPort) {
        return "listen: \"127.0.0.1:0\"\nadmin:\n  listen: \"127.0.0.1:0\"\nwatch: " + watch
                + "\nupstream:\n  url: \"http://127.0.0.1:" + upstreamPort + "\"\n";
    }

    /** Proxies /{@code allowed}/** and denies the rest (403). */
    private static String policy(String allowed, boolean watch) {
        return head(watch, harness.upstream().port()) + "default: deny\nrules:\n  - name: allow-" + allowed
                + "\n    match: { paths: [\"/" + allowed + "/**\"] }\n";
    }

    // ------------------------------------------------------------------ watch: how files really get replaced

    /**
     * {@code cp} over the watched file truncates it, then writes it: the empty and the half-written file are never
     * applied (README "Reload"), the old policy decides until the whole new file is there, which is applied once.
     */
    @Test
    void cpOverTheWatchedFileNeverAppliesTheEmptyOrHalfWrittenFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String a = policy("a", true);
        String b = policy("b", true);
        Files.writeString(file, a);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertDecidedBy(gw.port(), "a", "b");

        byte[] bytes = b.getBytes(StandardCharsets.UTF_8);
        int cut = b.indexOf("[\"/b/") + 4; // ends inside a quoted flow scalar: not valid YAML
        try (FileChannel ch = FileChannel.open(file, WRITE, TRUNCATE_EXISTING)) {
            ch.force(true);
            holdAndProbe(gw.port(), admin, "a", "b", ConfigAdmin.version(a), HOLD);
            ch.write(ByteBuffer.wrap(bytes, 0, cut));
            ch.force(true);
            holdAndProbe(gw.port(), admin, "a", "b", ConfigAdmin.version(a), HOLD);
            ch.write(ByteBuffer.wrap(bytes, cut, bytes.length - cut));
        }
        JsonNode applied = admin.awaitVersion(ConfigAdmin.version(b), WATCH);
        assertDecidedBy(gw.port(), "b", "a");
        assertThat(applied.path("reloads").path("applied").asLong()).as("only the whole: %s", applied).isEqualTo(1);
        assertThat(applied.path("last_error").isNull()).as("cleared by the good reload: %s", applied).isTrue();
    }

    /**
     * vim: swap, {@code 4913} probe and backup files beside the config change nothing; a save that renames the file
     * away (none for a while) and writes a new one, and one that rewrites it in place, are each applied once.
     */
    @Test
    void vimSavesAreAppliedAndItsSwapProbeAndBackupFilesChangeNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Path swap = dir.resolve(".policy.yaml.swp");
        Path backup = dir.resolve("policy.yaml~");
        String a = policy("a", true);
        Files.writeString(file, a);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        Files.write(swap, "b0VIM 9.0\0\0\0garbage: [unclosed\n".getBytes(StandardCharsets.ISO_8859_1));
        Files.writeString(dir.resolve("4913"), "");
        Files.delete(dir.resolve("4913"));
        Files.writeString(dir.resolve("policy.yaml.bak"), "defualt: allow\n"); // an operator's copy
        holdAndProbe(gw.port(), admin, "a", "b", ConfigAdmin.version(a), HOLD);
        JsonNode quiet = admin.config();
        assertThat(quiet.path("reloads").path("applied").asLong() + quiet.path("reloads").path("rejected").asLong())
                .as("files beside the config are not the config: %s", quiet).isZero();

        Files.move(file, backup); // backupcopy=no
        holdAndProbe(gw.port(), admin, "a", "b", ConfigAdmin.version(a), HOLD);
        String b = policy("b", true);
        Files.writeString(file, b);
        Files.delete(backup);
        admin.awaitVersion(ConfigAdmin.version(b), WATCH);
        assertDecidedBy(gw.port(), "b", "a");

        Files.copy(file, backup, StandardCopyOption.REPLACE_EXISTING); // backupcopy=yes
        String c = policy("c", true);
        Files.writeString(file, c);
        Files.delete(backup);
        Files.delete(swap);
        JsonNode last = admin.awaitVersion(ConfigAdmin.version(c), WATCH);
        assertDecidedBy(gw.port(), "c", "b");
        assertThat(last.path("reloads").path("applied").asLong()).as("two saves, two reloads: %s", last).isEqualTo(2);
        assertThat(last.path("last_error").isNull()).as("%s", last).isTrue();
    }

    /**
     * A ConfigMap with the policy, its 403 page and its JWKS (SPEC 3.8 symlink swap): they change together; an update
     * with a cut-short JWKS is rejected and the old generation keeps its page and keys, though deleted by the kubelet.
     */
    @Test
    void configMapUpdatesSwapPolicyPageAndKeysTogetherAndABrokenUpdateKeepsTheOldOnes(@TempDir Path dir)
            throws Exception {
        Path current = kubeletWrite(dir, null, 1, configMapPolicy("a"), JwtMint.jwksJson(List.of(K1)));
        Gateway gw = harness.startFile(dir.resolve("policy.yaml"));
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        assertPage(gw, "/b/x", "<p>1</p>");
        assertThat(apiStatus(gw, T1)).isEqualTo(200);
        assertThat(apiStatus(gw, T2)).isEqualTo(401);

        String v2 = configMapPolicy("b");
        current = kubeletWrite(dir, current, 2, v2, JwtMint.jwksJson(List.of(K2)));
        admin.awaitVersion(ConfigAdmin.version(v2), WATCH);
        assertThat(status(gw.port(), "/b/x")).isEqualTo(200);
        assertPage(gw, "/a/x", "<p>2</p>");
        assertThat(apiStatus(gw, T2)).as("the new JWKS came with the update").isEqualTo(200);
        assertThat(apiStatus(gw, T1)).as("the key removed by the update").isEqualTo(401);

        String both = JwtMint.jwksJson(List.of(K1, K2));
        current = kubeletWrite(dir, current, 3, configMapPolicy("c"), both.substring(0, both.length() / 2));
        JsonNode rejected = admin.await(c -> c.path("last_error").isObject(), WATCH, "a rejected ConfigMap update");
        assertThat(rejected.path("version").asText()).isEqualTo(ConfigAdmin.version(v2));
        assertThat(rejected.path("last_error").toString()).contains("jwks_file");
        assertThat(status(gw.port(), "/b/x")).as("old rules").isEqualTo(200);
        assertPage(gw, "/c/x", "<p>2</p>");
        assertThat(apiStatus(gw, T2)).as("old keys, their folder deleted by the kubelet").isEqualTo(200);

        String v4 = configMapPolicy("c") + "# fixed\n";
        kubeletWrite(dir, current, 4, v4, both);
        JsonNode fixed = admin.awaitVersion(ConfigAdmin.version(v4), WATCH);
        assertThat(fixed.path("last_error").isNull()).as("%s", fixed).isTrue();
        assertThat(status(gw.port(), "/c/x")).isEqualTo(200);
        assertPage(gw, "/b/x", "<p>4</p>");
        assertThat(apiStatus(gw, T1)).isEqualTo(200);
        assertThat(apiStatus(gw, T2)).isEqualTo(200);
    }

    /**
     * {@code kubectl edit configmap} changing only {@code jwks.json} (dropping a leaked key). README "Kubernetes": "a
     * ConfigMap update is applied without a signal"; SPEC 3.8: the swap reloads "the config, the JWKS file and ...".
     */
    @Test
    void aConfigMapUpdateThatOnlyRotatesTheJwksIsApplied(@TempDir Path dir) throws Exception {
        String policy = configMapPolicy("a");
        Path current = kubeletWrite(dir, null, 1, policy, JwtMint.jwksJson(List.of(K1)));
        Gateway gw = harness.startFile(dir.resolve("policy.yaml"));
        assertThat(apiStatus(gw, T1)).isEqualTo(200);

        kubeletWrite(dir, current, 2, policy, JwtMint.jwksJson(List.of(K2)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (apiStatus(gw, T2) != 200 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(apiStatus(gw, T2)).as("a token of the key the ConfigMap update added, 5 s later").isEqualTo(200);
        assertThat(apiStatus(gw, T1)).as("a token of the key the ConfigMap update removed").isEqualTo(401);
    }

    private static String configMapPolicy(String allowed) {
        return policy(allowed, true).replace("default: deny", """
                identity:
                  jwt:
                    issuer: "https://issuer.test/"
                    audience: ["orders-api"]
                    algorithms: [RS256]
                    jwks_file: "jwks.json"
                responses:
                  403: { content_type: "text/html; charset=utf-8", body_file: "403.html" }
                default: deny""") + """
                  - name: api
                    match: { paths: ["/api/**"] }
                    require: { authenticated: true }
                """;
    }

    /**
     * The kubelet writing a ConfigMap volume: a new timestamped folder, {@code ..data_tmp} renamed over {@code ..data},
     * the old folder removed; the first write also makes one {@code name -> ..data/name} link per key.
     */
    private static Path kubeletWrite(Path dir, Path old, int n, String policy, String jwks) throws IOException {
        Path next = dir.resolve("..2026_03_01_00_00_0" + n + ".00000000" + n);
        Files.createDirectory(next);
        Files.writeString(next.resolve("policy.yaml"), policy);
        Files.writeString(next.resolve("403.html"), "<p>" + n + "</p>");
        Files.writeString(next.resolve("jwks.json"), jwks);
        Path tmp = dir.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, next.getFileName());
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String name : CONFIG_MAP_KEYS) {
            if (old == null) {
                Files.createSymbolicLink(dir.resolve(name), Path.of("..data", name));
            } else {
                Files.delete(old.resolve(name));
            }
        }
        if (old != null) {
            Files.delete(old);
        }
        return next;
    }

    private static void assertPage(Gateway gw, String path, String page) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(gw.uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("%s", path).isEqualTo(403);
        assertThat(r.body()).as("403 page for %s", path).isEqualTo(page);
        assertThat(r.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
    }

    private static int apiStatus(Gateway gw, String bearer) throws Exception {
        return harness.get(gw, "/api/x", "Authorization", bearer).statusCode();
    }

    // ------------------------------------------------------------------ POST /reload, /config, /readyz

    /**
     * SPEC 6: six concurrent {@code POST /reload} after each rewrite all answer 200 with the version of the file they
     * found (sha256 of its bytes: CRLF, UTF-8, no final newline) or 422 with the errors; /readyz stays 200 throughout.
     */
    @Test
    void concurrentPostReloadsAnswerTheFileTheyFoundAndReadyzStays200(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a", false));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Callable<ConfigAdmin.Answer>> posts = Collections.nCopies(6, admin::reload);
        try (Loop readyz = new Loop(() -> expect(status(gw.adminPort(), "/readyz"), 200, "/readyz"))) {
            double failures0 = reloadsMetric(gw.adminPort(), "failure");
            for (int round = 0; round < 6; round++) {
                String text = round == 3 ? policy("r3", false).replace("default: deny", "default: maybe")
                        : crlf(policy("r" + round, false), round);
                ConfigAdmin.replaceAtomically(file, text);
                List<ConfigAdmin.Answer> answers = new ArrayList<>();
                for (Future<ConfigAdmin.Answer> f : pool.invokeAll(posts, 20, TimeUnit.SECONDS)) {
                    answers.add(f.get());
                }
                JsonNode config = admin.config();
                if (round == 3) {
                    for (ConfigAdmin.Answer answer : answers) {
                        assertThat(answer.status()).as("invalid file: %s", answer.body()).isEqualTo(422);
                        assertThat(answer.body().path("problems").toString()).contains("default", "maybe");
                    }
                    assertThat(config.path("version").asText())
                            .isEqualTo(ConfigAdmin.version(crlf(policy("r2", false), 2)));
                    assertThat(config.path("last_error").isObject()).as("%s", config).isTrue();
                    assertThat(status(gw.port(), "/r2/x")).as("old policy keeps deciding").isEqualTo(200);
                    assertThat(reloadsMetric(gw.adminPort(), "failure")).isGreaterThan(failures0);
                    continue;
                }
                String version = ConfigAdmin.version(text);
                assertThat(Files.readAllBytes(file)).as("CRLF and UTF-8 on disk").contains(0x0d, 0xc3);
                for (ConfigAdmin.Answer answer : answers) {
                    assertThat(answer.status()).as("round %d: %s", round, answer.body()).isEqualTo(200);
                    assertThat(answer.body().path("version").asText()).as("round %d", round).isEqualTo(version);
                }
                assertThat(config.path("version").asText()).as("/config is sha256 of the bytes").isEqualTo(version);
                assertThat(config.path("source").asText()).endsWith("policy.yaml");
                assertThat(config.path("rules").asInt()).isEqualTo(1);
                assertThat(config.path("last_error").isNull()).as("%s", config).isTrue();
                assertThat(status(gw.port(), "/r" + round + "/x")).isEqualTo(200);
            }
            readyz.close();
            assertThat(readyz.runs.get()).as("/readyz polled during the reloads").isGreaterThan(10);
            assertThat(readyz.problems).as("/readyz during reloads").isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    /** {@code policy} with CRLF line ends and a UTF-8 comment, without a final newline. */
    private static String crlf(String policy, int round) {
        return (policy + "# politique révisée ✓ " + round).replace("\n", "\r\n");
    }

    // ------------------------------------------------------------------ no half-applied policy

    private static final String A_PAGE = "{\"error\":\"Forbidden\",\"policy\":\"A\"}";
    private static final String B_PAGE = "{\"error\":\"Not Found\",\"policy\":\"B\"}";

    /**
     * SPEC 3.8 "decided wholly by the old or wholly by the new policy": A proxies /x to U1, denies the rest with page
     * A; B hides /x with 404 page B and proxies the rest to U2. Flipped 24 times by POST /reload under a request loop,
     * every answer is wholly A's or B's, none fails, and one sent after a reload answered gets that reload's policy.
     */
    @Test
    void everyAnswerIsWhollyOnePoliciesWhileTwoPoliciesAreFlipped(@TempDir Path dir) throws Exception {
        try (UpstreamServer u2 = UpstreamServer.start()) {
            harness.upstream().handler(req -> Reply.fixed(200, "OK", List.of(), "U1".getBytes(StandardCharsets.UTF_8)));
            u2.handler(req -> Reply.fixed(200, "OK", List.of(), "U2".getBytes(StandardCharsets.UTF_8)));
            String a = head(false, harness.upstream().port()) + "responses:\n  403: { body: '" + A_PAGE + "' }\n"
                    + "default: deny\nrules:\n  - name: x-open\n    match: { paths: [\"/x/**\"] }\n";
            String b = head(false, u2.port()) + "responses:\n  404: { body: '" + B_PAGE + "' }\n"
                    + "default: allow\nrules:\n  - name: x-hidden\n    match: { paths: [\"/x/**\"] }\n"
                    + "    action: deny\n    deny_status: 404\n";
            Path file = dir.resolve("policy.yaml");
            Files.writeString(file, a);
            Gateway gw = harness.startFile(file);
            ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

            record Seen(long sent, long received, String policy) {}
            record Flip(long start, long end, String policy) {}
            List<Seen> seen = new CopyOnWriteArrayList<>();
            List<Loop> clients = new ArrayList<>();
            List<RawHttp[]> conns = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                boolean fresh = c == 3;
                RawHttp[] conn = {null};
                conns.add(conn);
                AtomicInteger n = new AtomicInteger();
                clients.add(new Loop(() -> {
                    int i = n.incrementAndGet();
                    String path = (i % 2 == 0 ? "/x/" : "/y/") + i;
                    long sent = System.nanoTime();
                    RawResponse r;
                    try {
                        conn[0] = conn[0] == null ? RawHttp.connect(gw.port()) : conn[0];
                        r = conn[0].send("GET " + path + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                                .readResponse();
                    } catch (IOException e) {
                        r = null;
                    }
                    if (r == null || fresh || r.connectionTokens().contains("close")) {
                        conn[0] = closed(conn[0]);
                    }
                    String policy = r == null ? null : classify(path, r);
                    if (policy != null) {
                        seen.add(new Seen(sent, System.nanoTime(), policy));
                    }
                    return policy == null ? path + " -> " + (r == null ? "failed" : r) : null;
                }));
            }
            List<Flip> flips = new ArrayList<>();
            try {
                for (int i = 0; i < 24; i++) {
                    String next = i % 2 == 0 ? "B" : "A";
                    ConfigAdmin.replaceAtomically(file, next.equals("A") ? a : b);
                    long start = System.nanoTime();
                    ConfigAdmin.Answer answer = admin.reload();
                    flips.add(new Flip(start, System.nanoTime(), next));
                    assertThat(answer.status()).as("flip %d: %s", i, answer.body()).isEqualTo(200);
                    int before = seen.size();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (seen.size() < before + 8 && System.nanoTime() < deadline) {
                        Thread.sleep(2);
                    }
                }
            } finally {
                for (Loop client : clients) {
                    client.close();
                }
                conns.forEach(c -> closed(c[0]));
            }
            for (Loop client : clients) {
                assertThat(client.problems).as("answers neither wholly A's nor wholly B's, or failed").isEmpty();
            }
            List<String> stale = new ArrayList<>();
            int checked = 0;
            for (Seen s : seen) {
                int k = -1;
                for (int i = 0; i < flips.size(); i++) {
                    k = flips.get(i).end() < s.sent() ? i : k;
                }
                boolean nextStarted = k + 1 < flips.size() && flips.get(k + 1).start() <= s.received();
                checked += k >= 0 && !nextStarted ? 1 : 0;
                if (k >= 0 && !nextStarted && !flips.get(k).policy().equals(s.policy())) {
                    stale.add("sent after flip " + k + " to " + flips.get(k).policy() + ", decided by " + s.policy());
                }
            }
            assertThat(stale).as("requests decided by a policy a finished reload had replaced").isEmpty();
            assertThat(seen).extracting(Seen::policy).as("both policies answered").contains("A", "B");
            assertThat(checked).as("requests sent and answered between two flips").isGreaterThan(24 * 4);
        }
    }

    private static RawHttp closed(RawHttp conn) {
        if (conn != null) {
            conn.close();
        }
        return null;
    }

    private static String classify(String path, RawResponse r) {
        String body = r.bodyText();
        if (path.startsWith("/x/")) {
            return r.status() == 200 && body.equals("U1") ? "A" : r.status() == 404 && body.equals(B_PAGE) ? "B" : null;
        }
        return r.status() == 403 && body.equals(A_PAGE) ? "A" : r.status() == 200 && body.equals("U2") ? "B" : null;
    }

    // ------------------------------------------------------------------ the packaged jar: signals

    /**
     * 30 {@code kill -HUP} with a broken file: alive, old policy deciding, last_error (SIGHUP) and metrics agree; the
     * fixed file applies. A slow (4000-rule) reload keeps /readyz 200; a SIGHUP with a newer file during one is kept
     * (README: a burst "ends on the newest file"); SIGTERM during one exits 0.
     */
    @Test
    void sighupStormsWithABrokenFileThenAFixedOneThenSighupsDuringSlowReloads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String a = policy("a", false);
        Files.writeString(file, a);
        try (GatewayProcess gateway = GatewayProcess.start(file, Map.of(), List.of())) {
            gateway.awaitListening();
            int port = gateway.port();
            ConfigAdmin admin = new ConfigAdmin(gateway.adminPort());
            double success0 = reloadsMetric(gateway.adminPort(), "success");
            double failure0 = reloadsMetric(gateway.adminPort(), "failure");

            Files.writeString(file, a.replace("default: deny", "defualt: allow"));
            JsonNode rejected;
            try (Loop old = new Loop(() -> decidedBy(port, "a", "b"))) {
                Process storm = new ProcessBuilder("bash", "-c",
                        "for i in $(seq 30); do kill -HUP " + gateway.pid() + " || exit 1; done").inheritIO().start();
                assertThat(storm.waitFor(10, TimeUnit.SECONDS) && storm.exitValue() == 0).as("30 x kill -HUP").isTrue();
                admin.await(c -> c.path("reloads").path("rejected").asLong() > 0, WATCH, "a rejected reload");
                rejected = awaitSettled(admin);
                old.close();
                assertThat(old.problems).as("answers not from the old policy during the storm").isEmpty();
                assertThat(old.runs.get()).isGreaterThan(0);
            }
            assertThat(gateway.process().isAlive()).as("alive; output:%n%s", gateway.output()).isTrue();
            long rejections = rejected.path("reloads").path("rejected").asLong();
            assertThat(rejections).as("%s", rejected).isBetween(1L, 30L);
            assertThat(rejected.path("version").asText()).isEqualTo(ConfigAdmin.version(a));
            assertThat(rejected.path("last_error").path("trigger").asText()).isEqualTo("SIGHUP");
            assertThat(rejected.path("last_error").toString()).contains("defualt");
            assertThat(reloadsMetric(gateway.adminPort(), "failure") - failure0).as("failures in metrics = /config")
                    .isEqualTo((double) rejections);
            assertThat(reloadsMetric(gateway.adminPort(), "success")).isEqualTo(success0);
            assertThat(status(gateway.adminPort(), "/readyz")).isEqualTo(200);

            String b = policy("b", false);
            Files.writeString(file, b);
            gateway.signal("HUP");
            JsonNode fixed = admin.awaitVersion(ConfigAdmin.version(b), WATCH);
            assertThat(fixed.path("last_error").isNull()).as("%s", fixed).isTrue();
            assertThat(reloadsMetric(gateway.adminPort(), "success") - success0).isEqualTo(1.0);
            assertDecidedBy(port, "b", "a");

            ConfigAdmin.replaceAtomically(file, bigPolicy(b, 4000, "c"));
            long slowMillis;
            try (Loop during = new Loop(() -> {
                String decided = decidedBy(port, "b", "a");
                return decided != null ? decided : expect(status(gateway.adminPort(), "/readyz"), 200, "/readyz");
            })) {
                long t0 = System.nanoTime();
                assertThat(admin.reload().status()).isEqualTo(200);
                slowMillis = (System.nanoTime() - t0) / 1_000_000;
                during.close();
                assertThat(during.problems).as("during a %d ms reload", slowMillis).isEmpty();
                assertThat(during.runs.get()).isGreaterThan(0);
            }
            ConfigAdmin.replaceAtomically(file, bigPolicy(b, 4000, "d"));
            gateway.signal("HUP");
            Thread.sleep(Math.max(1, slowMillis / 3));
            String newest = policy("e", false);
            ConfigAdmin.replaceAtomically(file, newest);
            gateway.signal("HUP");
            admin.awaitVersion(ConfigAdmin.version(newest), WATCH);
            JsonNode settled = awaitSettled(admin);
            assertThat(settled.path("version").asText()).as("stays on the newest file (reloads take %d ms)", slowMillis)
                    .isEqualTo(ConfigAdmin.version(newest));
            assertDecidedBy(port, "e", "b");

            ConfigAdmin.replaceAtomically(file, bigPolicy(b, 4000, "f"));
            gateway.signal("HUP");
            Thread.sleep(Math.max(1, slowMillis / 3));
            gateway.signal("TERM");
            assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
            assertThat(gateway.process().exitValue()).as("output:%n%s", gateway.output()).isZero();
        }
    }

    /** {@code base} plus {@code n} deny rules (a path and a CIDR each), then one allowing /{@code allowed}/**. */
    private static String bigPolicy(String base, int n, String allowed) {
        StringBuilder sb = new StringBuilder(base);
        for (int i = 0; i < n; i++) {
            sb.append("  - name: r").append(i).append("\n    match: { paths: [\"/gen/").append(i)
                    .append("/**\"], ip: [\"10.").append(i / 250 % 250).append('.').append(i % 250)
                    .append(".0/24\"] }\n    action: deny\n");
        }
        return sb.append("  - name: allow-").append(allowed).append("\n    match: { paths: [\"/").append(allowed)
                .append("/**\"] }\n").toString();
    }

    /** Polls /config until its reload counters and version have not moved for 600 ms. */
    private static JsonNode awaitSettled(ConfigAdmin admin) throws Exception {
        long deadline = System.nanoTime() + WATCH.toNanos();
        String last = "";
        long since = System.nanoTime();
        while (true) {
            JsonNode c = admin.config();
            String now = c.path("reloads").toString() + c.path("version").asText();
            if (!now.equals(last)) {
                last = now;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(600)) {
                return c;
            }
            assertThat(System.nanoTime()).as("reloads settled; last: %s", c).isLessThan(deadline);
            Thread.sleep(25);
        }
    }

    /**
     * README "The jar": SIGHUP "never stops the gateway, also while it is still starting". SIGHUPs every 20 ms from
     * 300 ms after the JVM loaded the jar's Main-Class (class-load log) until it listens: it must come up and serve.
     */
    @Test
    void sighupsWhileTheProgramIsStartingNeverStopIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a", false));
        String mainClass;
        try (JarFile jar = new JarFile(Path.of("target", "portcullis.jar").toFile())) {
            mainClass = jar.getManifest().getMainAttributes().getValue("Main-Class");
        }
        Path classLog = dir.resolve("classes.log");
        try (GatewayProcess gateway = GatewayProcess.start(file, Map.of(),
                List.of("-Xlog:class+load=info:file=" + classLog))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(classLog) && Files.readString(classLog).contains(mainClass + " "))) {
                assertThat(System.nanoTime()).as("main class %s loaded", mainClass).isLessThan(deadline);
                Thread.sleep(5);
            }
            Thread.sleep(300);
            int sent = 0;
            while (gateway.process().isAlive() && !gateway.output().contains("listening on")
                    && System.nanoTime() < deadline) {
                new ProcessBuilder("kill", "-HUP", Long.toString(gateway.pid())).start().waitFor(5, TimeUnit.SECONDS);
                sent++;
                Thread.sleep(20);
            }
            Thread.sleep(300);
            assertThat(gateway.process().isAlive()).as("alive after %d SIGHUPs while starting; exit %s; output:%n%s",
                    sent, gateway.process().isAlive() ? "-" : gateway.process().exitValue(), gateway.output()).isTrue();
            gateway.awaitListening();
            assertThat(status(gateway.adminPort(), "/readyz")).isEqualTo(200);
            assertDecidedBy(gateway.port(), "a", "b");
        }
    }

    /**
     * README "The jar": on SIGTERM an idle keep-alive connection is closed, new ones refused, two in-flight requests
     * finish whole and their connections close after; exit 0 once they are done, long before drain_timeout.
     */
    @Test
    void sigtermFinishesInFlightRequestsRefusesNewConnectionsAndExitsZeroOnceDrained(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a", false).replace("default: deny", "drain_timeout: 15s\ndefault: allow"));
        try (GatewayProcess gateway = GatewayProcess.start(file, Map.of(), List.of())) {
            gateway.awaitListening();
            int port = gateway.port();
            String host = "Host: 127.0.0.1:" + port + "\r\n\r\n";
            try (RawHttp idle = RawHttp.connect(port); RawHttp slow1 = RawHttp.connect(port);
                    RawHttp slow2 = RawHttp.connect(port)) {
                assertThat(idle.send("GET /fast HTTP/1.1\r\n" + host).readResponse().status()).isEqualTo(200);
                slow1.send("GET /_up/delay/2500?one HTTP/1.1\r\n" + host);
                slow2.send("GET /_up/delay/3000?two HTTP/1.1\r\n" + host);
                harness.upstream().awaitHeads(3, Duration.ofSeconds(10));
                long t0 = System.nanoTime();
                gateway.signal("TERM");

                assertThat(idle.awaitClosed(Duration.ofSeconds(3))).as("idle keep-alive connection closed").isTrue();
                slow2.send("GET /after-sigterm HTTP/1.1\r\n" + host); // pipelined behind the in-flight one
                boolean refused = false;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (!refused && System.nanoTime() < end) {
                    try (RawHttp probe = RawHttp.connect(port)) {
                        Thread.sleep(50);
                    } catch (ConnectException e) {
                        refused = true;
                    }
                }
                assertThat(refused).as("a new connection is refused while draining").isTrue();
                for (RawHttp slow : List.of(slow1, slow2)) {
                    RawResponse r = slow.readResponse();
                    assertThat(r.status()).as("in-flight request finishes: %s", r).isEqualTo(200);
                    assertThat(r.header("X-Echo-Target").orElse("")).startsWith("/_up/delay/");
                    RawHttp.State next = slow.await(Duration.ofSeconds(3));
                    if (next == RawHttp.State.DATA) { // README: a request still arriving while draining gets 503
                        assertThat(slow.readResponse().status()).as("pipelined while draining").isEqualTo(503);
                        next = slow.await(Duration.ofSeconds(3));
                    }
                    assertThat(next).as("closed after its response").isEqualTo(RawHttp.State.CLOSED);
                }
                assertThat(harness.upstream().requests()).as("nothing new is forwarded while draining")
                        .noneMatch(r -> r.path().equals("/after-sigterm"));
                assertThat(gateway.process().waitFor(10, TimeUnit.SECONDS)).as("exits once drained").isTrue();
                long took = (System.nanoTime() - t0) / 1_000_000;
                assertThat(gateway.process().exitValue()).as("output:%n%s", gateway.output()).isZero();
                assertThat(took).as("ms from SIGTERM to exit, with 3 s of work and drain_timeout 15 s")
                        .isBetween(2_000L, 9_000L);
            }
        }
    }

    /**
     * A request longer than drain_timeout: after SIGINT the process drains (a SIGHUP changes nothing), a SIGTERM on top
     * neither hangs nor crashes it, it exits 0 by drain_timeout plus a margin, and the cut client is not left waiting.
     */
    @Test
    void aRequestLongerThanDrainTimeoutIsCutAtItAndASigtermAfterSigintStillExitsZero(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, policy("a", false).replace("default: deny", "drain_timeout: 3s\ndefault: allow"));
        try (GatewayProcess gateway = GatewayProcess.start(file, Map.of(), List.of())) {
            gateway.awaitListening();
            int port = gateway.port();
            try (RawHttp slow = RawHttp.connect(port)) {
                slow.send("GET /_up/delay/20000 HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
                harness.upstream().awaitHeads(1, Duration.ofSeconds(10));
                long t0 = System.nanoTime();
                gateway.signal("INT");
                Thread.sleep(300);
                gateway.signal("HUP");
                Thread.sleep(1200);
                assertThat(gateway.process().isAlive()).as("still draining 1.5 s into a 3 s drain_timeout; output:%n%s",
                        gateway.output()).isTrue();
                gateway.signal("TERM");
                assertThat(gateway.process().waitFor(8, TimeUnit.SECONDS)).as("exits by drain_timeout+margin").isTrue();
                long took = (System.nanoTime() - t0) / 1_000_000;
                assertThat(gateway.process().exitValue()).as("exit code; output:%n%s", gateway.output()).isZero();
                assertThat(took).as("ms from SIGINT to exit").isLessThan(7_000L);
                RawHttp.State end = slow.await(Duration.ofSeconds(2));
                assertThat(end).as("the cut client is not left waiting").isNotEqualTo(RawHttp.State.OPEN);
                if (end == RawHttp.State.DATA) {
                    assertThat(slow.readResponse().status()).as("a cut request is never a 200").isNotEqualTo(200);
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Runs {@code check} in a loop on its own thread until closed; {@code check} returns null or a problem. */
    private static final class Loop implements AutoCloseable {
        final List<String> problems = new CopyOnWriteArrayList<>();
        final AtomicInteger runs = new AtomicInteger();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Loop(Callable<String> check) {
            thread = new Thread(() -> {
                while (!stop.get() && problems.size() < 20) {
                    String problem;
                    try {
                        problem = check.call();
                    } catch (Exception e) {
                        problem = e.toString();
                    }
                    runs.incrementAndGet();
                    problems.addAll(problem == null ? List.of() : List.of(problem));
                }
            }, "ops-loop");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(15_000);
        }
    }

    private static String expect(int status, int expected, String what) {
        return status == expected ? null : what + " answered " + status;
    }

    /** Null when {@code /allowed/x} is proxied and {@code /denied/x} denied, else what happened. */
    private static String decidedBy(int port, String allowed, String denied) throws Exception {
        int sa = status(port, "/" + allowed + "/x");
        int sd = status(port, "/" + denied + "/x");
        return sa == 200 && sd == 403 ? null : "/" + allowed + "/x " + sa + ", /" + denied + "/x " + sd;
    }

    private static int status(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void assertDecidedBy(int port, String allowed, String denied) throws Exception {
        assertThat(decidedBy(port, allowed, denied)).as("decided by the policy allowing /%s", allowed).isNull();
    }

    /** For {@code period}, the old policy keeps deciding and {@code /config} keeps showing {@code version}. */
    private static void holdAndProbe(int port, ConfigAdmin admin, String allowed, String denied, String version,
            Duration period) throws Exception {
        long end = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < end) {
            assertDecidedBy(port, allowed, denied);
            assertThat(admin.config().path("version").asText()).as("live version").isEqualTo(version);
            Thread.sleep(50);
        }
    }

    private static double reloadsMetric(int adminPort, String result) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        return PrometheusText.parse(text).valueOrZero("portcullis_config_reloads_total", Map.of("result", result));
    }
}
