package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden tests: each {@code config/invalid/NAME.yaml} must be rejected with exactly the problems listed in
 * {@code NAME.expected.txt}, one rendered problem per line.
 */
class ConfigGoldenTest {

    private static final Path INVALID = resourceFolder("/config/invalid");

    static Stream<String> invalidConfigs() throws IOException {
        try (Stream<Path> files = Files.list(INVALID)) {
            return files.map(file -> file.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml"))
                    .sorted()
                    .collect(Collectors.toList())
                    .stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidConfigs")
    void reportsExactlyTheProblemsOfTheGoldenFile(String fileName) throws IOException {
        byte[] yaml = Files.readAllBytes(INVALID.resolve(fileName));
        String expected = Files.readString(INVALID.resolve(expectedFileName(fileName)), StandardCharsets.UTF_8);

        ConfigException e = catchThrowableOfType(
                ConfigException.class, () -> ConfigLoader.load(fileName, yaml, INVALID));

        assertThat(e).as("%s must be rejected", fileName).isNotNull();
        String actual = e.problems().stream().map(ConfigProblem::render).collect(Collectors.joining("\n", "", "\n"));
        assertThat(actual).isEqualTo(expected);
    }

    @Test
    void everyInvalidConfigHasAGoldenFileAndEveryGoldenFileAConfig() throws IOException {
        List<String> names;
        try (Stream<Path> files = Files.list(INVALID)) {
            names = files.map(file -> file.getFileName().toString()).collect(Collectors.toList());
        }
        List<String> configs = names.stream().filter(name -> name.endsWith(".yaml")).collect(Collectors.toList());
        List<String> goldens =
                names.stream().filter(name -> name.endsWith(".expected.txt")).collect(Collectors.toList());

        assertThat(configs).hasSizeGreaterThanOrEqualTo(12);
        assertThat(goldens).containsExactlyInAnyOrderElementsOf(
                configs.stream().map(ConfigGoldenTest::expectedFileName).collect(Collectors.toList()));
    }

    @Test
    void oneFileWithManyDifferentProblemsReportsEveryOne() throws IOException {
        byte[] yaml = Files.readAllBytes(INVALID.resolve("many-problems.yaml"));

        ConfigException e = catchThrowableOfType(
                ConfigException.class, () -> ConfigLoader.load("many-problems.yaml", yaml, INVALID));

        assertThat(e.problems()).hasSizeGreaterThanOrEqualTo(5);
        assertThat(e.problems()).extracting(ConfigProblem::message)
                .anySatisfy(m -> assertThat(m).startsWith("unknown key"))
                .anySatisfy(m -> assertThat(m).contains("is not a valid duration"))
                .anySatisfy(m -> assertThat(m).contains("is not a valid size"))
                .anySatisfy(m -> assertThat(m).contains("is not a valid CIDR"))
                .anySatisfy(m -> assertThat(m).contains("is not a valid method"))
                .anySatisfy(m -> assertThat(m).contains("already used by rules[1]"))
                .anySatisfy(m -> assertThat(m).startsWith("require is only allowed"))
                .anySatisfy(m -> assertThat(m).startsWith("countries needs a GeoIP country database"));
    }

    private static String expectedFileName(String yamlFileName) {
        return yamlFileName.substring(0, yamlFileName.length() - ".yaml".length()) + ".expected.txt";
    }

    private static Path resourceFolder(String name) {
        URL url = Objects.requireNonNull(ConfigGoldenTest.class.getResource(name), name);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
