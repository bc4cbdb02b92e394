package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.geo.GeoLookup;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScheduleMatcherTest {

    /** A schedule as the config writes it: "mon,tue 08:00 19:00 Europe/Berlin" (days "*" for every day). */
    static ScheduleMatcher schedule(String spec) {
        String[] parts = spec.split(" ");
        Set<DayOfWeek> days = parts[0].equals("*") ? ScheduleMatcher.EVERY_DAY
                : Stream.of(parts[0].split(",")).map(ScheduleMatcher::parseDay)
                        .collect(Collectors.toCollection(() -> EnumSet.noneOf(DayOfWeek.class)));
        return ScheduleMatcher.of(days, ScheduleMatcher.parseTime(parts[1]), ScheduleMatcher.parseTime(parts[2]),
                ScheduleMatcher.parseZone(parts[3]));
    }

    static AccessRequest at(String instant) {
        return at(Instant.parse(instant));
    }

    static AccessRequest at(Instant instant) {
        return get("/").build().with(Clock.fixed(instant, ZoneOffset.UTC), GeoLookup.NONE);
    }

    static Stream<Arguments> decisionTable() {
        String office = "mon,tue,wed,thu,fri 08:00 19:00 Europe/Berlin";
        String nights = "fri 22:00 06:00 Europe/Berlin";
        String nySpring = "sun 02:00 03:00 America/New_York";
        String nyFall = "sun 01:00 02:00 America/New_York";
        return Stream.of(
                // office hours in Berlin, east of UTC, in winter (+01:00) and summer (+02:00)
                Arguments.of(office, "2026-03-03T08:15:00Z", true,
                        "time Tue 09:15 Europe/Berlin in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-03-03T07:00:00Z", true,
                        "time Tue 08:00 Europe/Berlin in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-03-03T06:59:59.999Z", false,
                        "time Tue 07:59:59 Europe/Berlin not in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-03-03T17:59:59.999999999Z", true,
                        "time Tue 18:59:59 Europe/Berlin in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-03-03T18:00:00Z", false,
                        "time Tue 19:00 Europe/Berlin not in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-03-07T10:00:00Z", false,
                        "time Sat 11:00 Europe/Berlin not in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-07-01T06:00:00Z", true,
                        "time Wed 08:00 Europe/Berlin in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-07-01T05:59:00Z", false,
                        "time Wed 07:59 Europe/Berlin not in mon-fri 08:00-19:00"),
                Arguments.of(office, "2026-07-01T17:30:00Z", false,
                        "time Wed 19:30 Europe/Berlin not in mon-fri 08:00-19:00"),
                // the local day, not the UTC day, counts
                Arguments.of("fri 20:00 24:00 Europe/Berlin", "2026-03-06T22:59:59Z", true,
                        "time Fri 23:59:59 Europe/Berlin in fri 20:00-24:00"),
                Arguments.of("fri 20:00 24:00 Europe/Berlin", "2026-03-06T23:00:00Z", false,
                        "time Sat 00:00 Europe/Berlin not in fri 20:00-24:00"),
                Arguments.of("sat,sun 00:00 24:00 Asia/Tokyo", "2026-03-06T15:00:00Z", true,
                        "time Sat 00:00 Asia/Tokyo in sat,sun 00:00-24:00"),
                Arguments.of("sat,sun 00:00 24:00 Asia/Tokyo", "2026-03-06T14:59:59Z", false,
                        "time Fri 23:59:59 Asia/Tokyo not in sat,sun 00:00-24:00"),
                Arguments.of("sat,sun 00:00 24:00 Asia/Tokyo", "2026-03-08T15:00:00Z", false,
                        "time Mon 00:00 Asia/Tokyo not in sat,sun 00:00-24:00"),
                // west of UTC: New York's Monday evening is Tuesday in UTC
                Arguments.of("mon 20:00 21:00 America/New_York", "2026-03-03T01:30:00Z", true,
                        "time Mon 20:30 America/New_York in mon 20:00-21:00"),
                Arguments.of("tue 20:00 21:00 America/New_York", "2026-03-03T01:30:00Z", false,
                        "time Mon 20:30 America/New_York not in tue 20:00-21:00"),
                Arguments.of("mon,tue,wed,thu,fri 09:00 17:00 America/New_York", "2026-03-02T13:59:00Z", false,
                        "time Mon 08:59 America/New_York not in mon-fri 09:00-17:00"),
                Arguments.of("mon,tue,wed,thu,fri 09:00 17:00 America/New_York", "2026-03-02T14:00:00Z", true,
                        "time Mon 09:00 America/New_York in mon-fri 09:00-17:00"),
                Arguments.of("* 00:00 24:00 UTC", "2026-03-02T00:00:00Z", true,
                        "time Mon 00:00 UTC in mon-sun 00:00-24:00"),
                // a window wrapping midnight belongs to the day it starts on
                Arguments.of(nights, "2026-03-06T21:00:00Z", true, "time Fri 22:00 Europe/Berlin in fri 22:00-06:00"),
                Arguments.of(nights, "2026-03-07T02:00:00Z", true,
                        "time Sat 03:00 Europe/Berlin in fri 22:00-06:00 (window started Fri)"),
                Arguments.of(nights, "2026-03-07T04:59:59Z", true,
                        "time Sat 05:59:59 Europe/Berlin in fri 22:00-06:00 (window started Fri)"),
                Arguments.of(nights, "2026-03-07T05:00:00Z", false,
                        "time Sat 06:00 Europe/Berlin not in fri 22:00-06:00"),
                Arguments.of(nights, "2026-03-06T02:00:00Z", false,
                        "time Fri 03:00 Europe/Berlin not in fri 22:00-06:00"),
                Arguments.of(nights, "2026-03-07T22:00:00Z", false,
                        "time Sat 23:00 Europe/Berlin not in fri 22:00-06:00"),
                Arguments.of(nights, "2026-03-06T20:59:59Z", false,
                        "time Fri 21:59:59 Europe/Berlin not in fri 22:00-06:00"),
                Arguments.of("sun 22:00 06:00 UTC", "2026-03-02T05:00:00Z", true,
                        "time Mon 05:00 UTC in sun 22:00-06:00 (window started Sun)"),
                Arguments.of("mon 22:00 00:00 UTC", "2026-03-02T23:59:59Z", true,
                        "time Mon 23:59:59 UTC in mon 22:00-00:00"),
                Arguments.of("mon 22:00 00:00 UTC", "2026-03-03T00:00:00Z", false,
                        "time Tue 00:00 UTC not in mon 22:00-00:00"),
                // Berlin spring-forward, 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z: 02:00-02:59 does not exist
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-03-29T00:59:59Z", false,
                        "time Sun 01:59:59 Europe/Berlin not in sun 02:00-03:00"),
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-03-29T01:00:00Z", false,
                        "time Sun 03:00 Europe/Berlin not in sun 02:00-03:00"),
                Arguments.of("sun 02:30 04:00 Europe/Berlin", "2026-03-29T01:00:00Z", true,
                        "time Sun 03:00 Europe/Berlin in sun 02:30-04:00"),
                Arguments.of("sun 01:00 03:00 Europe/Berlin", "2026-03-29T00:30:00Z", true,
                        "time Sun 01:30 Europe/Berlin in sun 01:00-03:00"),
                // Berlin fall-back, 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z: 02:00-02:59 happens twice
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-10-24T23:59:59Z", false,
                        "time Sun 01:59:59 Europe/Berlin not in sun 02:00-03:00"),
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-10-25T00:00:00Z", true,
                        "time Sun 02:00 Europe/Berlin in sun 02:00-03:00"),
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-10-25T00:30:00Z", true,
                        "time Sun 02:30 Europe/Berlin in sun 02:00-03:00"),
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-10-25T01:30:00Z", true,
                        "time Sun 02:30 Europe/Berlin in sun 02:00-03:00"),
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-10-25T01:59:59Z", true,
                        "time Sun 02:59:59 Europe/Berlin in sun 02:00-03:00"),
                Arguments.of("sun 02:00 03:00 Europe/Berlin", "2026-10-25T02:00:00Z", false,
                        "time Sun 03:00 Europe/Berlin not in sun 02:00-03:00"),
                // New York spring-forward, 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z
                Arguments.of(nySpring, "2026-03-08T06:59:59Z", false,
                        "time Sun 01:59:59 America/New_York not in sun 02:00-03:00"),
                Arguments.of(nySpring, "2026-03-08T07:00:00Z", false,
                        "time Sun 03:00 America/New_York not in sun 02:00-03:00"),
                // New York fall-back, 2026-11-01 02:00 EDT -> 01:00 EST at 06:00Z: 01:00-01:59 happens twice
                Arguments.of(nyFall, "2026-11-01T04:59:59Z", false,
                        "time Sun 00:59:59 America/New_York not in sun 01:00-02:00"),
                Arguments.of(nyFall, "2026-11-01T05:30:00Z", true,
                        "time Sun 01:30 America/New_York in sun 01:00-02:00"),
                Arguments.of(nyFall, "2026-11-01T06:30:00Z", true,
                        "time Sun 01:30 America/New_York in sun 01:00-02:00"),
                Arguments.of(nyFall, "2026-11-01T07:00:00Z", false,
                        "time Sun 02:00 America/New_York not in sun 01:00-02:00"));
    }

    @ParameterizedTest(name = "{0} at {1}: {2}")
    @MethodSource("decisionTable")
    void decidesByLocalWallTime(String spec, String instant, boolean expected, String explanation) {
        ScheduleMatcher matcher = schedule(spec);
        AccessRequest request = at(instant);

        assertThat(matcher.matches(request)).isEqualTo(expected);
        assertThat(expected ? matcher.explainMatch(request) : matcher.explainFailure(request)).isEqualTo(explanation);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "Europe/Berlin, 2026-03-29T00:00:00Z",
        "America/New_York, 2026-03-08T05:00:00Z"})
    void aWindowInsideTheSkippedHourNeverHoldsThatNight(String zone, String dayStart) {
        ScheduleMatcher matcher = schedule("sun 02:00 03:00 " + zone);
        Instant start = Instant.parse(dayStart);

        for (int minute = 0; minute < 24 * 60; minute++) {
            assertThat(matcher.matches(at(start.plusSeconds(minute * 60L)))).as("minute %d", minute).isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "Europe/Berlin, 2026-10-24T22:00:00Z, 02:00, 03:00",
        "America/New_York, 2026-11-01T04:00:00Z, 01:00, 02:00"})
    void aWindowOverTheRepeatedHourHoldsForTwoHours(String zone, String dayStart, String from, String to) {
        ScheduleMatcher matcher = schedule("sun " + from + " " + to + " " + zone);
        Instant start = Instant.parse(dayStart);

        int minutesInside = 0;
        for (int minute = 0; minute < 24 * 60; minute++) {
            minutesInside += matcher.matches(at(start.plusSeconds(minute * 60L))) ? 1 : 0;
        }
        assertThat(minutesInside).isEqualTo(120);
    }

    @Test
    void agreesWithZonedDateTimeInEveryZone() {
        SplittableRandom random = new SplittableRandom(42);
        List<String> windows =
                List.of("mon,wed,sat 01:30 02:30", "sun,thu 22:15 03:45", "* 00:00 24:00", "fri 23:59 00:01");
        long min = Instant.parse("1960-01-01T00:00:00Z").getEpochSecond();
        long max = Instant.parse("2150-01-01T00:00:00Z").getEpochSecond();
        for (String id : new TreeSet<>(ZoneId.getAvailableZoneIds())) {
            ZoneId zone = ZoneId.of(id);
            ScheduleMatcher offsets = ScheduleMatcher.of(ScheduleMatcher.EVERY_DAY, LocalTime.NOON, LocalTime.MIDNIGHT,
                    zone);
            ZoneRules rules = zone.getRules();
            for (ZoneOffsetTransition transition : rules.getTransitions()) {
                for (long delta = -1; delta <= 1; delta++) {
                    Instant instant = transition.getInstant().plusSeconds(delta);
                    assertThat(offsets.offsetSeconds(instant)).as("%s at %s", id, instant)
                            .isEqualTo(rules.getOffset(instant).getTotalSeconds());
                }
            }
            for (int i = 0; i < 100; i++) {
                Instant instant = Instant.ofEpochSecond(random.nextLong(min, max), random.nextInt(1_000_000_000));
                assertThat(offsets.offsetSeconds(instant)).as("%s at %s", id, instant)
                        .isEqualTo(rules.getOffset(instant).getTotalSeconds());
                if (id.indexOf('/') > 0 && !id.startsWith("Etc/GMT")) {
                    String window = windows.get(i % windows.size());
                    ScheduleMatcher matcher = schedule(window + " " + id);
                    assertThat(matcher.matches(at(instant))).as("%s %s at %s", window, id, instant)
                            .isEqualTo(referenceMatches(matcher, instant.atZone(zone)));
                }
            }
        }
    }

    /** The semantics, written with java.time: the window of the day it starts on. */
    private static boolean referenceMatches(ScheduleMatcher matcher, ZonedDateTime time) {
        LocalTime local = time.toLocalTime();
        LocalTime from = matcher.from();
        LocalTime to = matcher.to();
        DayOfWeek day = time.getDayOfWeek();
        boolean toEnd = to.equals(ScheduleMatcher.END_OF_DAY);
        if (toEnd || from.isBefore(to)) {
            return matcher.days().contains(day) && !local.isBefore(from) && (toEnd || local.isBefore(to));
        }
        return !local.isBefore(from) ? matcher.days().contains(day)
                : local.isBefore(to) && matcher.days().contains(day.minus(1));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"mon, MONDAY", "tue, TUESDAY", "wed, WEDNESDAY", "thu, THURSDAY", "fri, FRIDAY", "sat, SATURDAY",
        "sun, SUNDAY"})
    void parsesThreeLetterLowerCaseDays(String text, DayOfWeek day) {
        assertThat(ScheduleMatcher.parseDay(text)).isEqualTo(day);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "Mon", "MON", "monday", "mo", "1", " mon", "thurs"})
    void rejectsOtherDays(String text) {
        assertThatThrownBy(() -> ScheduleMatcher.parseDay(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a valid day (expected: one of mon, tue, wed, thu, fri, sat, sun)");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"00:00, 00:00", "08:05, 08:05", "23:59, 23:59", "12:00, 12:00"})
    void parsesTimes(String text, LocalTime time) {
        assertThat(ScheduleMatcher.parseTime(text)).isEqualTo(time);
    }

    @Test
    void parses2400AsTheEndOfTheDay() {
        assertThat(ScheduleMatcher.parseTime("24:00")).isSameAs(ScheduleMatcher.END_OF_DAY);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "8:00", "08:0", "24:01", "25:00", "23:60", "08.00", "08:00:00", "0800", "+8:00",
        "08:00 ",
        "١٢:٠٠"})
    void rejectsOtherTimes(String text) {
        assertThatThrownBy(() -> ScheduleMatcher.parseTime(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a valid time "
                        + "(expected: HH:MM from 00:00 to 23:59, or 24:00 as an end, e.g. 08:00)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Europe/Berlin", "America/New_York", "America/Argentina/Buenos_Aires", "Asia/Kolkata",
        "UTC", "Etc/UTC", "US/Eastern"})
    void parsesIanaZoneIds(String text) {
        assertThat(ScheduleMatcher.parseZone(text)).isEqualTo(ZoneId.of(text));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"+02:00", "Z", "UTC+2", "GMT", "CET", "EST", "EST5EDT", "Etc/GMT+2", "Europe/Atlantis", "",
        "Berlin"})
    void rejectsOffsetsAbbreviationsAndUnknownZones(String text) {
        assertThatThrownBy(() -> ScheduleMatcher.parseZone(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a valid time zone (expected: an IANA zone id, e.g. Europe/Berlin "
                        + "or UTC; no offsets or abbreviations such as +02:00 or CET)");
    }

    @Test
    void suggestsTheSpellingOfAZoneInTheWrongCase() {
        assertThatThrownBy(() -> ScheduleMatcher.parseZone("europe/berlin"))
                .hasMessage("\"europe/berlin\" is not a valid time zone (expected: an IANA zone id, e.g. Europe/Berlin "
                        + "or UTC; no offsets or abbreviations such as +02:00 or CET; did you mean Europe/Berlin?)");
    }

    @Test
    void rejectsEmptyWindowsAndDays() {
        ZoneId utc = ZoneId.of("UTC");
        LocalTime eight = LocalTime.of(8, 0);
        assertThatThrownBy(() -> ScheduleMatcher.of(ScheduleMatcher.EVERY_DAY, eight, eight, utc))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"08:00-08:00\" is an empty schedule window (expected: from and to differ; "
                        + "from > to wraps midnight, 00:00-24:00 is the whole day)");
        assertThatThrownBy(() -> ScheduleMatcher.of(Set.of(), LocalTime.of(8, 0), LocalTime.of(9, 0), utc))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("[] is not a valid list of schedule days (expected: at least one of "
                        + "mon, tue, wed, thu, fri, sat, sun; omit days for every day)");
        assertThatThrownBy(() -> ScheduleMatcher.of(ScheduleMatcher.EVERY_DAY, ScheduleMatcher.END_OF_DAY,
                LocalTime.of(9, 0), utc))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"24:00\" is not a valid schedule start (expected: 00:00 to 23:59)");
    }

    @Test
    void describesItselfAsThePolicyWritesIt() {
        assertThat(schedule("mon,tue,wed,thu,fri 08:00 19:00 Europe/Berlin"))
                .hasToString("schedule mon-fri 08:00-19:00 Europe/Berlin");
        assertThat(schedule("sat,sun,mon 22:00 06:00 UTC")).hasToString("schedule mon,sat,sun 22:00-06:00 UTC");
        assertThat(schedule("mon,tue,wed,fri,sun 00:00 24:00 UTC"))
                .hasToString("schedule mon-wed,fri,sun 00:00-24:00 UTC");
        ScheduleMatcher matcher = schedule("mon,fri 08:00 24:00 Asia/Tokyo");
        assertThat(matcher.days()).containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
        assertThat(matcher.from()).isEqualTo(LocalTime.of(8, 0));
        assertThat(matcher.to()).isEqualTo(ScheduleMatcher.END_OF_DAY);
        assertThat(matcher.zone()).isEqualTo(ZoneId.of("Asia/Tokyo"));
        assertThat(matcher.failsForWantOfIdentity(at("2026-03-03T08:15:00Z"))).isFalse();
    }

    @Test
    void keepsItsOwnCopyOfTheDays() {
        EnumSet<DayOfWeek> days = EnumSet.of(DayOfWeek.MONDAY);
        ScheduleMatcher matcher = ScheduleMatcher.of(days, LocalTime.of(8, 0), LocalTime.of(9, 0), ZoneId.of("UTC"));
        days.add(DayOfWeek.TUESDAY);

        assertThat(matcher.days()).containsExactly(DayOfWeek.MONDAY);
        assertThatThrownBy(() -> matcher.days().add(DayOfWeek.SUNDAY))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "mon,tue,wed,thu,fri 08:00 19:00 Europe/Berlin | 2026-03-03T08:15:00Z",
        "fri 22:00 06:00 America/New_York | 2026-03-07T08:00:00Z",
        "* 00:00 24:00 UTC | 2026-03-03T08:15:00Z",
        "sun 02:00 03:00 Europe/Berlin | 2026-10-25T01:30:00Z"})
    void matchingAllocatesNothing(String spec, String instant) {
        ScheduleMatcher matcher = schedule(spec);
        AccessRequest request = at(instant);

        assertThat(bytesPerCall(() -> matcher.matches(request))).isLessThan(1.0);
    }

}
