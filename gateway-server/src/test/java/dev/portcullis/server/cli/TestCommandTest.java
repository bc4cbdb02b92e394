package dev.portcullis.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.geo.MmdbWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TestCommandTest {
    private static final Path CONFIG_DIR = Path.of("..", "config");
    private static final String POLICY = CONFIG_DIR.resolve("policy.yaml").toString();

    record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new PortcullisCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void theShippedCasesPassAgainstTheExamplePolicy() {
        Result result = run("test", "-c", POLICY, CONFIG_DIR.resolve("examples/policy-tests.yaml").toString());

        assertThat(result.err()).isEmpty();
        assertThat(result.out()).doesNotContain("FAIL");
        assertThat(result.out().lines().toList()).hasSize(17)
                .startsWith("PASS  abusive networks are blocked, even for admins: 403, rule block-abusive-networks")
                .endsWith("16 passed, 0 failed");
        assertThat(result.exit()).isZero();
    }

    @Test
    void aFailingCaseShowsExpectedAndActualAndExitsOne(@TempDir Path dir) throws IOException {
        Path cases = dir.resolve("cases.yaml");
        Files.writeString(cases, """
                cases:
                  - name: health
                    request: { path: /healthz }
                    expect: { status: 200, rule: health }
                  - name: viewers may delete users
                    request: { method: DELETE, path: /api/users/42, subject: bob, roles: [viewer] }
                    expect: { status: 200 }
                  - name: wrong rule
                    request: { path: /assets/app.js }
                    expect: { status: 200, rule: app }
                """);

        Result result = run("test", "-c", POLICY, cases.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).isEmpty();
        assertThat(result.out().lines().toList()).containsExactly(
                "PASS  health: 200, rule health",
                "FAIL  viewers may delete users (" + cases + ":5): expected 200; got 403, rule delete-users-admins-only"
                        + " (rule delete-users-admins-only: role admin missing)",
                "FAIL  wrong rule (" + cases + ":8): expected 200, rule app; got 200, rule static-assets (allowed by "
                        + "rule static-assets)",
                "1 passed, 2 failed");
    }

    @Test
    void aCasesCountryAndAsnDecideGeoIpRules(@TempDir Path dir) throws IOException {
        MmdbWriter.countries(Map.of("175.45.176.0/22", "KP", "81.2.69.0/24", "GB")).write(dir.resolve("country.mmdb"));
        MmdbWriter.asns(Map.of("81.2.69.128/25", 64500L)).write(dir.resolve("asn.mmdb"));
        Path config = dir.resolve("geo.yaml");
        Files.writeString(config, """
                upstream: { url: "http://127.0.0.1:3000" }
                geoip: { database: "country.mmdb", asn_database: "asn.mmdb" }
                default: allow
                rules:
                  - name: embargo
                    match: { countries: [KP, IR] }
                    action: deny
                  - name: bad-network
                    match: { asns: [64500] }
                    action: deny
                """);
        Path cases = dir.resolve("cases.yaml");
        Files.writeString(cases, """
                cases:
                  - name: embargoed country
                    request: { path: /x, country: KP }
                    expect: { status: 403, rule: embargo }
                  - name: other country
                    request: { path: /x, country: GB }
                    expect: { status: 200 }
                  - name: bad network
                    request: { path: /x, country: GB, asn: 64500 }
                    expect: { status: 403, rule: bad-network }
                  - name: wrong country expectation
                    request: { path: /x, country: DE }
                    expect: { status: 403, rule: embargo }
                  - name: wrong asn expectation
                    request: { path: /x, asn: 64501 }
                    expect: { status: 403, rule: bad-network }
                  - name: encoded slash
                    request: { path: /a%2Fb, country: KP }
                    expect: { status: 400 }
                """);

        Result result = run("test", "-c", config.toString(), cases.toString());

        assertThat(result.err()).isEmpty();
        assertThat(result.out().lines().toList()).containsExactly(
                "PASS  embargoed country: 403, rule embargo",
                "PASS  other country: 200, no rule (default)",
                "PASS  bad network: 403, rule bad-network",
                "FAIL  wrong country expectation (" + cases + ":11): expected 403, rule embargo; got 200, no rule"
                        + " (default) (no rule matched, default allow)",
                "FAIL  wrong asn expectation (" + cases + ":14): expected 403, rule bad-network; got 200, no rule"
                        + " (default) (no rule matched, default allow)",
                "PASS  encoded slash: 400, no rule (rejected before the rules)",
                "4 passed, 2 failed");
        assertThat(result.exit()).isEqualTo(1);
    }

    @Test
    void keyFilesAndGeoIpDatabasesNeedNotExistForTestButDoForCheck(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, """
                upstream: { url: "http://127.0.0.1:3000" }
                geoip: { database: "/nonexistent/GeoLite2-Country.mmdb", asn_database: "/nonexistent/GeoLite2-ASN.mmdb" }
                identity:
                  jwt:
                    - issuer: "https://auth.example.com"
                      jwks_file: "/nonexistent/keys/jwks.json"
                default: allow
                rules:
                  - name: embargo
                    match: { countries: [KP] }
                    action: deny
                """);
        Path cases = dir.resolve("cases.yaml");
        Files.writeString(cases, """
                cases:
                  - name: embargoed country
                    request: { path: /x, country: KP }
                    expect: { status: 403, rule: embargo }
                """);

        Result test = run("test", "-c", config.toString(), cases.toString());
        Result check = run("check", "-c", config.toString());

        assertThat(test.err()).isEmpty();
        assertThat(test.out().lines().toList())
                .containsExactly("PASS  embargoed country: 403, rule embargo", "1 passed, 0 failed");
        assertThat(test.exit()).isZero();
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.err().lines().toList()).hasSize(4)
                .anyMatch(line -> line.contains("geoip.database: \"/nonexistent/GeoLite2-Country.mmdb\" does not exist"))
                .anyMatch(line -> line.contains("geoip.asn_database: \"/nonexistent/GeoLite2-ASN.mmdb\" does not"))
                .anyMatch(line -> line.contains("identity.jwt[0].jwks_file: \"/nonexistent/keys/jwks.json\" does not"))
                .endsWith("3 problems in " + config);
    }

    @Test
    void otherConfigErrorsAreStillReportedByTest(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, """
                upstream: { url: "http://127.0.0.1:3000" }
                identity:
                  jwt:
                    - issuer: "https://auth.example.com"
                      jwks_file: ""
                rules:
                  - name: embargo
                    match: { countries: [KP] }
                    action: deny
                """);

        Result test = run("test", "-c", config.toString(), CONFIG_DIR.resolve("examples/policy-tests.yaml").toString());

        assertThat(test.exit()).isEqualTo(1);
        assertThat(test.out()).isEmpty();
        assertThat(test.err()).contains("identity.jwt[0].jwks_file: \"\" is not a valid file path")
                .contains("rules[0].match.countries").endsWith("2 problems in " + config + "\n");
    }

    @Test
    void aNonUtf8CasesFileIsLocatedAsInAConfig(@TempDir Path dir) throws IOException {
        Path cases = dir.resolve("t.yaml");
        Files.write(cases, "cases:\n  - name: caf\u00e9\n    request: { path: /x\u00ff }\n"
                .getBytes(StandardCharsets.ISO_8859_1));

        Result result = run("test", "-c", POLICY, cases.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList()).containsExactly(
                cases + ":2:14: (root): invalid UTF-8 byte sequence (expected: a UTF-8 encoded file)",
                "1 problem in " + cases);
    }

    @Test
    void aCasesFileOverTheSizeCapIsRefusedAtOnce(@TempDir Path dir) throws IOException {
        Path cases = dir.resolve("big.yaml");
        Files.write(cases, new byte[ConfigText.MAX_BYTES + 1]);

        Result result = run("test", "-c", POLICY, cases.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList()).containsExactly(
                cases + ":1:1: (root): file is larger than 1 MiB (expected: a file of at most 1 MiB)",
                "1 problem in " + cases);
    }

    @Test
    void aMalformedCasesFileIsReportedLikeConfigProblems(@TempDir Path dir) throws IOException {
        Path cases = dir.resolve("cases.yaml");
        Files.writeString(cases, """
                cases:
                  - name: typo
                    request: { path: /x, ip: 10.0.0.300 }
                    expect: { stauts: 200 }
                """);

        Result result = run("test", "-c", POLICY, cases.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList()).containsExactly(
                cases + ":3:30: cases[0].request.ip: \"10.0.0.300\" is not an IP address (expected: an IPv4 or IPv6 "
                        + "address, e.g. 10.20.1.5)",
                cases + ":4:13: cases[0].expect.status: required key is missing (expected: the status, e.g. 200 for "
                        + "\"would be proxied\")",
                cases + ":4:15: cases[0].expect.stauts: unknown key \"stauts\" (expected one of: status, rule)",
                "3 problems in " + cases);
    }

    @Test
    void anExpectedRuleThePolicyDoesNotHaveStopsTheRunBeforeAnyCase(@TempDir Path dir) throws IOException {
        Path policy = CONFIG_DIR.resolve("examples/quickstart.yaml");
        Path cases = dir.resolve("cases.yaml");
        Files.writeString(cases, """
                cases:
                  - name: health
                    request: { path: /healthz }
                    expect: { status: 200, rule: helth }
                """);

        Result result = run("test", "-c", policy.toString(), cases.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList()).containsExactly(
                cases + ":4:34: cases[0].expect.rule: \"helth\" is not a rule of " + policy + " (expected one of: "
                        + "block-bad-network, health, admin-from-office, hide-internal, everything-else-read-only)",
                "1 problem in " + cases);
    }

    @Test
    void missingFilesAndBrokenYamlNeverShowAStackTrace(@TempDir Path dir) throws IOException {
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "cases: [ { name: x\n");

        Result missing = run("test", "-c", POLICY, dir.resolve("none.yaml").toString());
        Result yaml = run("test", "-c", POLICY, broken.toString());

        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo(dir.resolve("none.yaml") + ": no such file\n");
        assertThat(yaml.exit()).isEqualTo(1);
        assertThat(yaml.err()).startsWith(broken + ":2:1: (root): invalid YAML: ").doesNotContain("\tat ")
                .endsWith("1 problem in " + broken + "\n");
    }
}
