package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourceProblemsTest {

    private static final class Failure extends ConfigResourceException {
        private static final long serialVersionUID = 1L;
        private final String keyPath;

        Failure(String keyPath, String message) {
            super(message);
            this.keyPath = keyPath;
        }

        @Override
        public String keyPath() {
            return keyPath;
        }
    }

    private static final byte[] YAML = String.join("\n",
            "upstream: { url: \"http://127.0.0.1:3000\" }",
            "identity:",
            "  jwt:",
            "    - issuer: \"https://a.example.com/\"",
            "      jwks_file: \"a.json\"",
            "    - issuer: \"https://b.example.com/\"",
            "      public_key_file: b.pem",
            "geoip: { database: \"c.mmdb\", asn_database: \"a.mmdb\" }",
            "").getBytes(StandardCharsets.UTF_8);

    @Test
    void locatesEachFailureAtTheValueOfTheKeyThatNamesIt() {
        List<ConfigProblem> problems = ResourceProblems.locate("policy.yaml", YAML, List.of(
                new Failure("identity.jwt[1].public_key_file", "bad pem"),
                new Failure("identity.jwt[0].jwks_file", "bad jwks"),
                new Failure("geoip.asn_database", "not a MaxMind DB file")));

        assertThat(problems).extracting(ConfigProblem::render).containsExactly(
                "policy.yaml:7:24: identity.jwt[1].public_key_file: bad pem",
                "policy.yaml:5:18: identity.jwt[0].jwks_file: bad jwks",
                "policy.yaml:8:44: geoip.asn_database: not a MaxMind DB file");
    }

    @Test
    void aSingleProviderMappingIsItemZeroNamedAsWrittenAndAnUnknownKeyFallsBackToItsNearestParent() {
        byte[] single = String.join("\n",
                "identity:",
                "  jwt:",
                "    issuer: \"https://a.example.com/\"",
                "    secret_env: JWT_SECRET",
                "").getBytes(StandardCharsets.UTF_8);

        assertThat(ResourceProblems.locate("p.yaml", single, List.of(
                        new Failure("identity.jwt[0].secret_env", "is not set"),
                        new Failure("identity.jwt[3].jwks_file", "gone"))))
                .extracting(ConfigProblem::render)
                .containsExactly("p.yaml:4:17: identity.jwt.secret_env: is not set",
                        "p.yaml:3:5: identity.jwt[3].jwks_file: gone");
        assertThat(ResourceProblems.locate("p.yaml", new byte[0], List.of(new Failure("geoip.database", "x"))))
                .extracting(ConfigProblem::render).containsExactly("p.yaml:1:1: geoip.database: x");
    }
}
