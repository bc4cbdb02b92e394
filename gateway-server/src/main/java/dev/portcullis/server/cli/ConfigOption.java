package dev.portcullis.server.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code -c FILE} option shared by the commands: default {@code $PORTCULLIS_CONFIG}, else {@code config/policy.yaml}. */
final class ConfigOption {
    static final String DEFAULT_FILE = "config/policy.yaml";

    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "Policy file (default: $PORTCULLIS_CONFIG, else " + DEFAULT_FILE + ")")
    Path file;

    Path resolve() {
        if (file != null) {
            return file;
        }
        String fromEnv = System.getenv("PORTCULLIS_CONFIG");
        return Path.of(fromEnv != null && !fromEnv.isBlank() ? fromEnv : DEFAULT_FILE);
    }
}
