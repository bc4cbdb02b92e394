package dev.portcullis.core.config;

import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.ScheduleMatcher;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code schedule: {days, from, to, timezone}} (SPEC 3.2): a weekly window in a zone's wall time; {@code days}
 * omitted means every day.
 */
final class ScheduleConditionKey extends ConditionKey<ScheduleConditionKey.Written> {
    private static final List<String> KEYS = List.of("days", "from", "to", "timezone");
    private static final String EXPECTED =
            "a schedule, e.g. { days: [mon, fri], from: \"08:00\", to: \"19:00\", timezone: Europe/Berlin }";

    /** The schedule as written; a null part was missing or unusable (reported). */
    record Written(@Nullable List<String> days, @Nullable String from, @Nullable String to,
            @Nullable String timezone) {}

    ScheduleConditionKey() {
        super("schedule", Written.class);
    }

    @Override
    @Nullable Written bind(YamlNode node, String path, Reader reader) {
        Map<String, YamlNode> parts = reader.section(node, path, KEYS, EXPECTED);
        if (parts == null) {
            return null;
        }
        YamlNode days = parts.get("days");
        return new Written(days == null ? null : reader.strings(days, KeyPaths.key(path, "days"), "a list of days, e.g. [mon, tue]"),
                text(parts, "from", path, reader), text(parts, "to", path, reader),
                text(parts, "timezone", path, reader));
    }

    private static @Nullable String text(Map<String, YamlNode> parts, String key, String path, Reader reader) {
        YamlNode node = parts.get(key);
        return node == null ? null : reader.string(node, KeyPaths.key(path, key));
    }

    @Override
    @Nullable RequestMatcher compile(Written written, String path, Compiler c) {
        boolean complete = present(written.from(), "from", path, c) & present(written.to(), "to", path, c)
                & present(written.timezone(), "timezone", path, c);
        Set<DayOfWeek> days = ScheduleMatcher.EVERY_DAY;
        if (written.days() != null) {
            List<DayOfWeek> parsed = written.days().isEmpty() ? null
                    : c.each(written.days(), KeyPaths.key(path, "days"), ScheduleMatcher::parseDay);
            if (written.days().isEmpty()) {
                c.problem(KeyPaths.key(path, "days"), "empty list (expected: at least one day, e.g. mon)");
                complete = false;
            } else if (parsed == null) {
                complete = false;
            } else {
                days = EnumSet.copyOf(parsed);
            }
        }
        LocalTime from = written.from() == null ? null : one(c, KeyPaths.key(path, "from"), written.from(),
                ScheduleMatcher::parseStart);
        LocalTime to = written.to() == null ? null : one(c, KeyPaths.key(path, "to"), written.to(),
                ScheduleMatcher::parseTime);
        ZoneId zone = written.timezone() == null ? null : one(c, KeyPaths.key(path, "timezone"),
                written.timezone(), ScheduleMatcher::parseZone);
        if (!complete || from == null || to == null || zone == null) {
            return null;
        }
        Set<DayOfWeek> onDays = days;
        return c.build(path, () -> ScheduleMatcher.of(onDays, from, to, zone));
    }

    private static boolean present(@Nullable String value, String key, String path, Compiler c) {
        if (value == null) {
            c.problem(path, "required key " + key + " is missing (expected: " + EXPECTED + ")");
        }
        return value != null;
    }

    private static <E> @Nullable E one(Compiler c, String path, String text, Factory<E> factory) {
        try {
            return factory.apply(text);
        } catch (IllegalArgumentException e) {
            c.problem(path, ConfigValues.messageOf(e));
            return null;
        }
    }
}
