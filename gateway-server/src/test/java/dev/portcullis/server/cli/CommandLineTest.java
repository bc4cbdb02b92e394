package dev.portcullis.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.geo.MmdbWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class CommandLineTest {
    private static final Path CONFIG_DIR = Path.of("..", "config");

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

    static Stream<Path> exampleConfigs() throws IOException {
        try (Stream<Path> examples = Files.list(CONFIG_DIR.resolve("examples"))) {
            List<Path> files = examples.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !p.toString().endsWith("-tests.yaml")) // policy test cases, run by TestCommandTest
                    .sorted().toList();
            assertThat(files).isNotEmpty();
            return Stream.concat(Stream.of(CONFIG_DIR.resolve("policy.yaml")), files.stream());
        }
    }

    @ParameterizedTest
    @MethodSource("exampleConfigs")
    void everyShippedConfigPassesCheck(Path file) {
        Result result = run("check", "-c", file.toString());
        assertThat(result.err()).isEmpty();
        assertThat(result.exit()).isZero();
        assertThat(result.out()).matches("OK: \\d+ rules?\\R");
    }

    @Test
    void checkCountsTheRulesOfTheDocumentedExample() {
        assertThat(run("check", "-c", CONFIG_DIR.resolve("policy.yaml").toString()).out()).isEqualTo("OK: 10 rules\n");
    }

    @Test
    void checkListsEveryProblemAndExitsOne(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, String.join("\n",
                "listn: 1",
                "upstream: {url: \"http://127.0.0.1:3000\"}",
                "rules:",
                "  - name: a",
                "    match: {ip: [\"10.0.0.300/8\"], methods: [get]}",
                "  - name: a",
                ""));
        Result result = run("check", "-c", file.toString());
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList())
                .hasSize(5)
                .anySatisfy(l -> assertThat(l).startsWith(file + ":1:1: listn: unknown key \"listn\""))
                .anySatisfy(l -> assertThat(l).startsWith(file + ":5:18: rules[0].match.ip[0]: \"10.0.0.300/8\""))
                .anySatisfy(l -> assertThat(l).startsWith(file + ":5:45: rules[0].match.methods[0]: \"get\""))
                .anySatisfy(l -> assertThat(l).isEqualTo(file + ":6:11: rules[1].name: \"a\" already used by rules[0]"))
                .last().isEqualTo("4 problems in " + file);
        assertThat(result.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void checkPrintsWarningsWithTheirLocationAndStillExitsZero(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("risky.yaml");
        Files.writeString(file, String.join("\n",
                "upstream: {url: \"http://127.0.0.1:3000\"}",
                "identity:",
                "  jwt:",
                "    issuer: https://auth.example.com/",
                "    jwks_url: https://auth.example.com/jwks.json",
                "  forwarded:",
                "    trusted_proxies: [\"10.0.0.0/8\"]",
                "    user_header: X-Forwarded-User",
                ""));
        Result result = run("check", "-c", file.toString());
        assertThat(result.exit()).isZero();
        assertThat(result.out()).isEqualTo("OK: 0 rules\n");
        assertThat(result.err().lines().toList()).containsExactly(
                file + ":4:5: identity.jwt: warning: no audience: tokens this issuer made for any other service are"
                        + " accepted too (expected: audience naming this service, e.g. [orders-api])",
                file + ":7:23: identity.forwarded.trusted_proxies[0]: warning: \"10.0.0.0/8\" is wider than a /16:"
                        + " every address in it may name any user (expected: the authenticating proxy's own address,"
                        + " e.g. 10.0.0.7/32)");
    }

    @Test
    void checkAndTestNeverConnectToAJwksUrl(@TempDir Path dir) throws Exception {
        try (ConnectionRecorder jwks = ConnectionRecorder.start()) {
            Path file = dir.resolve("remote-keys.yaml");
            Files.writeString(file, String.join("\n",
                    "upstream: {url: \"http://127.0.0.1:3000\"}",
                    "identity:",
                    "  jwt:",
                    "    issuer: https://auth.example.com/",
                    "    audience: [orders-api]",
                    "    jwks_url: http://127.0.0.1:" + jwks.port() + "/jwks.json",
                    "rules:",
                    "  - name: admin",
                    "    match: {paths: [\"/admin/**\"]}",
                    "    require: {roles: [admin]}",
                    ""));
            Path cases = dir.resolve("cases.yaml");
            Files.writeString(cases, String.join("\n",
                    "cases:",
                    "  - name: admins",
                    "    request: {path: /admin/x, subject: alice, roles: [admin]}",
                    "    expect: {status: 200, rule: admin}",
                    ""));

            Result check = run("check", "-c", file.toString());
            Result test = run("test", "-c", file.toString(), cases.toString());

            assertThat(check.err()).isEmpty();
            assertThat(check.out()).isEqualTo("OK: 1 rules\n");
            assertThat(check.exit()).isZero();
            assertThat(test.out()).endsWith("1 passed, 0 failed\n");
            assertThat(test.exit()).isZero();
            assertThat(jwks.connectionsBeforeOwnProbe()).isZero();
        }
    }

    @Test
    void aSingleJwtProviderWrittenAsAMappingIsNamedWithoutAnIndexInEveryProblem(@TempDir Path dir)
            throws IOException {
        Files.writeString(dir.resolve("junk.json"), "not a JWK set");
        Path junk = dir.resolve("junk.yaml");
        Files.writeString(junk, String.join("\n",
                "upstream: {url: \"http://127.0.0.1:3000\"}",
                "identity:",
                "  jwt:",
                "    issuer: \"https://a.example.com/\"",
                "    audience: [orders]",
                "    jwks_file: junk.json",
                ""));
        Path missing = dir.resolve("missing.yaml");
        Files.writeString(missing, Files.readString(junk).replace("junk.json", "missing.json"));

        Result junkCheck = run("check", "-c", junk.toString());
        Result missingCheck = run("check", "-c", missing.toString());

        assertThat(junkCheck.exit()).isEqualTo(1);
        assertThat(junkCheck.err()).startsWith(junk + ":6:16: identity.jwt.jwks_file: jwks_file ");
        assertThat(missingCheck.exit()).isEqualTo(1);
        assertThat(missingCheck.err()).startsWith(missing + ":6:16: identity.jwt.jwks_file: ");
    }

    @Test
    void checkRefusesAForwardedSectionWithoutItsOwnTrustedProxies(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fwd.yaml");
        Files.writeString(file, String.join("\n",
                "upstream: {url: \"http://127.0.0.1:3000\"}",
                "clients: {trusted_proxies: [\"10.0.0.0/8\"]}",
                "identity:",
                "  forwarded:",
                "    trusted_proxies: [\"::/0\"]",
                "    user_header: X-Forwarded-User",
                ""));
        Result result = run("check", "-c", file.toString());
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).startsWith(file + ":5:23: identity.forwarded.trusted_proxies[0]: \"::/0\" would"
                + " believe identity headers from every IPv6 address");
    }

    @Test
    void checkRefusesAGeoIpDatabaseOfTheWrongTypeLocatingItsKeyAndNamingItsPath(@TempDir Path dir) throws IOException {
        MmdbWriter.asns(Map.of("81.2.69.0/24", 64500L)).write(dir.resolve("asn.mmdb"));
        MmdbWriter.countries(Map.of("81.2.69.0/24", "GB")).write(dir.resolve("country.mmdb"));
        Path swapped = dir.resolve("swapped.yaml");
        Files.writeString(swapped, String.join("\n",
                "upstream: {url: \"http://127.0.0.1:3000\"}",
                "geoip: {database: asn.mmdb}",
                "rules:",
                "  - name: embargo",
                "    match: {countries: [KP]}",
                "    action: deny",
                ""));
        Result country = run("check", "-c", swapped.toString());
        assertThat(country.exit()).isEqualTo(1);
        assertThat(country.out()).isEmpty();
        assertThat(country.err().lines().toList()).containsExactly(
                swapped + ":2:19: geoip.database: \"" + dir.resolve("asn.mmdb")
                        + "\" is a GeoLite2-ASN database (expected: a Country or City database)",
                "1 problem in " + swapped);

        Path asn = dir.resolve("asn.yaml");
        Files.writeString(asn, String.join("\n",
                "upstream: {url: \"http://127.0.0.1:3000\"}",
                "geoip: {asn_database: country.mmdb}",
                "rules:",
                "  - name: bad-network",
                "    match: {asns: [64500]}",
                "    action: deny",
                ""));
        Result wrongAsn = run("check", "-c", asn.toString());
        assertThat(wrongAsn.exit()).isEqualTo(1);
        assertThat(wrongAsn.err().lines().toList()).containsExactly(
                asn + ":2:23: geoip.asn_database: \"" + dir.resolve("country.mmdb")
                        + "\" is a GeoLite2-Country database (expected: an ASN database)",
                "1 problem in " + asn);
    }

    @Test
    void checkReportsAMissingFileWithoutAStackTrace(@TempDir Path dir) {
        Result result = run("check", "-c", dir.resolve("nope.yaml").toString());
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("nope.yaml: no such file").doesNotContain("Exception");
    }

    @Test
    void checkRefusesAConfigOverTheSizeCapWithoutReadingItAll(@TempDir Path dir) throws IOException {
        Path big = dir.resolve("big.yaml");
        Files.write(big, new byte[ConfigText.MAX_BYTES + 1]);

        Result result = run("check", "-c", big.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList()).containsExactly(
                big + ":1:1: (root): file is larger than 1 MiB (expected: a file of at most 1 MiB)",
                "1 problem in " + big);
    }

    @Test
    @Timeout(30)
    void checkOfAnEndlessFileEnds() {
        assumeTrue(Files.isReadable(Path.of("/dev/zero")));

        Result result = run("check", "-c", "/dev/zero");

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).startsWith("/dev/zero:1:1: (root): file is larger than 1 MiB");
    }

    @Test
    void checkSaysWhyAConfigCannotBeRead(@TempDir Path dir) throws IOException {
        Path folder = Files.createDirectory(dir.resolve("policy.yaml"));

        Result result = run("check", "-c", folder.toString());

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).isEqualTo(folder + ": cannot be read (it is a folder)\n");
    }

    @Test
    void versionAndHelpExitZero() {
        Result version = run("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).startsWith("portcullis ");
        Result help = run("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("run").contains("check");
    }

    @Test
    void runRefusesAnInvalidConfig(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "upstream: {url: 42}\n");
        Result result = run("run", "-c", file.toString());
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("upstream.url");
    }

    /** README "The jar": usage errors exit 2, apart from the 0/1 each command documents. */
    @Test
    void usageErrorsExitTwo() {
        Result unknownFlag = run("check", "--no-such-flag");
        Result missingArgument = run("test", "-c", "policy.yaml");
        Result missingValue = run("check", "-c");
        Result noCommand = run();

        assertThat(List.of(unknownFlag, missingArgument, missingValue, noCommand)).allSatisfy(r -> {
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
        });
        assertThat(unknownFlag.err()).startsWith("Unknown option: '--no-such-flag'");
        assertThat(missingArgument.err()).startsWith("Missing required parameter: 'CASES.yaml'");
        assertThat(noCommand.err()).contains("a command is required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--transport=kqueue", "--transport=NIO", "--transport=bogus", "--transport="})
    void runRefusesATransportItWouldNotUseAsAUsageError(String option) {
        // the config is never read: the option is refused before anything starts
        Result result = run("run", option, "-c", "no-such-policy.yaml");

        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).startsWith("\"" + option.substring("--transport=".length())
                + "\" is not a valid --transport (expected: auto or nio)");
    }

    /**
     * A loopback listener that records connections. {@link #connectionsBeforeOwnProbe} connects itself and counts
     * the connections the kernel queued before that probe: every connection attempt made before the call.
     */
    private static final class ConnectionRecorder implements AutoCloseable {
        private final ServerSocket server;

        private ConnectionRecorder(ServerSocket server) {
            this.server = server;
        }

        static ConnectionRecorder start() throws IOException {
            return new ConnectionRecorder(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        }

        int port() {
            return server.getLocalPort();
        }

        int connectionsBeforeOwnProbe() throws IOException {
            server.setSoTimeout(10_000);
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port())) {
                int before = 0;
                while (true) {
                    try (Socket accepted = server.accept()) {
                        if (accepted.getPort() == probe.getLocalPort()) {
                            return before;
                        }
                        before++;
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
