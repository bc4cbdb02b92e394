package dev.portcullis.core.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/** Reads YAML bytes into a tree of {@link YamlNode}s with Jackson's streaming parser, reporting what it cannot read. */
final class YamlTreeReader {

    /*
     * Implementation notes: Jackson's data binding stops at the first problem and forgets where a
     * value came from once it is bound, so the config is first read into this small located tree.
     * EMPTY_STRING_AS_NULL makes "key:" with nothing after it a null, while a quoted "" stays an
     * empty string. PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS keeps YAML 1.1's yes/no/on/off as
     * strings (YAML 1.2 semantics), so that "watch: yes" is reported instead of silently read,
     * and a country code such as NO stays a string. Anchors and aliases are rejected: an alias
     * would make one YAML value appear at two key paths, and the config is short enough to write
     * out. Duplicate keys, which YAML forbids but the parser passes on, are reported here since
     * the tree keeps one value per key.
     */

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .build();

    private final YAMLParser parser;
    private final Problems problems;

    /**
     * SnakeYAML's options with its code point limit (3 Mi by default) set to {@link ConfigText#MAX_BYTES}: a file
     * within the byte limit is never refused for its code points, and the byte limit's message is the one shown.
     */
    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(ConfigText.MAX_BYTES);
        return options;
    }

    private YamlTreeReader(YAMLParser parser, Problems problems) {
        this.parser = parser;
        this.problems = problems;
    }

    /** Reads one YAML document; returns null when nothing usable could be read (the problem is reported). */
    static @Nullable YamlNode read(byte[] yaml, Problems problems) {
        String text = ConfigText.decode(yaml, problems);
        if (text == null) {
            return null;
        }
        return read(text, "config is empty", problems);
    }

    /**
     * Reads one YAML document from {@code text}; returns null when nothing usable could be read (the problem is
     * reported), {@code empty} being the problem of a document with nothing in it.
     */
    static @Nullable YamlNode read(String text, String empty, Problems problems) {
        try (YAMLParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                problems.add(Location.START, "", empty);
                return null;
            }
            YamlNode root = new YamlTreeReader(parser, problems).value(first, "");
            if (parser.nextToken() != null) {
                problems.add(location(parser.currentTokenLocation()), "",
                        "more than one YAML document (expected: a single document)");
            }
            return root;
        } catch (JacksonException e) {
            problems.add(syntaxLocation(e), "", syntaxMessage(e));
            return null;
        } catch (IOException e) {
            // Only declared: the input is an in-memory string.
            problems.add(Location.START, "", "cannot read YAML: " + ConfigValues.oneLine(e.getMessage()));
            return null;
        }
    }

    private YamlNode value(@Nullable JsonToken token, String path) throws IOException {
        Location at = location(parser.currentTokenLocation());
        if (parser.isCurrentAlias()) {
            problems.add(at, path, "YAML alias \"*" + parser.getText()
                    + "\" is not supported (expected: the value written out in full)");
            return new YamlNode.Scalar(at, YamlNode.Kind.INVALID, "");
        }
        String anchor = parser.getObjectId();
        if (anchor != null) {
            problems.add(at, path, "YAML anchor \"&" + anchor
                    + "\" is not supported (expected: the value written out in full)");
        }
        if (token == JsonToken.START_OBJECT) {
            return mapping(at, path);
        }
        if (token == JsonToken.START_ARRAY) {
            return sequence(at, path);
        }
        return new YamlNode.Scalar(at, kind(token), token == JsonToken.VALUE_NULL ? "null" : parser.getText());
    }

    private YamlNode.Mapping mapping(Location at, String path) throws IOException {
        List<YamlNode.Entry> entries = new ArrayList<>();
        Map<String, Location> seen = new HashMap<>();
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            Location keyAt = location(parser.currentTokenLocation());
            String keyPath = KeyPaths.key(path, key);
            YamlNode value = value(parser.nextToken(), keyPath);
            Location first = seen.putIfAbsent(key, keyAt);
            if (first != null) {
                problems.add(keyAt, keyPath, "duplicate key " + ConfigValues.quote(key)
                        + " (expected: each key once; first at line " + first.line() + ")");
            } else {
                entries.add(new YamlNode.Entry(key, keyAt, value));
            }
        }
        expect(token, JsonToken.END_OBJECT);
        return new YamlNode.Mapping(at, entries);
    }

    private YamlNode.Sequence sequence(Location at, String path) throws IOException {
        List<YamlNode> items = new ArrayList<>();
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY && token != null) {
            items.add(value(token, KeyPaths.index(path, items.size())));
        }
        expect(token, JsonToken.END_ARRAY);
        return new YamlNode.Sequence(at, items);
    }

    private void expect(@Nullable JsonToken actual, JsonToken expected) throws IOException {
        if (actual != expected) {
            // The YAML parser balances its events; reaching this means the input ended inside a collection.
            throw new IOException("unexpected " + actual + ", expected " + expected);
        }
    }

    private static YamlNode.Kind kind(@Nullable JsonToken token) {
        if (token == null) {
            return YamlNode.Kind.NULL;
        }
        return switch (token) {
            case VALUE_NUMBER_INT -> YamlNode.Kind.INTEGER;
            case VALUE_NUMBER_FLOAT -> YamlNode.Kind.DECIMAL;
            case VALUE_TRUE, VALUE_FALSE -> YamlNode.Kind.BOOLEAN;
            case VALUE_NULL -> YamlNode.Kind.NULL;
            default -> YamlNode.Kind.STRING;
        };
    }

    private static Location location(@Nullable JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return Location.START;
        }
        return new Location(location.getLineNr(), Math.max(1, location.getColumnNr()));
    }

    /** Where SnakeYAML found the problem; Jackson's own location is the end of the last token it read. */
    private static Location syntaxLocation(JacksonException e) {
        if (e.getCause() instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
            Mark mark = yaml.getProblemMark();
            return new Location(mark.getLine() + 1, mark.getColumn() + 1);
        }
        return location(e.getLocation());
    }

    private static String syntaxMessage(JacksonException e) {
        String detail;
        if (e.getCause() instanceof MarkedYAMLException yaml) {
            String context = yaml.getContext();
            detail = context == null ? yaml.getProblem() : context + ": " + yaml.getProblem();
        } else {
            detail = e.getOriginalMessage();
        }
        return "invalid YAML: " + ConfigValues.oneLine(detail);
    }
}
