package dev.portcullis.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Reads typed values (strings, booleans, numbers, durations, sizes, choices, lists) from YAML nodes, reporting bad ones. */
final class YamlValues {

    /*
     * Implementation notes: every reader returns null for a value it cannot use, after reporting
     * it at the value's location; a scalar the YAML reader already reported as invalid is not
     * reported again. A list with an unusable item is null as a whole (see ConfigBinder).
     */

    private final Problems problems;

    YamlValues(Problems problems) {
        this.problems = problems;
    }

    /** Where the problems found while binding are reported. */
    Problems problems() {
        return problems;
    }

    @Nullable List<String> strings(YamlNode node, String path, String expected) {
        if (!(node instanceof YamlNode.Sequence sequence)) {
            typeProblem(node, path, expected);
            return null;
        }
        List<String> strings = new ArrayList<>();
        boolean complete = true;
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            String value = string(item, itemPath);
            if (value == null) {
                complete = false;
            } else {
                strings.add(value);
            }
        }
        return complete ? strings : null;
    }

    @Nullable String string(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar scalar) {
            switch (scalar.kind()) {
                case STRING, INTEGER, DECIMAL -> {
                    return scalar.text();
                }
                case INVALID -> {
                    return null;
                }
                default -> {
                    // a boolean or null where text was expected: reported below
                }
            }
        }
        typeProblem(node, path, "a string");
        return null;
    }

    @Nullable Boolean bool(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar scalar && scalar.kind() == YamlNode.Kind.BOOLEAN) {
            return Boolean.parseBoolean(scalar.text());
        }
        typeProblem(node, path, "true or false");
        return null;
    }

    @Nullable Integer integer(YamlNode node, String path, int min) {
        if (!(node instanceof YamlNode.Scalar scalar)
                || scalar.kind() != YamlNode.Kind.INTEGER
                || !ConfigValues.isInteger(scalar.text())) {
            typeProblem(node, path, "an integer");
            return null;
        }
        long value;
        try {
            value = Long.parseLong(scalar.text());
        } catch (NumberFormatException e) {
            value = Long.MAX_VALUE;
        }
        if (value < min) {
            problems.add(node.location(), path, scalar.text() + " is out of range (expected: at least " + min + ")");
            return null;
        }
        if (value > Integer.MAX_VALUE) {
            problems.add(node.location(), path,
                    scalar.text() + " is out of range (expected: at most " + Integer.MAX_VALUE + ")");
            return null;
        }
        return (int) value;
    }

    @Nullable Duration duration(YamlNode node, String path, boolean allowZero) {
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, "a duration, e.g. 10s");
            return null;
        }
        try {
            Duration duration = ConfigValues.parseDuration(text);
            if (duration.isZero() && !allowZero) {
                problems.add(node.location(), path,
                        ConfigValues.quote(text) + " is too short (expected: more than 0, e.g. 10s)");
                return null;
            }
            return duration;
        } catch (IllegalArgumentException e) {
            problems.add(node.location(), path, ConfigValues.messageOf(e));
            return null;
        }
    }

    @Nullable Long size(YamlNode node, String path, long min, long max) {
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, "a size, e.g. 16KiB");
            return null;
        }
        try {
            long size = ConfigValues.parseSize(text);
            if (size < min) {
                problems.add(node.location(), path,
                        ConfigValues.quote(text) + " is too small (expected: at least " + min + " byte)");
                return null;
            }
            if (size > max) {
                problems.add(node.location(), path,
                        ConfigValues.quote(text) + " is too large (expected: less than 2GiB)");
                return null;
            }
            return size;
        } catch (IllegalArgumentException e) {
            problems.add(node.location(), path, ConfigValues.messageOf(e));
            return null;
        }
    }

    <T> @Nullable T oneOf(YamlNode node, String path, String thing, Map<String, T> options) {
        String alternatives = alternatives(options.keySet());
        String text = textOf(node);
        if (text == null) {
            typeProblem(node, path, alternatives);
            return null;
        }
        T value = options.get(text);
        if (value == null) {
            problems.add(node.location(), path,
                    describe(node) + " is not a valid " + thing + " (expected: " + alternatives + ")");
        }
        return value;
    }

    @Nullable List<String> claimValues(YamlNode node, String path) {
        if (!(node instanceof YamlNode.Sequence sequence)) {
            typeProblem(node, path, "a list of claim values, e.g. [acme]");
            return null;
        }
        List<String> values = new ArrayList<>();
        boolean complete = true;
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            String value = claimValue(item, itemPath);
            if (value == null) {
                complete = false;
            } else {
                values.add(value);
            }
        }
        return complete ? values : null;
    }

    /** A claim value as the text it compares by: {@code 42}, {@code 1.5}, {@code true} (see ClaimPath.matchesAny). */
    private @Nullable String claimValue(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar scalar) {
            switch (scalar.kind()) {
                case STRING -> {
                    return scalar.text();
                }
                case INTEGER, DECIMAL -> {
                    return ConfigValues.claimNumber(scalar.text());
                }
                case BOOLEAN -> {
                    return scalar.text().toLowerCase(Locale.ROOT);
                }
                case INVALID -> {
                    return null;
                }
                default -> {
                    // null: reported below
                }
            }
        }
        typeProblem(node, path, "a string, number or boolean");
        return null;
    }

    /**
     * A map of names (claim paths, header names) to lists read by {@code values}. The name is the value checked
     * later, so problems about it point at the key. Entries with unusable values are left out; left with none,
     * the key is as good as unwritten.
     */
    @Nullable Map<String, List<String>> stringLists(
            YamlNode node, String path, String expected, ConditionKey.ListReader values) {
        if (!(node instanceof YamlNode.Mapping mapping)) {
            typeProblem(node, path, expected);
            return null;
        }
        Map<String, List<String>> lists = new LinkedHashMap<>();
        for (YamlNode.Entry entry : mapping.entries()) {
            String entryPath = KeyPaths.key(path, entry.key());
            problems.remember(entryPath, entry.keyLocation());
            List<String> list = values.read(entry.value(), entryPath);
            if (list != null) {
                lists.put(entry.key(), list);
            }
        }
        return lists.isEmpty() && !mapping.entries().isEmpty() ? null : lists;
    }

    /** Reports that {@code node} is not {@code expected}, unless the YAML reader already reported it as invalid. */
    void typeProblem(YamlNode node, String path, String expected) {
        if (node instanceof YamlNode.Scalar scalar && scalar.kind() == YamlNode.Kind.INVALID) {
            return;
        }
        problems.add(node.location(), path, "expected " + expected + ", got " + describe(node));
    }

    /** Whether {@code node} is a YAML null: a key written with no value. */
    static boolean isNull(YamlNode node) {
        return node instanceof YamlNode.Scalar scalar && scalar.kind() == YamlNode.Kind.NULL;
    }

    /** The text of a string or number scalar; null for anything else. */
    static @Nullable String textOf(YamlNode node) {
        if (node instanceof YamlNode.Scalar scalar) {
            YamlNode.Kind kind = scalar.kind();
            if (kind == YamlNode.Kind.STRING || kind == YamlNode.Kind.INTEGER || kind == YamlNode.Kind.DECIMAL) {
                return scalar.text();
            }
        }
        return null;
    }

    private static String describe(YamlNode node) {
        if (node instanceof YamlNode.Mapping) {
            return "a map";
        }
        if (node instanceof YamlNode.Sequence) {
            return "a list";
        }
        YamlNode.Scalar scalar = (YamlNode.Scalar) node;
        return scalar.kind() == YamlNode.Kind.STRING ? ConfigValues.quote(scalar.text()) : scalar.text();
    }

    private static String alternatives(Set<String> options) {
        List<String> list = List.copyOf(options);
        if (list.size() == 1) {
            return list.get(0);
        }
        return String.join(", ", list.subList(0, list.size() - 1)) + " or " + list.get(list.size() - 1);
    }
}
