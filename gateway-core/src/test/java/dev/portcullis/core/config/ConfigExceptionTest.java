package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

    @Test
    void rendersFileLineColumnPathAndMessage() {
        ConfigProblem problem = new ConfigProblem("policy.yaml", 14, 11, "rules[2].match.ip[0]",
                "\"10.0.0.300/8\" is not a valid CIDR");

        assertThat(problem.render())
                .isEqualTo("policy.yaml:14:11: rules[2].match.ip[0]: \"10.0.0.300/8\" is not a valid CIDR");
    }

    @Test
    void rendersTheEmptyPathAsRoot() {
        assertThat(new ConfigProblem("policy.yaml", 1, 1, "", "config is empty").render())
                .isEqualTo("policy.yaml:1:1: (root): config is empty");
    }

    /** A key is whatever the file says: one holding a line break or a terminal escape must not forge a second line. */
    @Test
    void rendersControlCharactersInTheKeyPathEscaped() {
        ConfigProblem problem = new ConfigProblem("policy.yaml", 3, 1, "x\npolicy.yaml:1:1: fake\u001b[31m",
                "unknown key");

        assertThat(problem.render()).isEqualTo("policy.yaml:3:1: x\\npolicy.yaml:1:1: fake\\u001b[31m: unknown key");
        assertThat(problem.renderAsWarning()).doesNotContain("\n", "\u001b");
    }

    @Test
    void messageIsACountHeaderFollowedByOneRenderedProblemPerLine() {
        ConfigException e = new ConfigException("policy.yaml", List.of(
                new ConfigProblem("policy.yaml", 2, 1, "listn", "unknown key \"listn\""),
                new ConfigProblem("policy.yaml", 9, 5, "rules[1].name", "\"a\" already used by rules[0]")));

        assertThat(e.getMessage()).isEqualTo("2 problems in policy.yaml:\n"
                + "policy.yaml:2:1: listn: unknown key \"listn\"\n"
                + "policy.yaml:9:5: rules[1].name: \"a\" already used by rules[0]");
        assertThat(e.problems()).hasSize(2);
    }

    @Test
    void headerIsSingularForOneProblem() {
        ConfigException e =
                new ConfigException("a.yaml", List.of(new ConfigProblem("a.yaml", 1, 1, "", "config is empty")));

        assertThat(e.getMessage()).isEqualTo("1 problem in a.yaml:\na.yaml:1:1: (root): config is empty");
    }

    @Test
    void rejectsAnEmptyProblemList() {
        assertThatThrownBy(() -> new ConfigException("a.yaml", List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void messageOfARejectedLoadListsEveryProblemInFileOrder() {
        String yaml = "rules:\n"
                + "  - name: a\n"
                + "    match: { methods: [get] }\n"
                + "listen: \"0.0.0.0\"\n"
                + "upstream: { url: \"http://127.0.0.1:3000\", timeout: 1s }\n";

        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8), Path.of(".")));

        assertThat(e.getMessage()).isEqualTo("3 problems in policy.yaml:\n"
                + "policy.yaml:3:24: rules[0].match.methods[0]: \"get\" is not a valid method"
                + " (expected: an upper-case token, e.g. GET)\n"
                + "policy.yaml:4:9: listen: \"0.0.0.0\" is not a valid address"
                + " (expected: host:port, e.g. 0.0.0.0:8080 or [::]:8080)\n"
                + "policy.yaml:5:43: upstream.timeout: unknown key \"timeout\""
                + " (expected one of: url, connect_timeout, response_timeout, max_connections, case_insensitive_paths)");
        assertThat(e.getMessage()).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
