package dev.portcullis.server.cli;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.config.ConfigResourceException;
import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.ResourceFailures;
import dev.portcullis.server.GatewayServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads a config file for a command, printing problems (never a stack trace) on failure. */
final class ConfigFiles {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFiles.class);

    private ConfigFiles() {}

    /** Prints each warning of a loaded config as {@code FILE:LINE:COLUMN: path: warning: message}. */
    static void printWarnings(CompiledConfig config, PrintWriter err) {
        for (ConfigProblem warning : config.warnings()) {
            err.println(warning.renderAsWarning());
        }
        err.flush();
    }

    /** Logs each warning of a loaded config at WARN, rendered as {@link #printWarnings} prints it. */
    static void logWarnings(CompiledConfig config) {
        for (ConfigProblem warning : config.warnings()) {
            LOG.warn("{}", warning.renderAsWarning());
        }
    }

    /**
     * Loads the config, its key material (JWKS files, PEM keys, secrets) and GeoIP databases, as {@code run} would
     * but without network access: no {@code jwks_url} is fetched. Null after printing every problem to {@code err}.
     */
    static @Nullable CompiledConfig loadWithKeys(Path file, PrintWriter err) {
        CompiledConfig config = load(file, err);
        if (config == null || (config.identity().jwtProviders().isEmpty() && !config.geoip().isConfigured())) {
            return config;
        }
        ScheduledExecutorService background = GatewayServer.newBackgroundExecutor();
        try (GatewaySnapshot snapshot = GatewaySnapshot.offline(config, Clock.systemUTC(), background)) {
            return snapshot.config();
        } catch (ConfigResourceException e) {
            printProblems(file, config, e, background, err);
            return null;
        } finally {
            background.shutdownNow();
        }
    }

    /**
     * Prints the files and secrets {@code config} names that cannot be used, after building it threw {@code first}:
     * every one of them, located at its key, as {@code check} prints problems.
     */
    static void printProblems(Path file, CompiledConfig config, ConfigResourceException first,
            ScheduledExecutorService background, PrintWriter err) {
        print(ResourceFailures.problems(file, config, first, Clock.systemUTC(), background), file, err);
        err.flush();
    }

    /** Prints each of {@code problems} as {@code FILE:LINE:COLUMN: path: message}, then their count. */
    static void print(List<ConfigProblem> problems, Path file, PrintWriter err) {
        for (ConfigProblem problem : problems) {
            err.println(problem.render());
        }
        err.println(ConfigProblem.summary(problems.size(), file));
    }

    /** The compiled config, or null after printing every problem to {@code err}. */
    static @Nullable CompiledConfig load(Path file, PrintWriter err) {
        return load(file, ConfigLoader.NamedFiles.CHECKED, err);
    }

    /**
     * The compiled config without checking that the key files and GeoIP databases it names exist, for a command
     * that uses neither ({@code test}); null after printing every other problem to {@code err}.
     */
    static @Nullable CompiledConfig loadWithoutNamedFiles(Path file, PrintWriter err) {
        return load(file, ConfigLoader.NamedFiles.UNCHECKED, err);
    }

    private static @Nullable CompiledConfig load(Path file, ConfigLoader.NamedFiles namedFiles, PrintWriter err) {
        try {
            return ConfigLoader.load(file, namedFiles);
        } catch (ConfigException e) {
            print(e.problems(), file, err);
        } catch (IOException e) {
            err.println(ConfigText.unreadable(file, e));
        }
        err.flush();
        return null;
    }
}
