package dev.portcullis.server.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OccasionalWarningTest {

    @Test
    void theFirstOccurrenceIsLoggedAndTheOthersInItsPeriodAreCountedForTheNextLine() throws Exception {
        OccasionalWarning warning = new OccasionalWarning(200_000_000L);
        assertThat(warning.due()).as("the first: logged, nothing before it").isZero();
        for (int i = 0; i < 5; i++) {
            assertThat(warning.due()).as("within the period: counted, not logged").isEqualTo(-1);
        }
        Thread.sleep(250);
        assertThat(warning.due()).as("the next period's first stands for the 5 before it").isEqualTo(5);
        assertThat(warning.due()).isEqualTo(-1);
    }

    @Test
    void theDefaultPeriodIsTenSeconds() {
        OccasionalWarning warning = new OccasionalWarning();
        assertThat(warning.due()).isZero();
        assertThat(warning.due()).isEqualTo(-1);
    }
}
