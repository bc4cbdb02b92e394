package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.config.YamlNode;
import dev.portcullis.core.explain.CaseNode.Entry;
import dev.portcullis.core.explain.CaseNode.ListNode;
import dev.portcullis.core.explain.CaseNode.MapNode;
import dev.portcullis.core.explain.CaseNode.Scalar;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads a cases file's YAML into a tree of {@link CaseNode}s with the config's own reader ({@link ConfigText#tree}),
 * so that the two files are read alike: the same syntax messages, anchors, aliases and merge keys refused, duplicate
 * keys reported with where the key was first written.
 */
final class CaseYaml {

    private CaseYaml() {}

    /**
     * The tree of {@code yaml}, or null, with a problem reported, when it is empty or not YAML, or holds an alias
     * (which leaves no value to read further).
     */
    static @Nullable CaseNode read(String file, String yaml, CaseProblems problems) {
        List<ConfigProblem> found = new ArrayList<>();
        YamlNode root = ConfigText.tree(file, yaml,
                "file is empty (expected: a mapping with a list of cases, e.g. cases: [...])", found);
        found.forEach(p -> problems.problem(p.line(), p.column(), p.path(), p.message()));
        return root == null ? null : node(root);
    }

    private static @Nullable CaseNode node(YamlNode node) {
        int line = node.location().line();
        int column = node.location().column();
        if (node instanceof YamlNode.Mapping mapping) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (YamlNode.Entry entry : mapping.entries()) {
                CaseNode value = node(entry.value());
                if (value == null) {
                    return null;
                }
                entries.put(entry.key(), new Entry(entry.key(), entry.keyLocation().line(),
                        entry.keyLocation().column(), value));
            }
            return new MapNode(line, column, entries);
        }
        if (node instanceof YamlNode.Sequence sequence) {
            List<CaseNode> items = new ArrayList<>();
            for (YamlNode item : sequence.items()) {
                CaseNode value = node(item);
                if (value == null) {
                    return null;
                }
                items.add(value);
            }
            return new ListNode(line, column, items);
        }
        YamlNode.Scalar scalar = (YamlNode.Scalar) node;
        JsonToken token = switch (scalar.kind()) {
            case STRING -> JsonToken.VALUE_STRING;
            case INTEGER -> JsonToken.VALUE_NUMBER_INT;
            case DECIMAL -> JsonToken.VALUE_NUMBER_FLOAT;
            case BOOLEAN -> Boolean.parseBoolean(scalar.text()) ? JsonToken.VALUE_TRUE : JsonToken.VALUE_FALSE;
            case NULL -> JsonToken.VALUE_NULL;
            case INVALID -> null; // an alias, already reported
        };
        return token == null ? null : new Scalar(line, column, token, scalar.text());
    }
}
