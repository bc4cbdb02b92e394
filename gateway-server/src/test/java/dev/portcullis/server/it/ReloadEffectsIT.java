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
