package dev.portcullis.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code portcullis} command line (SPEC 2): {@code run}, {@code check}, {@code explain}, {@code test}, {@code demo}, {@code --version}, {@code --help}. */
@Command(
        name = "portcullis",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A reverse-proxy gateway that enforces access policies in front of an HTTP service.",
        subcommands = {RunCommand.class, CheckCommand.class, ExplainCommand.class, TestCommand.class, DemoCommand.class,
            CommandLine.HelpCommand.class})
public final class PortcullisCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        return new CommandLine(new PortcullisCommand()).execute(args);
    }
}
