package dev.portcullis.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Collects the problems of one config file, and the warnings (valid but risky settings), and remembers where each
 * key path's value was written.
 */
final class Problems {

    /*
     * Implementation notes: the reader and binder see YAML nodes and report at their locations
     * directly. The validator and compilers work on records, which carry no locations; they
     * report by key path, and the location is the one the binder remembered for that path. A
     * path that was never written (a missing required key) falls back to the nearest enclosing
     * value that was, and finally to the start of the file.
     */

    private final String file;
    private final List<ConfigProblem> problems = new ArrayList<>();
    private final List<ConfigProblem> warnings = new ArrayList<>();
    private final Map<String, Location> locations = new HashMap<>();

    Problems(String file) {
        this.file = file;
    }

    /** Reports a problem at a known location. */
    void add(Location at, String path, String message) {
        problems.add(new ConfigProblem(file, at.line(), at.column(), path, message));
    }

    /** Reports a problem at the location remembered for {@code path}. */
    void add(String path, String message) {
        add(locate(path), path, message);
    }

    /** Reports a warning, which does not stop the load, at the location remembered for {@code path}. */
    void warn(String path, String message) {
        Location at = locate(path);
        warnings.add(new ConfigProblem(file, at.line(), at.column(), path, message));
    }

    /** The warnings reported so far, in file order (stable for equal locations). */
    List<ConfigProblem> warnings() {
        List<ConfigProblem> sorted = new ArrayList<>(warnings);
        sorted.sort(ConfigProblem.FILE_ORDER);
        return List.copyOf(sorted);
    }

    /** Records that the value at {@code path} starts at {@code at}. */
    void remember(String path, Location at) {
        locations.put(path, at);
    }

    /** Where the value at {@code path} was written, or the nearest enclosing value that was. */
    Location locate(String path) {
        String candidate = path;
        while (true) {
            Location at = locations.get(candidate);
            if (at != null) {
                return at;
            }
            if (candidate.isEmpty()) {
                return Location.START;
            }
            candidate = KeyPaths.parent(candidate);
        }
    }

    /**
     * Runs {@code factory} (a parser of a written value), reporting its {@link IllegalArgumentException} at
     * {@code path}; null if it threw.
     */
    <T> @Nullable T parse(String path, Supplier<T> factory) {
        try {
            return factory.get();
        } catch (IllegalArgumentException e) {
            add(path, ConfigValues.messageOf(e));
            return null;
        }
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    /** How many problems were reported so far. */
    int size() {
        return problems.size();
    }

    /** Every problem reported so far, in file order (stable for equal locations). */
    List<ConfigProblem> sorted() {
        List<ConfigProblem> sorted = new ArrayList<>(problems);
        sorted.sort(ConfigProblem.FILE_ORDER);
        return sorted;
    }

    /** An exception carrying every problem reported so far, in file order (stable for equal locations). */
    ConfigException toException() {
        return new ConfigException(file, sorted());
    }
}
