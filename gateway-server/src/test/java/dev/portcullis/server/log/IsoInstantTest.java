package dev.portcullis.server.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The access line's timestamp is exactly what {@link Instant#toString()} would print. */
class IsoInstantTest {

    private static String format(Instant ts) {
        char[] out = new char[IsoInstant.MAX_LENGTH];
        return new String(out, 0, IsoInstant.format(ts, out));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "2000-02-29T12:00:00.100Z",
        "2024-02-29T23:59:59.000001Z", "2025-06-01T12:34:56.789123Z", "2025-12-31T00:00:00.000000001Z",
        "2100-03-01T00:00:00.120Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
        "-0001-12-31T00:00:00Z", "+10000-01-01T00:00:00Z"})
    void printsWhatToStringPrints(String text) {
        Instant ts = Instant.parse(text);
        assertThat(format(ts)).isEqualTo(ts.toString());
    }

    @Test
    void agreesWithToStringOnRandomInstants() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 100_000; i++) {
            long seconds = random.nextLong(-62_167_219_200L, 253_402_300_800L);
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant ts = Instant.ofEpochSecond(seconds, nanos);
            assertThat(format(ts)).isEqualTo(ts.toString());
        }
    }
}
