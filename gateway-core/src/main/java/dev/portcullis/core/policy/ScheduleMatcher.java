package dev.portcullis.core.policy;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.TextStyle;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * A condition that holds when the request time, in wall-clock time of one zone, lies in a weekly window
 * ({@code schedule: {days, from, to, timezone}}).
 *
 * <p>Semantics: the window is {@code [from, to)} on each of {@code days}, in the zone's local wall time. When
 * {@code from > to} the window wraps midnight and belongs to the day it <em>starts</em> on: a {@code fri 22:00-06:00}
 * window holds from Friday 22:00 to Saturday 06:00, and not from Friday 00:00 to 06:00 (that part belongs to a
 * Thursday window). {@code to} may be {@link #END_OF_DAY} (written {@code 24:00}) for a window that runs to midnight;
 * {@code 00:00-24:00} is the whole day. Across DST changes the window follows the wall clock: at spring-forward the
 * skipped local hour never occurs (a window inside it does not hold that night), and at fall-back the repeated hour
 * occurs twice and both instants are inside a window that contains its local time.
 */
public final class ScheduleMatcher implements RequestMatcher {

    /*
     * Implementation notes: matching converts the request instant to local wall time by adding the zone's
     * UTC offset at that instant and doing epoch arithmetic (day = floorDiv(seconds, 86400), day of week
     * from epoch day 0, a Thursday), so no ZonedDateTime or LocalDateTime is created per request.
     * ZoneRules.getOffset(Instant) allocates for instants after a zone's last explicit transition (it
     * looks the year's transitions up in a cache keyed by a boxed year), which is every current instant
     * in zones with recurring DST rules. So the offsets are looked up in a table of every transition from
     * 1970 to 2100, built once here and searched with Arrays.binarySearch; instants outside that range
     * fall back to ZoneRules (correct, merely slower). gateway-bench ScheduleBenchmark measures the three
     * ways.
     */

    /** Every day of the week: the days of a schedule that does not name any. */
    public static final Set<DayOfWeek> EVERY_DAY = Collections.unmodifiableSet(EnumSet.allOf(DayOfWeek.class));

    /** The end of the day, written {@code 24:00}: only valid as a window's {@code to}. */
    public static final LocalTime END_OF_DAY = LocalTime.MAX;

    private static final long SECONDS_PER_DAY = 86_400;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final long NANOS_PER_DAY = SECONDS_PER_DAY * NANOS_PER_SECOND;
    private static final long TABLE_START = 0;
    private static final long TABLE_END = LocalDateTime.of(2100, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    private static final String[] DAY_NAMES = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    private static final String TIME_EXPECTED = "HH:MM from 00:00 to 23:59, or 24:00 as an end, e.g. 08:00";

    private final Set<DayOfWeek> days;
    private final int dayMask;
    private final LocalTime from;
    private final LocalTime to;
    private final long fromNanos;
    private final long toNanos;
    private final boolean wraps;
    private final ZoneId zone;
    private final ZoneRules rules;
    /** Epoch seconds at which the zone's offset changes, ascending. */
    private final long[] transitions;
    /** {@code offsets[i]}: the offset in seconds in effect after {@code i} transitions. */
    private final int[] offsets;

    private ScheduleMatcher(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {
        this.days = Collections.unmodifiableSet(EnumSet.copyOf(days));
        int mask = 0;
        for (DayOfWeek day : days) {
            mask |= 1 << (day.getValue() - 1);
        }
        this.dayMask = mask;
        this.from = from;
        this.to = to;
        this.fromNanos = from.toNanoOfDay();
        this.toNanos = to.equals(END_OF_DAY) ? NANOS_PER_DAY : to.toNanoOfDay();
        this.wraps = fromNanos > toNanos;
        this.zone = zone;
        this.rules = zone.getRules();
        List<Long> changes = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        after.add(rules.getOffset(Instant.ofEpochSecond(TABLE_START)).getTotalSeconds());
        Instant cursor = Instant.ofEpochSecond(TABLE_START);
        ZoneOffsetTransition next;
        while ((next = rules.nextTransition(cursor)) != null && next.toEpochSecond() < TABLE_END) {
            changes.add(next.toEpochSecond());
            after.add(next.getOffsetAfter().getTotalSeconds());
            cursor = next.getInstant();
        }
        this.transitions = changes.stream().mapToLong(Long::longValue).toArray();
        this.offsets = after.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * A weekly window {@code [from, to)} on {@code days} in {@code zone}'s wall time.
     *
     * @param days the days a window starts on; {@link #EVERY_DAY} when the config names none
     * @param from the start, inclusive; not {@link #END_OF_DAY}
     * @param to the end, exclusive; before {@code from} to wrap midnight, {@link #END_OF_DAY} to run to midnight
     * @throws IllegalArgumentException for no days, an empty window ({@code from == to}) or a start of 24:00
     */
    public static ScheduleMatcher of(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {
        if (days.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid list of schedule days "
                    + "(expected: at least one of mon, tue, wed, thu, fri, sat, sun; omit days for every day)");
        }
        if (from.equals(END_OF_DAY)) {
            throw startAtEndOfDay();
        }
        if (from.equals(to)) {
            throw new IllegalArgumentException("\"" + time(from) + "-" + time(to) + "\" is an empty schedule window "
                    + "(expected: from and to differ; from > to wraps midnight, 00:00-24:00 is the whole day)");
        }
        return new ScheduleMatcher(days, from, to, zone);
    }

    /**
     * Parses a window's start as {@link #parseTime} does, except that 24:00 (the end of a day) cannot start one: checked
     * on its own, so that a config check reports it at {@code from} beside the schedule's other problems.
     */
    public static LocalTime parseStart(String text) {
        LocalTime start = parseTime(text);
        if (start.equals(END_OF_DAY)) {
            throw startAtEndOfDay();
        }
        return start;
    }

    private static IllegalArgumentException startAtEndOfDay() {
        return new IllegalArgumentException("\"24:00\" is not a valid schedule start (expected: 00:00 to 23:59)");
    }

    /**
     * Parses a day as the config writes it: exactly {@code mon}, {@code tue}, {@code wed}, {@code thu}, {@code fri},
     * {@code sat} or {@code sun}. Full names and other cases ({@code monday}, {@code Mon}) are rejected, so that a
     * policy spells every day one way.
     */
    public static DayOfWeek parseDay(String text) {
        for (int i = 0; i < DAY_NAMES.length; i++) {
            if (DAY_NAMES[i].equals(text)) {
                return DayOfWeek.of(i + 1);
            }
        }
        throw new IllegalArgumentException("\"" + text + "\" is not a valid day "
                + "(expected: one of mon, tue, wed, thu, fri, sat, sun)");
    }

    /**
     * Parses {@code HH:MM} (two digits each) from {@code 00:00} to {@code 23:59}; {@code 24:00} parses to
     * {@link #END_OF_DAY}, which {@link #of} accepts only as {@code to}.
     */
    public static LocalTime parseTime(String text) {
        if ("24:00".equals(text)) {
            return END_OF_DAY;
        }
        boolean shaped = text.length() == 5 && text.charAt(2) == ':' && isDigit(text.charAt(0))
                && isDigit(text.charAt(1)) && isDigit(text.charAt(3)) && isDigit(text.charAt(4));
        int hour = shaped ? (text.charAt(0) - '0') * 10 + text.charAt(1) - '0' : -1;
        int minute = shaped ? (text.charAt(3) - '0') * 10 + text.charAt(4) - '0' : -1;
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59) {
            throw new IllegalArgumentException(
                    "\"" + text + "\" is not a valid time (expected: " + TIME_EXPECTED + ")");
        }
        return LocalTime.of(hour, minute);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * Parses an IANA time zone id of the form Area/Location ({@code Europe/Berlin}, {@code America/New_York}), or
     * {@code UTC}. Offsets ({@code +02:00}, {@code UTC+2}, {@code Z}), abbreviations ({@code CET}, {@code EST},
     * {@code EST5EDT}, {@code GMT}) and {@code Etc/GMT+2}-style ids (whose sign is inverted) are rejected: they do not
     * follow a place's daylight saving time, which a schedule of office hours almost always means to. Ids are
     * case-sensitive; a wrong case is rejected with the right spelling as a hint.
     */
    public static ZoneId parseZone(String text) {
        Set<String> known = ZoneId.getAvailableZoneIds();
        boolean regional = text.equals("UTC") || text.indexOf('/') > 0 && !text.startsWith("Etc/GMT");
        if (regional && known.contains(text)) {
            return ZoneId.of(text);
        }
        String hint = "";
        for (String id : new TreeSet<>(known)) {
            if (id.equalsIgnoreCase(text) && (id.equals("UTC") || id.indexOf('/') > 0 && !id.startsWith("Etc/GMT"))) {
                hint = "; did you mean " + id + "?";
            }
        }
        throw new IllegalArgumentException("\"" + text + "\" is not a valid time zone (expected: an IANA zone id, "
                + "e.g. Europe/Berlin or UTC; no offsets or abbreviations such as +02:00 or CET" + hint + ")");
    }

    /** The days a window starts on. */
    public Set<DayOfWeek> days() {
        return days;
    }

    /** The start of the window, inclusive. */
    public LocalTime from() {
        return from;
    }

    /** The end of the window, exclusive; {@link #END_OF_DAY} for midnight at the end of the day. */
    public LocalTime to() {
        return to;
    }

    /** The zone whose wall time the window is in. */
    public ZoneId zone() {
        return zone;
    }

    @Override
    public boolean matches(AccessRequest request) {
        Instant now = request.now();
        long local = now.getEpochSecond() + offsetSeconds(now);
        long nanoOfDay = Math.floorMod(local, SECONDS_PER_DAY) * NANOS_PER_SECOND + now.getNano();
        return windowDay(dayIndex(local), nanoOfDay) >= 0;
    }

    /** The offset of the zone at {@code instant}, in seconds; allocation-free from 1970 to 2100. */
    int offsetSeconds(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds < TABLE_START || seconds >= TABLE_END) {
            return rules.getOffset(instant).getTotalSeconds();
        }
        int index = Arrays.binarySearch(transitions, seconds);
        return offsets[index >= 0 ? index + 1 : -index - 1];
    }

    /** The day of the week of local epoch second {@code local}: 0 for Monday to 6 for Sunday. */
    private static int dayIndex(long local) {
        // Epoch day 0, 1970-01-01, was a Thursday (index 3).
        return (int) Math.floorMod(Math.floorDiv(local, SECONDS_PER_DAY) + 3, 7);
    }

    /**
     * The index of the day whose window holds at local day {@code day} and time {@code nanoOfDay}: {@code day}
     * itself, or for the early part of a window that wraps midnight the day before; -1 when no window holds.
     */
    private int windowDay(int day, long nanoOfDay) {
        if (!wraps) {
            return nanoOfDay >= fromNanos && nanoOfDay < toNanos && isDay(day) ? day : -1;
        }
        if (nanoOfDay >= fromNanos) {
            return isDay(day) ? day : -1;
        }
        int previous = (day + 6) % 7;
        return nanoOfDay < toNanos && isDay(previous) ? previous : -1;
    }

    private boolean isDay(int index) {
        return (dayMask & 1 << index) != 0;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return explain(request);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return explain(request);
    }

    /** "time Tue 09:15 Europe/Berlin in mon-fri 08:00-19:00", or "not in", with the window's day when it wrapped. */
    private String explain(AccessRequest request) {
        Instant now = request.now();
        int offset = offsetSeconds(now);
        long local = now.getEpochSecond() + offset;
        LocalDateTime wall = LocalDateTime.ofEpochSecond(now.getEpochSecond(), now.getNano(),
                ZoneOffset.ofTotalSeconds(offset));
        int day = dayIndex(local);
        int windowDay = windowDay(day, wall.toLocalTime().toNanoOfDay());
        String shown = "time " + displayName(day) + " " + time(wall.toLocalTime().withNano(0)) + " " + zone;
        if (windowDay < 0) {
            return shown + " not in " + window();
        }
        return shown + " in " + window() + (windowDay == day ? "" : " (window started " + displayName(windowDay) + ")");
    }

    private static String displayName(int dayIndex) {
        return DayOfWeek.of(dayIndex + 1).getDisplayName(TextStyle.SHORT, Locale.ROOT);
    }

    /** The days and times as a policy would write them: "mon-fri 08:00-19:00", "sat,sun 22:00-06:00". */
    private String window() {
        return dayList() + " " + time(from) + "-" + time(to);
    }

    /** Runs of three or more consecutive days as "mon-fri", others one by one: "mon-wed,fri,sun". */
    private String dayList() {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < 7) {
            if (!isDay(i)) {
                i++;
                continue;
            }
            int end = i;
            while (end + 1 < 7 && isDay(end + 1)) {
                end++;
            }
            sb.append(sb.length() == 0 ? "" : ",");
            if (end - i >= 2) {
                sb.append(DAY_NAMES[i]).append('-').append(DAY_NAMES[end]);
            } else {
                for (int d = i; d <= end; d++) {
                    sb.append(d == i ? "" : ",").append(DAY_NAMES[d]);
                }
            }
            i = end + 1;
        }
        return sb.toString();
    }

    /** HH:MM, HH:MM:SS when there are seconds, and 24:00 for the end of the day. */
    private static String time(LocalTime time) {
        if (time.equals(END_OF_DAY)) {
            return "24:00";
        }
        return time.withNano(0).toString();
    }

    @Override
    public String toString() {
        return "schedule " + window() + " " + zone;
    }
}
