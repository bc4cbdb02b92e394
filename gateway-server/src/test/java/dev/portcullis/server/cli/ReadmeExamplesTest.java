package dev.portcullis.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every {@code yaml} block of the README is a file under {@code config/examples/}: the block's first line names
 * it ({@code # config/examples/NAME.yaml}) and the rest of the block is the file or a contiguous run of its lines;
 * {@link CommandLineTest} runs {@code check} on each of those files.
 */
class ReadmeExamplesTest {
    private static final Path ROOT = Path.of("..");
    private static final Pattern BLOCK = Pattern.compile("(?ms)^```yaml\\n(.*?)^```$");
    private static final Pattern HEADER = Pattern.compile("# (config/examples/[A-Za-z0-9._/-]+\\.yaml)");

    @Test
    void everyYamlBlockIsAnExampleFileThatCheckLoads() throws IOException {
        List<String> blocks = yamlBlocks(Files.readString(ROOT.resolve("README.md")));
        assertThat(blocks).hasSizeGreaterThanOrEqualTo(10);
        List<Path> checked = CommandLineTest.exampleConfigs().map(Path::normalize).toList();
        for (String block : blocks) {
            List<String> lines = block.lines().toList();
            Matcher header = HEADER.matcher(lines.get(0));
            assertThat(header.matches()).as("first line of the README block:%n%s", block).isTrue();
            Path file = ROOT.resolve(header.group(1));
            assertThat(file).as("the file the README block names").isRegularFile();
            List<String> body = lines.subList(1, lines.size());
            assertThat(body).as("README block %s", header.group(1)).isNotEmpty();
            assertThat(Collections.indexOfSubList(Files.readAllLines(file), body))
                    .as("README block %s is that file or a contiguous run of its lines:%n%s", header.group(1), block)
                    .isNotNegative();
            if (!file.toString().endsWith("-tests.yaml")) {
                assertThat(checked).as("CommandLineTest checks %s", file).contains(file.normalize());
            }
        }
    }

    private static List<String> yamlBlocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(markdown);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }
}
