package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPEC 3.8 / 6: every kind of invalid file is rejected by {@code POST /reload} with 422 and a located
 * problem; the old policy keeps deciding, the rejection is counted and shown as {@code last_error}, and the
 * next valid file is applied and clears it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReloadRejectionIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    /** Allows /open/**, everything else falls to default deny (403). */
    static final String OPEN_ONLY = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            default: deny
            rules:
              - name: open
                match: { paths: ["/open/**"] }
            """;

    /** Also allows /closed/**: what a wrongly applied reload would widen access to. */
    static final String OPEN_AND_CLOSED = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            default: deny
            rules:
              - name: open
                match: { paths: ["/open/**"] }
              - name: closed-too
                match: { paths: ["/closed/**"] }
            """;

    /** FILE:LINE:COLUMN: at the start of a problem. */
    private static final String LOCATED = "^\\S*policy\\.yaml:\\d+:\\d+: .+";

    static Stream<Arguments> invalidFiles() {
        String valid = OPEN_AND_CLOSED;
        int cut = valid.indexOf("[\"/closed") + 4;
        return Stream.of(
                Arguments.of("bad YAML", valid.replace("rules:\n", "rules:\n  - name: [unclosed\n"), "invalid YAML"),
                Arguments.of("unknown key", valid.replace("default: deny", "defualt: deny"), "defualt"),
                Arguments.of("bad CIDR", valid.replace("match: { paths: [\"/closed/**\"] }",
                        "match: { paths: [\"/closed/**\"], ip: [\"10.0.0.300/8\"] }"), "10.0.0.300/8"),
                Arguments.of("missing JWKS file", valid.replace("default: deny", String.join("\n",
                        "identity:",
                        "  jwt:",
                        "    issuer: \"https://issuer.test/\"",
                        "    algorithms: [RS256]",
                        "    jwks_file: \"no-such-jwks.json\"",
                        "default: deny")), "no-such-jwks.json"),
                Arguments.of("empty file", "", "policy.yaml"),
                Arguments.of("half-written file", valid.substring(0, cut), "policy.yaml"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidFiles")
    void rejectsAnInvalidFileAndKeepsTheOldPolicy(String kind, String invalid, String mentioned, @TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("policy.yaml");
        String initial = harness.fill(OPEN_ONLY, Map.of());
        Files.writeString(file, initial, StandardCharsets.UTF_8);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        JsonNode before = admin.config();
        assertThat(before.path("version").asText()).isEqualTo(ConfigAdmin.version(initial));
        assertThat(before.path("last_error").isNull()).as("last_error before any reload: %s", before).isTrue();
        assertThat(before.path("reloads").path("rejected").asLong()).isZero();

        Files.writeString(file, harness.fill(invalid, Map.of()), StandardCharsets.UTF_8);
        ConfigAdmin.Answer rejected = admin.reload();

        assertThat(rejected.status()).as("POST /reload of the %s: %s", kind, rejected.body()).isEqualTo(422);
        assertThat(rejected.body().path("error").asText()).isNotBlank();
        List<String> problems = texts(rejected.body().path("problems"));
        assertThat(problems).as("problems of the %s", kind).isNotEmpty().allMatch(p -> p.matches(LOCATED));
        assertThat(String.join("\n", problems)).contains(mentioned);
        assertOldPolicyDecides(gw);

        JsonNode after = admin.config();
        assertThat(after.path("version").asText()).isEqualTo(ConfigAdmin.version(initial));
        assertThat(after.path("generation").asLong()).isEqualTo(before.path("generation").asLong());
        assertThat(after.path("reloads").path("rejected").asLong()).isEqualTo(1);
        assertThat(after.path("reloads").path("applied").asLong()).isZero();
        JsonNode lastError = after.path("last_error");
        assertThat(lastError.isObject()).as("last_error after the %s: %s", kind, after).isTrue();
        assertThat(lastError.path("trigger").asText()).isEqualTo("admin");
        assertThat(lastError.path("error").asText()).isEqualTo(rejected.body().path("error").asText());
        assertThat(lastError.path("at").asText()).isNotBlank();
        assertThat(texts(lastError.path("problems"))).isEqualTo(problems);

        String fixed = harness.fill(OPEN_AND_CLOSED, Map.of());
        Files.writeString(file, fixed, StandardCharsets.UTF_8);
        ConfigAdmin.Answer applied = admin.reload();

        assertThat(applied.status()).as("POST /reload of a valid file: %s", applied.body()).isEqualTo(200);
        assertThat(applied.body().path("version").asText()).isEqualTo(ConfigAdmin.version(fixed));
        assertThat(applied.body().path("generation").asLong()).isEqualTo(before.path("generation").asLong() + 1);
        assertThat(texts(applied.body().path("warnings"))).isEmpty();
        JsonNode cleared = admin.config();
        assertThat(cleared.path("last_error").isNull()).as("last_error after a good reload: %s", cleared).isTrue();
        assertThat(cleared.path("version").asText()).isEqualTo(ConfigAdmin.version(fixed));
        assertThat(cleared.path("reloads").path("applied").asLong()).isEqualTo(1);
        assertThat(cleared.path("reloads").path("rejected").asLong()).isEqualTo(1);
        assertThat(harness.get(gw, "/closed/x").statusCode()).as("the new policy allows /closed").isEqualTo(200);
    }

    @Test
    void countsEveryRejectionAndShowsTheLatest(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String initial = harness.fill(OPEN_ONLY, Map.of());
        Files.writeString(file, initial, StandardCharsets.UTF_8);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        Files.writeString(file, "listn: x\n", StandardCharsets.UTF_8);
        assertThat(admin.reload().status()).isEqualTo(422);
        Files.writeString(file, initial.replace("default: deny", "default: maybe"), StandardCharsets.UTF_8);
        ConfigAdmin.Answer second = admin.reload();
        assertThat(second.status()).isEqualTo(422);

        JsonNode config = admin.config();
        assertThat(config.path("reloads").path("rejected").asLong()).isEqualTo(2);
        assertThat(texts(config.path("last_error").path("problems"))).isEqualTo(texts(second.body().path("problems")))
                .anyMatch(p -> p.contains("maybe"));
        assertOldPolicyDecides(gw);
    }

    private static void assertOldPolicyDecides(Gateway gw) throws Exception {
        assertThat(harness.get(gw, "/open/x").statusCode()).as("the old policy allows /open").isEqualTo(200);
        assertThat(harness.get(gw, "/closed/x").statusCode()).as("the old policy denies /closed").isEqualTo(403);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(node -> out.add(node.asText()));
        return out;
    }
}
