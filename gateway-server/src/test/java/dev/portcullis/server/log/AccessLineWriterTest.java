package dev.portcullis.server.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** The access line's {@code duration_ms}: milliseconds with three decimals, written without a double. */
class AccessLineWriterTest {

    private static String millis(long nanos) {
        char[] out = new char[24];
        return new String(out, 0, AccessLineWriter.millis(nanos, out));
    }

    @Test
    void durationsAreMillisecondsWithMicrosecondDecimals() {
        assertThat(millis(0)).isEqualTo("0.000");
        assertThat(millis(999)).isEqualTo("0.000");
        assertThat(millis(500_000)).isEqualTo("0.500");
        assertThat(millis(7_000)).isEqualTo("0.007");
        assertThat(millis(12_345_678)).isEqualTo("12.345");
        assertThat(millis(1_000_000_000L)).isEqualTo("1000.000");
        assertThat(millis(Long.MAX_VALUE)).isEqualTo("9223372036854.775");
        assertThat(millis(-5)).as("a clock that went back").isEqualTo("0.000");
    }

    @Test
    void agreesWithDecimalArithmetic() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 10_000; i++) {
            long nanos = random.nextLong(0, 100_000_000_000L);
            BigDecimal expected = BigDecimal.valueOf(nanos / 1000, 3).setScale(3, RoundingMode.UNNECESSARY);
            assertThat(millis(nanos)).isEqualTo(expected.toPlainString());
        }
    }
}
