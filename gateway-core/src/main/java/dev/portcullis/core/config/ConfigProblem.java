package dev.portcullis.core.config;

import java.util.Comparator;

/**
 * One problem found in a config file, located by 1-based line and column and by the key path of the offending value.
 *
 * @param file the file name as shown to the operator
 * @param line 1-based line of the offending value (of the key, for unknown keys)
 * @param column 1-based column of the offending value (of the key, for unknown keys)
 * @param path the key path such as {@code rules[2].match.ip[0]}; empty for the document itself
 * @param message what is wrong, showing the offending value and what was expected
 */
public record ConfigProblem(String file, int line, int column, String path, String message) {

    /** Problems in the order of the file: by line, then column. */
    public static final Comparator<ConfigProblem> FILE_ORDER =
            Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column);

    /** Renders {@code FILE:LINE:COLUMN: path: message}, with {@code (root)} standing for the empty path. */
    public String render() {
        return file + ':' + line + ':' + column + ": " + shownPath() + ": " + message;
    }

    /** The line that ends a list of problems: {@code 1 problem in FILE} or {@code N problems in FILE}. */
    public static String summary(int count, Object file) {
        return count + (count == 1 ? " problem" : " problems") + " in " + file;
    }

    /** Renders {@code FILE:LINE:COLUMN: path: warning: message}, for a problem that does not stop the load. */
    public String renderAsWarning() {
        return file + ':' + line + ':' + column + ": " + shownPath() + ": warning: " + message;
    }

    /** The path, or {@code (root)}; a key holding a control character cannot break the line or reach a terminal. */
    private String shownPath() {
        return path.isEmpty() ? "(root)" : ConfigValues.escapeControls(path);
    }
}
