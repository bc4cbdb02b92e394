package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box checks of the command line (SPEC 2, 3.9, 3.10; README "The jar", "Errors in a config", "Explaining and
 * testing a policy"), written from the contract: the packaged {@code target/portcullis.jar} runs as a real process,
 * each run bounded, and its exit code, stdout and stderr are asserted. Cases the in-process CLI unit tests already
 * cover are not repeated; these add what only a real process shows (exit status, stream separation, environment,
 * working directory, no stack trace or hang) and contract corners those tests do not reach.
 */
class SpecCliCheckIT {
    private static final long TIMEOUT_SECONDS = 20;
    private static final String UPSTREAM = "upstream: { url: \"http://127.0.0.1:3000\" }";
    /** Every problem line: FILE:LINE:COLUMN: path: message (SPEC 3.9). */
    private static final String LOCATED = "^.+:\\d+:\\d+: \\S+: .+$";

    @TempDir
    static Path dir;

    private static Path jar;

    record Result(int exit, String out, String err, long millis) {
        List<String> errLines() {
            return err.lines().toList();
        }

        String all() {
            return "exit " + exit + "\n[stdout]\n" + out + "[stderr]\n" + err;
        }
    }

    @BeforeAll
    static void findJar() throws IOException {
        jar = Path.of("target", "portcullis.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no packaged jar at " + jar + " (mvn package runs before the ITs)");
        }
    }

    private static Result cli(String... args) throws Exception {
        return cli(Map.of(), null, args);
    }

    /** Runs {@code java -jar portcullis.jar args} in {@code cwd} (null: this JVM's), with env changes (null value: unset). */
    private static Result cli(Map<String, String> env, Path cwd, String... args) throws Exception {
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
        env.forEach((k, v) -> {
            if (v == null) {
                builder.environment().remove(k);
            } else {
                builder.environment().put(k, v);
            }
        });
        if (cwd != null) {
            builder.directory(cwd.toFile());
        }
        long start = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            fail("portcullis %s did not exit within %d s; stdout:%n%s%nstderr:%n%s", String.join(" ", args),
                    TIMEOUT_SECONDS, Files.readString(out), Files.readString(err));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err), millis);
    }

    private static Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    private static void assertNoStackTrace(Result r) {
        assertThat(r.out() + r.err()).as(r.all())
                .doesNotContain("Exception")
                .doesNotContain("\tat ")
                .doesNotContainPattern("(?m)^\\s+at [a-z]+\\.");
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * SPEC 2: check prints "OK: n rules", exit 0; run/check read -c FILE, default $PORTCULLIS_CONFIG, else
     * config/policy.yaml (relative to the working directory).
     */
    @Test
    void checkCountsTheRulesAndFindsItsConfigFromOptionEnvironmentOrDefault() throws Exception {
        Path three = write("count/three.yaml", UPSTREAM + """

                rules:
                  - name: a
                    match: { paths: ["/a"] }
                  - name: b
                    match: { paths: ["/b"] }
                    action: deny
                  - name: c
                    match: { any: [ { paths: ["/c/**"] }, { not: { methods: [GET] } } ] }
                    require: { authenticated: true }
                """);
        Path invalid = write("count/invalid.yaml", UPSTREAM + "\nlistn: 1\n");
        Path cwd = dir.resolve("count/workdir");
        write("count/workdir/config/policy.yaml", UPSTREAM + "\nrules:\n  - name: only\n");

        Result byOption = cli("check", "-c", three.toString());
        assertThat(byOption.exit()).as(byOption.all()).isZero();
        assertThat(byOption.out()).isEqualTo("OK: 3 rules\n");
        assertThat(byOption.err()).isEmpty();

        Result byEnv = cli(Map.of("PORTCULLIS_CONFIG", three.toString()), cwd, "check");
        assertThat(byEnv.exit()).as(byEnv.all()).isZero();
        assertThat(byEnv.out()).as("$PORTCULLIS_CONFIG is read when -c is absent").isEqualTo("OK: 3 rules\n");

        Result optionWins = cli(Map.of("PORTCULLIS_CONFIG", invalid.toString()), cwd, "check", "-c", three.toString());
        assertThat(optionWins.exit()).as(optionWins.all()).isZero();
        assertThat(optionWins.out()).isEqualTo("OK: 3 rules\n");

        Result byDefault = cli(Map.of(), cwd, "check");
        assertThat(byDefault.exit()).as(byDefault.all()).isZero();
        assertThat(byDefault.out()).as("config/policy.yaml when neither -c nor $PORTCULLIS_CONFIG")
                .isEqualTo("OK: 1 rules\n");

        Result envInvalid = cli(Map.of("PORTCULLIS_CONFIG", invalid.toString()), cwd, "check");
        assertThat(envInvalid.exit()).as(envInvalid.all()).isEqualTo(1);
        assertThat(envInvalid.out()).isEmpty();
        assertThat(envInvalid.errLines()).first().asString().startsWith(invalid + ":2:1: listn: unknown key \"listn\"");
    }

    /** SPEC 3.9: every error of the listed kinds at once, each as FILE:LINE:COLUMN: path: message; exit 1. */
    @Test
    void checkReportsEverySpecListedProblemAtItsLocation() throws Exception {
        Path file = write("every/policy.yaml", String.join("\n",
                UPSTREAM,                                                        // 1
                "identity:",                                                     // 2
                "  jwt:",                                                        // 3
                "    issuer: \"https://auth.example.com/\"",                     // 4
                "    audience: [api]",                                           // 5
                "    secret_env: \"PORTCULLIS_TEST_SECRET\"",                    // 6
                "    jwks_url: \"https://auth.example.com/jwks.json\"",          // 7
                "rate_limits:",                                                  // 8
                "  per-ip: { key: client_ip, limit: 5, per: 1s }",               // 9
                "rules:",                                                        // 10
                "  - name: embargo",                                             // 11
                "    match: { countries: [KP] }",                                // 12
                "    action: deny",                                              // 13
                "  - name: api",                                                 // 14
                "    match: { paths: [\"/api/**\"] }",                           // 15
                "    require: { any: [ { roles: [a] }, { not: { ip: [\"10.0.0.0/33\"] } } ] }", // 16
                "    rate_limit: per-user",                                      // 17
                "  - name: embargo",                                             // 18
                "    match: { paths: [\"/x\"], metods: [GET] }",                 // 19
                ""));

        Result r = cli(Map.of("PORTCULLIS_TEST_SECRET", "0123456789abcdef0123456789abcdef"), null,
                "check", "-c", file.toString());

        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).as("nothing on stdout for an invalid config").isEmpty();
        assertNoStackTrace(r);
        List<String> lines = r.errLines();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(lines).as(r.all()).isNotEmpty();
        soft.assertThat(lines.subList(0, Math.max(0, lines.size() - 1))).as("every problem line is located")
                .allSatisfy(l -> assertThat(l).matches(LOCATED).startsWith(file + ":"));
        soft.assertThat(lines).as("JWT section with two key sources")
                .anySatisfy(l -> assertThat(l).startsWith(file + ":4:5: identity.jwt: ").contains("secret_env")
                        .contains("jwks_url"));
        soft.assertThat(lines).as("countries rule without a GeoIP database")
                .anySatisfy(l -> assertThat(l).startsWith(file + ":12:25: rules[0].match.countries: "));
        soft.assertThat(lines).as("bad CIDR nested in any/not")
                .anySatisfy(l -> assertThat(l).startsWith(
                        file + ":16:53: rules[1].require.any[1].not.ip[0]: \"10.0.0.0/33\""));
        soft.assertThat(lines).as("unknown rate limiter name")
                .anySatisfy(l -> assertThat(l).startsWith(file + ":17:17: rules[1].rate_limit: \"per-user\""));
        soft.assertThat(lines).as("duplicate rule name")
                .anySatisfy(l -> assertThat(l).startsWith(file + ":18:11: rules[2].name: \"embargo\""));
        soft.assertThat(lines).as("unknown key")
                .anySatisfy(l -> assertThat(l).startsWith(file + ":19:29: rules[2].match.metods: unknown key"));
        soft.assertThat(lines).as("summary").last().isEqualTo("6 problems in " + file);
        soft.assertAll();
    }

    /**
     * SPEC 3.9 "Every error, not just the first, as FILE:LINE:COLUMN: path.to.key: message", README "Every problem is
     * reported at once, with its location": also the problems found in the files the config names (JWKS, PEM, GeoIP).
     * Those files are opened once the config itself has no problems (README "Checking a config"): with a typo in the
     * config, the typo is what is reported.
     */
    @Test
    void problemsInReferencedFilesAreAllReportedAndLocatedOnceTheConfigIsValid() throws Exception {
        write("files/junk.mmdb", "not a MaxMind database\n");
        write("files/bad-jwks.json", "{ nope\n");
        write("files/bad.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        Path file = write("files/policy.yaml", String.join("\n",
                UPSTREAM,                                                         // 1
                "listn: 1",                                                       // 2
                "identity:",                                                      // 3
                "  jwt:",                                                         // 4
                "    - issuer: \"https://a.example.com/\"",                       // 5
                "      audience: [api]",                                          // 6
                "      jwks_file: \"bad-jwks.json\"",                             // 7
                "    - issuer: \"https://b.example.com/\"",                       // 8
                "      audience: [api]",                                          // 9
                "      public_key_file: \"bad.pem\"",                             // 10
                "geoip: { database: \"junk.mmdb\", asn_database: \"junk.mmdb\" }", // 11
                "rules:",                                                         // 12
                "  - name: embargo",                                              // 13
                "    match: { countries: [KP], asns: [1] }",                      // 14
                "    action: deny",                                               // 15
                ""));

        Path onlyFiles = write("files/only-files.yaml", Files.readString(file).replace("listn: 1", "# no typo here"));

        Result r = cli("check", "-c", file.toString());
        Result f = cli("check", "-c", onlyFiles.toString());

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(r.exit()).as(r.all()).isEqualTo(1);
        soft.assertThat(r.out()).isEmpty();
        soft.assertThat(r.errLines()).as("the config's own problem first:%n%s", r.err()).hasSize(2)
                .first().asString().startsWith(file + ":2:1: listn: unknown key");
        soft.assertThat(r.errLines()).as("summary").last().isEqualTo("1 problem in " + file);

        // the same four file problems without the typo: each one, each located
        soft.assertThat(f.exit()).as(f.all()).isEqualTo(1);
        soft.assertThat(f.out()).isEmpty();
        soft.assertThat(f.errLines()).as("only the referenced files are wrong:%n%s", f.err()).containsExactly(
                f.errLines().stream().filter(l -> l.startsWith(onlyFiles + ":7:18: identity.jwt[0].jwks_file: "))
                        .findFirst().orElse(onlyFiles + ":7:18: identity.jwt[0].jwks_file: <missing>"),
                f.errLines().stream().filter(l -> l.startsWith(onlyFiles + ":10:24: identity.jwt[1].public_key_file: "))
                        .findFirst().orElse(onlyFiles + ":10:24: identity.jwt[1].public_key_file: <missing>"),
                f.errLines().stream().filter(l -> l.startsWith(onlyFiles + ":11:20: geoip.database: "))
                        .findFirst().orElse(onlyFiles + ":11:20: geoip.database: <missing>"),
                f.errLines().stream().filter(l -> l.startsWith(onlyFiles + ":11:47: geoip.asn_database: "))
                        .findFirst().orElse(onlyFiles + ":11:47: geoip.asn_database: <missing>"),
                "4 problems in " + onlyFiles);
        soft.assertThat(r.err() + f.err()).as("no Java exception names in operator messages").doesNotContain("Exception");
        soft.assertAll();
    }

    /** A file that cannot be read or decoded is one clear line (plus the summary), exit 1, never a stack trace. */
    @Test
    void unreadableEmptyOrUndecodableFilesAreOneClearErrorEach() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("unreadable/a-folder.yaml"));
        Path empty = write("unreadable/empty.yaml", "");
        Path latin1 = dir.resolve("unreadable/latin1.yaml");
        Files.write(latin1, (UPSTREAM + "\nrules:\n  - name: \"caf\u00e9\"\n").getBytes(StandardCharsets.ISO_8859_1));
        Path missing = dir.resolve("unreadable/missing.yaml");

        for (Path p : List.of(folder, empty, latin1, missing)) {
            Result r = cli("check", "-c", p.toString());
            assertThat(r.exit()).as(r.all()).isEqualTo(1);
            assertThat(r.out()).as(r.all()).isEmpty();
            assertNoStackTrace(r);
            assertThat(r.errLines()).as(r.all()).isNotEmpty().hasSizeLessThanOrEqualTo(2)
                    .first().asString().startsWith(p.toString() + ":");
        }
        Result utf = cli("check", "-c", latin1.toString());
        assertThat(utf.errLines().get(0)).as("the byte that is not UTF-8: line 3, column 15")
                .startsWith(latin1 + ":3:15: ");
        Result emptyResult = cli("check", "-c", empty.toString());
        assertThat(emptyResult.errLines().get(0)).startsWith(empty + ":1:1: ");
    }

    /** SPEC 3.9: a YAML syntax error is located where the offending character is. */
    @Test
    void yamlSyntaxErrorsPointAtTheOffendingCharacter() throws Exception {
        Path tab = write("syntax/tab.yaml", String.join("\n",
                UPSTREAM,
                "default: deny",
                "rules:",
                "  - name: a",
                "\t  match: { paths: [\"/a\"] }",   // line 5, column 1: a tab used for indentation
                ""));
        Path quote = write("syntax/quote.yaml", String.join("\n",
                "upstream:",
                "  url: \"http://127.0.0.1:3000",   // line 2, column 8: a quote never closed
                "rules: []",
                ""));

        Result t = cli("check", "-c", tab.toString());
        Result q = cli("check", "-c", quote.toString());

        SoftAssertions soft = new SoftAssertions();
        for (Result r : List.of(t, q)) {
            soft.assertThat(r.exit()).as(r.all()).isEqualTo(1);
            soft.assertThat(r.out()).as(r.all()).isEmpty();
            soft.assertThat(r.err()).as(r.all()).doesNotContain("\tat ").doesNotContain("Exception");
        }
        soft.assertThat(t.errLines()).as("the tab is at line 5, column 1:%n%s", t.err())
                .first().asString().startsWith(tab + ":5:1: ").contains("TAB");
        soft.assertThat(q.errLines()).as("the unclosed quote opens at line 2, column 8 (or the file ends at 4:1):%n%s",
                        q.err())
                .first().asString().matches("\\Q" + quote + "\\E:(2:8|4:1): .*quoted scalar.*");
        soft.assertAll();
    }

    /** Anchor/alias expansion ("billion laughs") neither hangs nor exhausts memory: refused quickly, exit 1. */
    @Test
    void aBillionLaughsFileIsRefusedQuicklyWithLocatedProblems() throws Exception {
        StringBuilder yaml = new StringBuilder(UPSTREAM).append('\n');
        yaml.append("x0: &x0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (int i = 1; i <= 9; i++) {
            yaml.append("x").append(i).append(": &x").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                yaml.append(j == 0 ? "" : ",").append("*x").append(i - 1);
            }
            yaml.append("]\n");
        }
        yaml.append("rules:\n  - name: a\n    match: { paths: *x9 }\n");
        Path bomb = write("bomb/policy.yaml", yaml.toString());

        Result r = cli(Map.of(), null, "check", "-c", bomb.toString());

        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertNoStackTrace(r);
        assertThat(r.millis()).as("refused without expanding 10^10 nodes").isLessThan(15_000);
        List<String> lines = r.errLines();
        assertThat(lines.subList(0, lines.size() - 1)).as(r.all()).isNotEmpty()
                .allSatisfy(l -> assertThat(l).matches(LOCATED).startsWith(bomb + ":"));
        assertThat(lines.get(lines.size() - 1)).matches("\\d+ problems in \\Q" + bomb + "\\E");
        assertThat(r.err()).contains(bomb + ":14:21: rules[0].match.paths");
    }

    /**
     * SPEC 2 explain: the decision, the deciding rule and each predicate's outcome, exit 0; SPEC 3.2: IPv4-mapped IPv6
     * compares as IPv4, a trailing slash is ignored, header names are case-insensitive; schedules use --at.
     */
    @Test
    void explainShowsEachPredicateAndTheDecidingRule() throws Exception {
        Path file = write("explain/policy.yaml", UPSTREAM + """

                default: deny
                rules:
                  - name: office-only
                    match: { paths: ["/reports/**"], methods: [GET] }
                    require:
                      headers: { X-Env: [prod] }
                      ip: ["10.20.0.0/16"]
                      schedule: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: "Europe/Berlin" }
                  - name: hidden
                    match: { paths: ["/**"] }
                    action: deny
                    deny_status: 404
                """);
        String c = file.toString();

        Result allowed = cli("explain", "-c", c, "--method", "GET", "--path", "/reports/q1/", "--ip",
                "::ffff:10.20.1.5", "--header", "x-env: prod", "--at", "2026-03-13T10:00:00+01:00");
        assertThat(allowed.exit()).as(allowed.all()).isZero();
        assertThat(allowed.err()).isEmpty();
        assertThat(allowed.out()).as(allowed.all())
                .contains("client    10.20.1.5")
                .contains("time      2026-03-13T09:00:00Z")
                .contains("1. office-only (allow, enforce): matched")
                .contains("match holds: paths [/reports/**]")
                .contains("match holds: methods [GET]")
                .contains("require holds: ip [10.20.0.0/16]")
                .contains("require holds: header X-Env in [prod]")
                .contains("require holds: schedule mon-fri 08:00-19:00 Europe/Berlin")
                .doesNotContain("2. hidden")
                .endsWith("decision  200 proxied, rule office-only: allowed by rule office-only\n");

        Result saturday = cli("explain", "-c", c, "--method", "GET", "--path", "/reports/q1", "--ip", "10.20.1.5",
                "--header", "X-Env: prod", "--at", "2026-03-14T10:00:00Z");
        assertThat(saturday.exit()).as(saturday.all()).isZero();
        assertThat(saturday.out()).as(saturday.all())
                .contains("require fails: schedule mon-fri 08:00-19:00 Europe/Berlin -- time Sat 11:00 Europe/Berlin")
                .contains("decision  403 forbidden, rule office-only");

        Result post = cli("explain", "-c", c, "--method", "POST", "--path", "/reports/q1", "--json");
        assertThat(post.exit()).as(post.all()).isZero();
        JsonNode json = new ObjectMapper().readTree(post.out());
        assertThat(json.at("/status").asInt()).as(post.all()).isEqualTo(404);
        assertThat(json.at("/decision/rule").asText()).as(post.all()).isEqualTo("hidden");
    }

    /**
     * Usage errors (unknown command, unknown option, missing required option, malformed option value) exit 2 with the
     * reason and usage on stderr and nothing on stdout; --version and --help exit 0 on stdout.
     */
    @Test
    void usageErrorsExitTwoWithTheReasonOnStderrAndHelpAndVersionExitZero() throws Exception {
        Path file = write("usage/policy.yaml", UPSTREAM + "\nrules: []\n");
        String c = file.toString();

        Result unknownCommand = cli("frobnicate");
        Result unknownOption = cli("check", "--frobnicate", "-c", c);
        Result missingPath = cli("explain", "-c", c, "--method", "GET");
        Result noOffset = cli("explain", "-c", c, "--method", "GET", "--path", "/", "--at", "2026-03-13T10:00:00");
        Result testNoCases = cli("test", "-c", c);

        SoftAssertions soft = new SoftAssertions();
        for (Result r : List.of(unknownCommand, unknownOption, missingPath, noOffset, testNoCases)) {
            soft.assertThat(r.exit()).as(r.all()).isEqualTo(2);
            soft.assertThat(r.out()).as(r.all()).isEmpty();
            soft.assertThat(r.err()).as(r.all()).doesNotContain("\tat ").doesNotContain("Exception");
        }
        soft.assertThat(unknownCommand.err()).contains("frobnicate");
        soft.assertThat(unknownOption.err()).contains("--frobnicate").contains("Usage: portcullis check");
        soft.assertThat(missingPath.err()).contains("--path").contains("Usage: portcullis explain");
        soft.assertThat(noOffset.err()).contains("\"2026-03-13T10:00:00\" is not a valid --at");
        soft.assertThat(testNoCases.err()).contains("Usage: portcullis test");

        Result version = cli("--version");
        Result help = cli("--help");
        Result checkHelp = cli("check", "--help");
        soft.assertThat(version.exit()).isZero();
        soft.assertThat(version.out()).matches("portcullis \\S+\\R");
        soft.assertThat(version.err()).isEmpty();
        soft.assertThat(help.exit()).isZero();
        soft.assertThat(help.out()).contains("run").contains("check").contains("explain").contains("test")
                .contains("demo");
        soft.assertThat(help.err()).isEmpty();
        soft.assertThat(checkHelp.exit()).isZero();
        soft.assertThat(checkHelp.out()).contains("Usage: portcullis check").contains("--config");
        soft.assertAll();
    }

    /**
     * SPEC 3.10 / README: test reports file problems "like config problems", i.e. every one (SPEC 3.9), exit 1; a
     * run where every case passes exits 0, one failing case exits 1 naming the case, expected and got.
     */
    @Test
    void testReportsEveryProblemOfACasesFileAndDecidesCasesWithHeadersAndTime() throws Exception {
        Path policy = write("cases/policy.yaml", UPSTREAM + """

                default: deny
                rules:
                  - name: office-only
                    match: { paths: ["/reports/**"] }
                    require:
                      headers: { X-Env: [prod] }
                      schedule: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: "UTC" }
                """);
        Path broken = write("cases/broken.yaml", String.join("\n",
                "cases:",                                               // 1
                "  - name: one",                                        // 2
                "    request: \"GET /reports/q1\"",                     // 3
                "    expect: { status: \"two hundred\" }",              // 4
                "  - name: two",                                        // 5
                "    request: { path: /reports/q1 }",                   // 6
                "    expect: { status: 302 }",                          // 7
                ""));
        Path good = write("cases/good.yaml", """
                cases:
                  - name: weekday with the header
                    request: { path: /reports/q1, headers: { X-Env: prod }, at: "2026-03-13T10:00:00Z" }
                    expect: { status: 200, rule: office-only }
                  - name: weekend
                    request: { path: /reports/q1, headers: { X-Env: prod }, at: "2026-03-14T10:00:00Z" }
                    expect: { status: 403, rule: office-only }
                """);
        Path failing = write("cases/failing.yaml", """
                cases:
                  - name: weekday with the header
                    request: { path: /reports/q1, headers: { X-Env: prod }, at: "2026-03-13T10:00:00Z" }
                    expect: { status: 200, rule: office-only }
                  - name: evening is open too
                    request: { path: /reports/q1, headers: { X-Env: prod }, at: "2026-03-13T20:00:00Z" }
                    expect: { status: 200 }
                """);

        Result pass = cli("test", "-c", policy.toString(), good.toString());
        assertThat(pass.exit()).as(pass.all()).isZero();
        assertThat(pass.err()).isEmpty();
        assertThat(pass.out().lines().toList()).as(pass.all()).containsExactly(
                "PASS  weekday with the header: 200, rule office-only",
                "PASS  weekend: 403, rule office-only",
                "2 passed, 0 failed");

        Result fail = cli("test", "-c", policy.toString(), failing.toString());
        assertThat(fail.exit()).as(fail.all()).isEqualTo(1);
        assertThat(fail.out().lines().toList()).as(fail.all()).hasSize(3)
                .contains("PASS  weekday with the header: 200, rule office-only")
                .anySatisfy(l -> assertThat(l).startsWith("FAIL  evening is open too (" + failing + ":5): expected 200;"
                        + " got 403, rule office-only"))
                .endsWith("1 passed, 1 failed");

        Result problems = cli("test", "-c", policy.toString(), broken.toString());
        assertThat(problems.exit()).as(problems.all()).isEqualTo(1);
        assertThat(problems.out()).isEmpty();
        assertNoStackTrace(problems);
        assertThat(problems.errLines()).as("every problem of the cases file:%n%s", problems.err()).containsExactly(
                broken + ":3:14: cases[0].request: \"GET /reports/q1\" is not a mapping (expected: a mapping with keys"
                        + " method, path, ip, roles, subject, headers, host, country, asn, at, jwt_claims)",
                broken + ":4:23: cases[0].expect.status: \"two hundred\" is not a status the gateway decides"
                        + " (expected: 200 (would be proxied), 400, 401, 403, 404, 405, 413 or 414)",
                broken + ":7:23: cases[1].expect.status: \"302\" is not a status the gateway decides"
                        + " (expected: 200 (would be proxied), 400, 401, 403, 404, 405, 413 or 414)",
                "3 problems in " + broken);
    }

    /**
     * SPEC 2: run reads $PORTCULLIS_CONFIG when -c is absent; an invalid config ends it promptly (exit 1, every
     * problem on stderr, no stack trace), and so does a listen address already in use (non-zero, one clear line).
     */
    @Test
    void runFailsPromptlyAndCleanlyOnAnInvalidConfigOrABusyPort() throws Exception {
        Path invalid = write("run/invalid.yaml", String.join("\n",
                UPSTREAM,
                "rules:",
                "  - name: a",
                "    action: maybe",
                "  - name: a",
                ""));
        Result r = cli(Map.of("PORTCULLIS_CONFIG", invalid.toString()), dir, "run");
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertNoStackTrace(r);
        assertThat(r.errLines()).as(r.all()).containsExactly(
                invalid + ":4:13: rules[0].action: \"maybe\" is not a valid action (expected: allow or deny)",
                invalid + ":5:11: rules[1].name: \"a\" already used by rules[0]",
                "2 problems in " + invalid);

        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path taken = write("run/taken.yaml", String.join("\n",
                    "listen: \"127.0.0.1:" + busy.getLocalPort() + "\"",
                    "admin: { listen: \"127.0.0.1:0\" }",
                    UPSTREAM,
                    "rules: []",
                    ""));
            Result bind = cli("run", "-c", taken.toString());
            assertThat(bind.exit()).as(bind.all()).isNotZero();
            assertNoStackTrace(bind);
            assertThat(bind.err() + bind.out()).as(bind.all()).contains(Integer.toString(busy.getLocalPort()))
                    .containsIgnoringCase("in use");
        }
    }
}
