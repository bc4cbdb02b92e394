package dev.portcullis.server.cli;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.config.ConfigProblem;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** Loads a config file for a command, printing problems (never a stack trace) on failure. */
final class ConfigFiles {
    private ConfigFiles() {}

    /** The compiled config, or null after printing every problem to {@code err}. */
    static @Nullable CompiledConfig load(Path file, PrintWriter err) {
        try {
            return ConfigLoader.load(file);
        } catch (ConfigException e) {
            for (ConfigProblem problem : e.problems()) {
                err.println(problem.render());
            }
            err.println(e.problems().size() + (e.problems().size() == 1 ? " problem" : " problems") + " in " + file);
        } catch (NoSuchFileException e) {
            err.println(file + ": no such file");
        } catch (IOException e) {
            err.println(file + ": cannot read: " + e.getMessage());
        }
        err.flush();
        return null;
    }
}
