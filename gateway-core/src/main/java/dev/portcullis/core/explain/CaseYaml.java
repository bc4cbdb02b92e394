package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.portcullis.core.explain.CaseNode.Entry;
import dev.portcullis.core.explain.CaseNode.ListNode;
import dev.portcullis.core.explain.CaseNode.MapNode;
import dev.portcullis.core.explain.CaseNode.Scalar;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/** Reads a cases file's YAML into a tree of {@link CaseNode}s, reporting syntax errors and duplicate keys. */
final class CaseYaml {

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .build();

    private final CaseProblems problems;

    private CaseYaml(CaseProblems problems) {
        this.problems = problems;
    }

    /** The tree of {@code yaml}, or null, with a problem reported, when it is empty or not YAML. */
    static @Nullable CaseNode read(String yaml, CaseProblems problems) {
        CaseYaml reader = new CaseYaml(problems);
        try (YAMLParser parser = FACTORY.createParser(yaml)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                problems.problem(1, 1, "",
                        "file is empty (expected: a mapping with a list of cases, e.g. cases: [...])");
                return null;
            }
            return reader.node(parser, first, "");
        } catch (JacksonException e) {
            if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
                Mark mark = marked.getProblemMark();
                String context = marked.getContext();
                problems.problem(mark.getLine() + 1, mark.getColumn() + 1, "", "invalid YAML: "
                        + oneLine(context == null ? marked.getProblem() : context + ": " + marked.getProblem()));
            } else {
                JsonLocation at = e.getLocation();
                problems.problem(at == null ? 1 : Math.max(1, at.getLineNr()),
                        at == null ? 1 : Math.max(1, at.getColumnNr()), "",
                        "invalid YAML: " + oneLine(e.getOriginalMessage()));
            }
            return null;
        } catch (IOException e) {
            problems.problem(1, 1, "", "cannot read YAML: " + e.getMessage());
            return null;
        }
    }

    private static String oneLine(@Nullable String text) {
        return text == null ? "" : text.replaceAll("\\s+", " ").trim();
    }

    private CaseNode node(YAMLParser parser, @Nullable JsonToken token, String path) throws IOException {
        JsonLocation at = parser.currentTokenLocation();
        int line = Math.max(1, at.getLineNr());
        int column = Math.max(1, at.getColumnNr());
        if (token == JsonToken.START_OBJECT) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            JsonToken next;
            while ((next = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonLocation keyAt = parser.currentTokenLocation();
                CaseNode value = node(parser, parser.nextToken(), path + "." + key);
                Entry entry = new Entry(key, Math.max(1, keyAt.getLineNr()), Math.max(1, keyAt.getColumnNr()), value);
                if (entries.putIfAbsent(key, entry) != null) {
                    problems.problem(entry.line(), entry.column(), path.isEmpty() ? key : path + "." + key,
                            "duplicate key \"" + key + "\" (expected: each key once)");
                }
            }
            if (next != JsonToken.END_OBJECT) {
                throw new IOException("unexpected end of input inside a mapping");
            }
            return new MapNode(line, column, entries);
        }
        if (token == JsonToken.START_ARRAY) {
            List<CaseNode> items = new ArrayList<>();
            JsonToken next;
            while ((next = parser.nextToken()) != JsonToken.END_ARRAY && next != null) {
                items.add(node(parser, next, path + "[" + items.size() + "]"));
            }
            if (next == null) {
                throw new IOException("unexpected end of input inside a list");
            }
            return new ListNode(line, column, items);
        }
        JsonToken kind = token == null ? JsonToken.VALUE_NULL : token;
        return new Scalar(line, column, kind, kind == JsonToken.VALUE_NULL ? "null" : parser.getText());
    }
}
