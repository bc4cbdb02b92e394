package dev.portcullis.server.cli;

import dev.portcullis.server.reload.SignalTrigger;
import io.netty.util.ResourceLeakDetector;
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
        if (runs(args)) {
            SignalTrigger.install(); // first: from here on a SIGHUP is a reload, never the JVM's exit
        }
        defaultLeakDetection();
        System.exit(execute(args));
    }

    /**
     * Turns off Netty's buffer-leak sampling unless {@code -Dio.netty.leakDetection.level} asks for a level. At
     * Netty's default (simple: one buffer in 128 wrapped and tracked with a stack trace) it cost the gateway about
     * 1 % of its CPU in the profile and 0-18 % of its requests per second with 100 B responses (bench/README.md),
     * partly because the wrapped buffers make the JIT's buffer call sites polymorphic. A leak then goes unreported
     * instead of logged; the tests run with paranoid detection and fail on any leak, and
     * {@code -Dio.netty.leakDetection.level=simple} brings the sampling back for a deployment that wants it.
     */
    static void defaultLeakDetection() {
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }

    /** Whether the command line is {@code run ...} (its first word that is not an option). */
    static boolean runs(String[] args) {
        for (String arg : args) {
            if (!arg.startsWith("-")) {
                return arg.equals("run");
            }
        }
        return false;
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        return new CommandLine(new PortcullisCommand()).execute(args);
    }
}
