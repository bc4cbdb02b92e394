package dev.portcullis.core.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** One mapping being bound: reports unknown and not-yet-supported keys, then hands out typed values. */
final class YamlSection {

    private final YamlValues read;
    private final String path;
    private final Map<String, YamlNode> values = new HashMap<>();

    /** A section that was not written: every value is its default. */
    YamlSection(YamlValues read, String path) {
        this.read = read;
        this.path = path;
    }

    YamlSection(YamlValues read, YamlNode.Mapping mapping, String path, List<String> keys, Set<String> notYet) {
        this.read = read;
        this.path = path;
        Problems problems = read.problems();
        problems.remember(path, mapping.location());
        for (YamlNode.Entry entry : mapping.entries()) {
            String key = entry.key();
            String keyPath = KeyPaths.key(path, key);
            if (!keys.contains(key)) {
                problems.add(entry.keyLocation(), keyPath, "unknown key " + ConfigValues.quote(key)
                        + " (expected one of: " + String.join(", ", keys) + ")");
            } else if (notYet.contains(key)) {
                problems.add(entry.keyLocation(), keyPath, key + " is not supported yet");
            } else {
                values.put(key, entry.value());
                problems.remember(keyPath, entry.value().location());
            }
        }
    }

    /** The key path of this section. */
    String path() {
        return path;
    }

    String path(String key) {
        return KeyPaths.key(path, key);
    }

    /** The written, known keys and their values. */
    Map<String, YamlNode> values() {
        return values;
    }

    @Nullable YamlNode node(String key) {
        return values.get(key);
    }

    /** A nested section; absent or written with no value means all defaults. */
    YamlSection section(String key, List<String> keys) {
        YamlNode node = values.get(key);
        if (node instanceof YamlNode.Mapping mapping) {
            return new YamlSection(read, mapping, path(key), keys, Set.of());
        }
        if (node != null && !YamlValues.isNull(node)) {
            read.typeProblem(node, path(key), "a map");
        }
        return new YamlSection(read, path(key));
    }

    String string(String key, String fallback) {
        YamlNode node = values.get(key);
        String value = node == null ? null : read.string(node, path(key));
        return value == null ? fallback : value;
    }

    /** The string at {@code key}; null when not written, or unusable (reported). */
    @Nullable String optionalString(String key) {
        YamlNode node = values.get(key);
        return node == null ? null : read.string(node, path(key));
    }

    @Nullable String requiredString(String key, String expected) {
        YamlNode node = values.get(key);
        if (node == null) {
            read.problems().add(path(key), "required key is missing (expected: " + expected + ")");
            return null;
        }
        return read.string(node, path(key));
    }

    boolean bool(String key, boolean fallback) {
        YamlNode node = values.get(key);
        Boolean value = node == null ? null : read.bool(node, path(key));
        return value == null ? fallback : value;
    }

    /** The integer at {@code key}; null when not written, or unusable (reported). */
    @Nullable Integer optionalInteger(String key, int min) {
        YamlNode node = values.get(key);
        return node == null ? null : read.integer(node, path(key), min);
    }

    int integer(String key, int fallback, int min) {
        YamlNode node = values.get(key);
        Integer value = node == null ? null : read.integer(node, path(key), min);
        return value == null ? fallback : value;
    }

    Duration duration(String key, Duration fallback, boolean allowZero) {
        YamlNode node = values.get(key);
        Duration value = node == null ? null : read.duration(node, path(key), allowZero);
        return value == null ? fallback : value;
    }

    /** The duration at {@code key}; null when not written, or unusable (reported). */
    @Nullable Duration optionalDuration(String key, boolean allowZero) {
        YamlNode node = values.get(key);
        return node == null ? null : read.duration(node, path(key), allowZero);
    }

    long size(String key, long fallback, long min, long max) {
        YamlNode node = values.get(key);
        Long value = node == null ? null : read.size(node, path(key), min, max);
        return value == null ? fallback : value;
    }

    <T> T oneOf(String key, String thing, Map<String, T> options, T fallback) {
        YamlNode node = values.get(key);
        T value = node == null ? null : read.oneOf(node, path(key), thing, options);
        return value == null ? fallback : value;
    }

    @Nullable List<String> strings(String key, String expected) {
        YamlNode node = values.get(key);
        return node == null ? null : read.strings(node, path(key), expected);
    }

    /** The list of strings at {@code key}; null when missing or unusable (both reported). */
    @Nullable List<String> requiredStrings(String key, String expected) {
        YamlNode node = values.get(key);
        if (node == null) {
            read.problems().add(path(key), "required key is missing (expected: " + expected + ")");
            return null;
        }
        return read.strings(node, path(key), expected);
    }
}
