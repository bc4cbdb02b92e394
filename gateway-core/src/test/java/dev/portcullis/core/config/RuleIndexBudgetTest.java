package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A policy whose rule index would not fit its share of the heap is a config problem, so that a reload rejects it
 * rather than running out of memory (a 9,000-rule policy with a path and two CIDRs per rule did, in a 64 MiB heap).
 */
class RuleIndexBudgetTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void theEstimateCountsEachIndexedValueOfEachRulesMatchTimesTheRulesWords() {
        GatewayConfig config = bind(rules(128));
        // 128 rules x (1 path + 2 CIDRs x 2 bounds) values, 2 words of 64 rules each, 8 bytes a word
        assertThat(RuleIndexBudget.estimateBytes(config.rules())).isEqualTo(128L * 5 * 2 * Long.BYTES);
    }

    @Test
    void onlyTheIndexedKeysOfTheMatchCount() {
        GatewayConfig config = bind(head() + """
                  - name: r
                    match: { asns: [1, 2, 3], headers: { X-A: [a, b] } }
                    require: { roles: [a, b, c] }
                """);
        assertThat(RuleIndexBudget.estimateBytes(config.rules())).isZero();
    }

    @Test
    void aPolicyOverTheBudgetIsRefusedAtRulesAndOneWithinItCompiles() {
        GatewayConfig config = bind(rules(9_000)); // 45,000 values x 141 words x 8 bytes: 48.4 MiB
        Problems refusing = new Problems("big.yaml");
        assertThat(PolicyCompiler.compile(config, refusing, 8 * MIB)).isNull(); // a 64 MiB heap's eighth
        assertThat(refusing.sorted()).singleElement().satisfies(problem -> {
            assertThat(problem.path()).isEqualTo("rules");
            assertThat(problem.message()).startsWith("9000 rules would need up to 48.4 MiB for their index, more than"
                    + " the 8.0 MiB (an eighth of the heap) a policy may take (expected: fewer rules");
        });

        Problems accepting = new Problems("small.yaml");
        assertThat(PolicyCompiler.compile(bind(rules(2_000)), accepting, 8 * MIB)).isNotNull();
        assertThat(accepting.isEmpty()).isTrue();
    }

    private static GatewayConfig bind(String yaml) {
        Problems problems = new Problems("p.yaml");
        YamlNode root = YamlTreeReader.read(yaml.getBytes(StandardCharsets.UTF_8), problems);
        assertThat(root).isNotNull();
        GatewayConfig config = ConfigBinder.bind(root, problems);
        assertThat(problems.sorted()).isEqualTo(List.of());
        return config;
    }

    private static String rules(int n) {
        StringBuilder yaml = new StringBuilder(head());
        for (int i = 0; i < n; i++) {
            yaml.append("  - name: r").append(i).append("\n    match: { paths: [\"/p").append(i)
                    .append("/**\"], ip: [\"10.").append(i % 250).append('.').append(i / 250 % 250)
                    .append(".0/24\", \"2001:db8:").append(Integer.toHexString(i)).append("::/48\"] }\n")
                    .append("    action: deny\n");
        }
        return yaml.toString();
    }

    private static String head() {
        return "upstream: { url: \"http://127.0.0.1:3000\" }\nrules:\n";
    }
}
