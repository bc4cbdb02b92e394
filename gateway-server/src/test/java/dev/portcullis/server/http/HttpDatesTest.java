package dev.portcullis.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The Date header value: IMF-fixdate (RFC 9110 5.6.7), formatted once per second. */
class HttpDatesTest {

    @Test
    void formatsImfFixdateWithATwoDigitDay() {
        assertThat(HttpDates.at(784_111_777_000L).toString()).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(HttpDates.at(1_796_660_000_999L).toString()).isEqualTo("Mon, 07 Dec 2026 16:13:20 GMT");
    }

    @Test
    void oneSecondIsFormattedOnceAndTheNextSecondAnew() {
        CharSequence first = HttpDates.at(1_796_660_000_000L);

        assertThat((Object) HttpDates.at(1_796_660_000_999L)).isSameAs(first);
        assertThat(HttpDates.at(1_796_660_001_000L).toString()).isEqualTo("Mon, 07 Dec 2026 16:13:21 GMT");
    }
}
