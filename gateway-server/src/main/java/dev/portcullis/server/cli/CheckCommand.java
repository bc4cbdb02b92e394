package dev.portcullis.server.cli;

import dev.portcullis.core.config.CompiledConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code portcullis check -c FILE}: load and compile the config with the files it names, offline (a {@code jwks_url}
 * is never fetched); print every warning to stderr and {@code OK: <n> rules} (exit 0), or every problem (exit 1).
 */
@Command(name = "check", mixinStandardHelpOptions = true, description = "Validate a policy file and the files it names"
        + " and exit (0 valid, 1 invalid). Offline: a jwks_url is never fetched.")
final class CheckCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CompiledConfig compiled = ConfigFiles.loadWithKeys(config.resolve(), spec.commandLine().getErr());
        if (compiled == null) {
            return 1;
        }
        ConfigFiles.printWarnings(compiled, spec.commandLine().getErr());
        int rules = compiled.policy().rules().size();
        spec.commandLine().getOut().println("OK: " + rules + " rules"); // SPEC 2, literally: "OK: 1 rules" too
        spec.commandLine().getOut().flush();
        return 0;
    }
}
