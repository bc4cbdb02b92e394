package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValuesTest {

    @ParameterizedTest(name = "{0} = {1}ms")
    @CsvSource({
        "250ms, 250",
        "10s, 10000",
        "5m, 300000",
        "1h, 3600000",
        "0s, 0",
        "1.5s, 1500",
        "0.25m, 15000",
        "2562047h, 9223369200000",
    })
    void parsesDurations(String text, long millis) {
        assertThat(ConfigValues.parseDuration(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "42, 42",
        "007, 7",
        "-3, -3",
        "0, 0",
        "-0.0, 0",
        "42.0, 42",
        "1.50, 1.5",
        "1e3, 1000",
        "12345678901234567890, 12345678901234567890",
        "1e20, 1.0E20",
        "0x1F, 0x1F",
        ".inf, .inf",
    })
    void rendersClaimNumbersAsTheirJsonTextCompares(String yaml, String text) {
        assertThat(ConfigValues.claimNumber(yaml)).isEqualTo(text);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {"", "10", "s", "5 minutes", "10 s", "-1s", "+1s", "1e3s", "1.s", ".5s", "10S", "10sec",
        "1d", "10ms ", "1_000ms", "0x10s"})
    void rejectsMalformedDurationsShowingValueAndExpectation(String text) {
        assertThatThrownBy(() -> ConfigValues.parseDuration(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ConfigValues.quote(text) + " is not a valid duration"
                        + " (expected: a number with unit ms, s, m or h, e.g. 250ms, 10s, 5m, 1h)");
    }

    @Test
    void rejectsDurationsTooLongForNanoseconds() {
        assertThatThrownBy(() -> ConfigValues.parseDuration("2562048h"))
                .hasMessage("\"2562048h\" is too long (expected: at most 2562047h)");
    }

    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource({
        "0, 0",
        "512, 512",
        "512B, 512",
        "16KiB, 16384",
        "10MiB, 10485760",
        "1GiB, 1073741824",
        "8589934591GiB, 9223372035781033984",
    })
    void parsesSizes(String text, long bytes) {
        assertThat(ConfigValues.parseSize(text)).isEqualTo(bytes);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {"", "B", "KiB", "10MB", "10 MiB", "16kib", "16K", "1.5KiB", "-1", "0x10", "1_024", "1TiB"})
    void rejectsMalformedSizesShowingValueAndExpectation(String text) {
        assertThatThrownBy(() -> ConfigValues.parseSize(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ConfigValues.quote(text) + " is not a valid size (expected: a whole number of bytes,"
                        + " optionally with unit B, KiB, MiB or GiB, e.g. 512, 16KiB, 10MiB)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"8589934592GiB", "99999999999999999999"})
    void rejectsSizesThatOverflow(String text) {
        assertThatThrownBy(() -> ConfigValues.parseSize(text))
                .hasMessage(ConfigValues.quote(text) + " is too large (expected: less than 8EiB)");
    }

    @Test
    void quotesWithEscapesAndShortensLongValues() {
        assertThat(ConfigValues.quote("a\"b\\c\n\t\u0001")).isEqualTo("\"a\\\"b\\\\c\\n\\t\\u0001\"");
        assertThat(ConfigValues.quote("y".repeat(101))).isEqualTo("\"" + "y".repeat(100) + "...\"");
        assertThat(ConfigValues.quote("")).isEqualTo("\"\"");
    }

    @Test
    void joinsMultiLineTextIntoOneLine() {
        assertThat(ConfigValues.oneLine("while parsing\n  in 'reader'\n\nexpected x  ")).isEqualTo(
                "while parsing in 'reader' expected x");
        assertThat(ConfigValues.oneLine(null)).isEqualTo("unreadable input");
    }
}
