package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.ConfigAdmin;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.JwtMint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.8: what else a reload does. {@code listen} and {@code admin.listen} changes are applied with a
 * warning (they need a restart, the old addresses keep serving); a changed JWKS file is read again, so a
 * token of the new key is accepted and one of the removed key is not.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReloadEffectsIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    static final String OPEN = """
            listen: "127.0.0.1:0"
            admin:
              listen: "127.0.0.1:0"
            upstream:
              url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
            default: allow
            rules: []
            """;

    @Test
    void aListenChangeIsAppliedWithAWarningNamingListen(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(OPEN, Map.of()));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        String moved = harness.fill(OPEN.replaceFirst("127\\.0\\.0\\.1:0", "127.0.0.1:{{DEAD_PORT}}"),
                Map.of("DEAD_PORT", Integer.toString(GatewayHarness.deadPort())));
        Files.writeString(file, moved);
        ConfigAdmin.Answer answer = admin.reload();

        assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
        assertThat(answer.body().path("version").asText()).isEqualTo(ConfigAdmin.version(moved));
        List<String> warnings = texts(answer.body().path("warnings"));
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0)).startsWith("listen ").contains("restart");
        assertThat(harness.get(gw, "/still-here").statusCode()).as("the old listener keeps serving").isEqualTo(200);
        assertThat(admin.config().path("last_error").isNull()).isTrue();
    }

    @Test
    void anAdminListenChangeIsAppliedWithAWarningNamingAdminListen(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, harness.fill(OPEN, Map.of()));
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());

        String moved = harness.fill(OPEN.replace("  listen: \"127.0.0.1:0\"", "  listen: \"127.0.0.1:{{DEAD_PORT}}\""),
                Map.of("DEAD_PORT", Integer.toString(GatewayHarness.deadPort())));
        Files.writeString(file, moved);
        ConfigAdmin.Answer answer = admin.reload();

        assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
        List<String> warnings = texts(answer.body().path("warnings"));
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0)).startsWith("admin.listen ").contains("restart");
        assertThat(admin.config().path("version").asText()).as("the old admin address keeps serving")
                .isEqualTo(ConfigAdmin.version(moved));
    }

    /**
     * README "Reload": the warning compares the file with the addresses the gateway listens on (those it started
     * with), not with the previous file: it stays while the file names another address, even on a later reload, and
     * goes when the file names the serving addresses again ("127.0.0.1:0" as started, not the port picked).
     */
    @Test
    void theListenWarningsLastUntilTheFileNamesTheServingAddressesAgain(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        String open = harness.fill(OPEN, Map.of());
        Files.writeString(file, open);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        int deadPort = GatewayHarness.deadPort();
        int deadAdminPort = deadPort == 65_535 ? deadPort - 1 : deadPort + 1; // never bound: a reload binds nothing
        String moved = open.replace("listen: \"127.0.0.1:0\"\nadmin", "listen: \"127.0.0.1:" + deadPort + "\"\nadmin")
                .replace("  listen: \"127.0.0.1:0\"", "  listen: \"127.0.0.1:" + deadAdminPort + "\"");
        assertThat(moved).contains(":" + deadPort).contains(":" + deadAdminPort);

        Files.writeString(file, moved);
        List<String> first = texts(admin.reload().body().path("warnings"));
        List<String> again = texts(admin.reload().body().path("warnings"));

        assertThat(first).containsExactly(
                "listen changed from 127.0.0.1:0 to 127.0.0.1:" + deadPort
                        + ": still serving on the old address until restarted",
                "admin.listen changed from 127.0.0.1:0 to 127.0.0.1:" + deadAdminPort
                        + ": still serving on the old address until restarted");
        assertThat(again).as("a restart is still needed").isEqualTo(first);
        assertThat(harness.get(gw, "/still-here").statusCode()).isEqualTo(200);

        Files.writeString(file, open);
        ConfigAdmin.Answer back = admin.reload();
        assertThat(back.status()).as("reload: %s", back.body()).isEqualTo(200);
        assertThat(texts(back.body().path("warnings"))).as("the file names the serving addresses again").isEmpty();
        assertThat(texts(admin.reload().body().path("warnings"))).isEmpty();
    }

    @Test
    void aReloadReadsTheChangedJwksFile(@TempDir Path dir) throws Exception {
        RSAKey oldKey = JwtMint.rsa("old");
        RSAKey newKey = JwtMint.rsa("new");
        JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(oldKey));
        Path file = dir.resolve("policy.yaml");
        String yaml = harness.fill("""
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:{{UPSTREAM_PORT}}"
                identity:
                  jwt:
                    issuer: "https://issuer.test/"
                    audience: ["orders-api"]
                    algorithms: [RS256]
                    jwks_file: "jwks.json"
                default: deny
                rules:
                  - name: authn
                    match: { paths: ["/authn/**"] }
                    require: { authenticated: true }
                """, Map.of());
        Files.writeString(file, yaml);
        Gateway gw = harness.startFile(file);
        ConfigAdmin admin = new ConfigAdmin(gw.adminPort());
        String oldToken = "Bearer " + JwtMint.sign(oldKey, JWSAlgorithm.RS256, claims("alice").build());
        String newToken = "Bearer " + JwtMint.sign(newKey, JWSAlgorithm.RS256, claims("bob").build());
        assertThat(harness.get(gw, "/authn/x", "Authorization", oldToken).statusCode()).isEqualTo(200);
        assertThat(harness.get(gw, "/authn/x", "Authorization", newToken).statusCode()).isEqualTo(401);

        JwtMint.writeJwks(dir.resolve("jwks.json"), List.of(newKey));
        assertThat(harness.get(gw, "/authn/x", "Authorization", newToken).statusCode())
                .as("the key file is read on reload, not on every request").isEqualTo(401);
        ConfigAdmin.Answer answer = admin.reload();

        assertThat(answer.status()).as("reload: %s", answer.body()).isEqualTo(200);
        assertThat(answer.body().path("version").asText()).as("the config file itself did not change")
                .isEqualTo(ConfigAdmin.version(yaml));
        assertThat(answer.body().path("generation").asLong()).isEqualTo(2);
        assertThat(harness.get(gw, "/authn/x", "Authorization", newToken).statusCode())
                .as("a token of the new key").isEqualTo(200);
        assertThat(harness.get(gw, "/authn/x", "Authorization", oldToken).statusCode())
                .as("a token of the removed key, even one verified before the reload").isEqualTo(401);
        JsonNode config = admin.config();
        assertThat(config.path("generation").asLong()).isEqualTo(2);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(node -> out.add(node.asText()));
        return out;
    }
}
