package dev.portcullis.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DemoGuideTest {

    @ParameterizedTest
    @CsvSource({
        "2026-03-02T07:59:59Z, false", // Monday, before 08:00 UTC
        "2026-03-02T08:00:00Z, true",
        "2026-03-06T17:59:59Z, true",  // Friday
        "2026-03-06T18:00:00Z, false",
        "2026-03-07T12:00:00Z, false", // Saturday
        "2026-03-08T12:00:00Z, false", // Sunday
    })
    void officeHoursExampleExpectsWhatTheBundledScheduleDecides(Instant now, boolean open) {
        assertThat(DemoGuide.isOfficeHours(now)).isEqualTo(open);
        DemoGuide guide = DemoGuide.of(8080, DemoKeys.generate(), now);
        assertThat(guide.examples()).filteredOn(e -> e.command().endsWith("/reports/today"))
                .singleElement().extracting(DemoGuide.Example::status).isEqualTo(open ? 200 : 403);
    }

    @Test
    void everyCommandUsesTheGatewayAndTheGuideShowsEachStatus() {
        Instant now = Instant.parse("2026-03-02T10:00:00Z");
        DemoGuide guide = DemoGuide.of(18080, DemoKeys.generate(), now);
        assertThat(guide.examples()).allSatisfy(e -> assertThat(e.command()).contains("http://127.0.0.1:18080/"));
        assertThat(guide.examples()).extracting(DemoGuide.Example::status).contains(200, 401, 403, 404, 429);
        String text = guide.render(19901, 13000, Path.of("/tmp/x/policy.yaml"));
        assertThat(text).contains(guide.tokens()).contains("http://127.0.0.1:19901").endsWith("Press Ctrl-C to stop.\n");
    }
}
