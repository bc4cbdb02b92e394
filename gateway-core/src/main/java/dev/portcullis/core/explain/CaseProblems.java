package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.explain.CaseNode.Entry;
import dev.portcullis.core.explain.CaseNode.ListNode;
import dev.portcullis.core.explain.CaseNode.MapNode;
import dev.portcullis.core.explain.CaseNode.Scalar;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The problems found in one cases file, each located by line, column and key path, and the checks of the shape of its
 * {@link CaseNode}s that report them.
 */
final class CaseProblems {

    private final String file;
    private final List<ConfigProblem> problems = new ArrayList<>();

    /** Problems of the file named {@code file}. */
    CaseProblems(String file) {
        this.file = file;
    }

    /** How many problems have been reported so far. */
    int count() {
        return problems.size();
    }

    /** The problems by line and column, those at the same place in the order reported. */
    List<ConfigProblem> sorted() {
        List<ConfigProblem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column));
        return sorted;
    }

    /**
     * The {@code node} at {@code path} as a mapping, reporting it if it is none, and each of its keys not in
     * {@code keys}.
     */
    @Nullable MapNode mapping(CaseNode node, String path, List<String> keys) {
        if (!(node instanceof MapNode map)) {
            invalid(node, path.isEmpty() ? "(root)" : path, "is not a mapping", "a mapping with keys "
                    + String.join(", ", keys));
            return null;
        }
        for (Entry entry : map.entries().values()) {
            if (!keys.contains(entry.key())) {
                problem(entry.line(), entry.column(), path.isEmpty() ? entry.key() : path + "." + entry.key(),
                        "unknown key \"" + entry.key() + "\" (expected one of: " + String.join(", ", keys) + ")");
            }
        }
        return map;
    }

    /** The mapping under {@code key} of {@code parent}, as {@link #mapping}, reporting it if missing. */
    @Nullable MapNode requiredMapping(MapNode parent, String path, String key, List<String> keys,
            String expected) {
        Entry entry = parent.entries().get(key);
        if (entry == null) {
            problem(parent.line(), parent.column(), path + "." + key, "required key is missing (expected: "
                    + expected + ")");
            return null;
        }
        return mapping(entry.value(), path + "." + key, keys);
    }

    /** The string under {@code key} of {@code parent}, as {@link #optionalString}, reporting it if missing. */
    @Nullable String requiredString(MapNode parent, String path, String key, String expected) {
        if (!parent.entries().containsKey(key)) {
            problem(parent.line(), parent.column(), path + "." + key, "required key is missing (expected: "
                    + expected + ")");
            return null;
        }
        return optionalString(parent, path, key, expected);
    }

    /** The non-blank string under {@code key} of {@code parent}, or null when absent or reported as invalid. */
    @Nullable String optionalString(MapNode parent, String path, String key, String expected) {
        Entry entry = parent.entries().get(key);
        if (entry == null) {
            return null;
        }
        if (entry.value() instanceof Scalar s && s.token() != JsonToken.VALUE_NULL && !s.text().isBlank()) {
            return s.text();
        }
        invalid(entry.value(), path + "." + key, "is not a valid " + key, expected);
        return null;
    }

    /** Reports that {@code node} at {@code path}, shown by its text or kind, {@code what}, and what was expected. */
    void invalid(CaseNode node, String path, String what, String expected) {
        String shown = node instanceof Scalar s ? "\"" + s.text() + "\""
                : node instanceof ListNode list ? (list.items().isEmpty() ? "[]" : "a list") : "a mapping";
        problem(node.line(), node.column(), path, shown + " " + what + " (expected: " + expected + ")");
    }

    /** Reports {@code message} about {@code path} at {@code line} and {@code column}. */
    void problem(int line, int column, String path, String message) {
        problems.add(new ConfigProblem(file, line, column, path, message));
    }
}
