package dev.portcullis.core.config;

import java.util.List;

/**
 * Thrown when a config file cannot be loaded; carries every problem found, not just the first.
 *
 * <p>The message is a header line such as {@code 3 problems in policy.yaml:} followed by each
 * {@linkplain ConfigProblem#render() rendered} problem on its own line, ready to print as it is.
 */
public final class ConfigException extends Exception {

    private final List<ConfigProblem> problems;

    /**
     * Creates an exception for the problems found in {@code source}.
     *
     * @throws IllegalArgumentException if {@code problems} is empty
     */
    public ConfigException(String source, List<ConfigProblem> problems) {
        super(render(source, problems));
        this.problems = List.copyOf(problems);
    }

    /** The problems in file order; never empty. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String render(String source, List<ConfigProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        StringBuilder message = new StringBuilder()
                .append(problems.size())
                .append(problems.size() == 1 ? " problem in " : " problems in ")
                .append(source)
                .append(':');
        for (ConfigProblem problem : problems) {
            message.append('\n').append(problem.render());
        }
        return message.toString();
    }
}
