package dev.portcullis.server.cli;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.explain.CaseContext;
import dev.portcullis.core.explain.PolicyCase;
import dev.portcullis.core.explain.PolicyCases;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code portcullis test -c FILE CASES.yaml}: run policy test cases offline (SPEC 3.10), one line per case and a
 * summary; exit 0 when all pass, 1 when any fails or a file has problems.
 */
@Command(
        name = "test",
        mixinStandardHelpOptions = true,
        description = {
            "Run policy test cases offline (SPEC 3.10): one line per case, then 'N passed, M failed'. Exit 0 when "
                    + "every case passes, 1 when any fails or a file has problems.",
            "Each case simulates a request (method, path, ip = the client IP the rules see, default 127.0.0.1, "
                    + "host, headers, country, asn, at) and an identity (subject, roles, jwt_claims: a JWT "
                    + "identity with jwt_claims, else a forwarded one; anonymous when none is given). The request "
                    + "is screened as the server screens it: ip is also taken as the TCP peer, so forwarding and "
                    + "forwarded-identity headers stay only when it is a trusted proxy; override and hop-by-hop "
                    + "headers are removed; an invalid Host or a repeated header a rule reads gets 400. Tokens are "
                    + "not verified and rate limits are not simulated: status 200 means the policy allows, and a "
                    + "case expecting 429, or a rule the config does not have, is a problem of the file."
        })
final class TestCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CASES.yaml", description = "The test cases file")
    Path casesFile;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        // test needs no keys and no GeoIP database (a case gives identity, country and asn), so their files may be
        // missing here, as on a CI runner
        CompiledConfig compiled = ConfigFiles.loadWithoutNamedFiles(config.resolve(), err);
        if (compiled == null) {
            return 1;
        }
        PolicyCases.Loaded loaded = read(compiled, err);
        if (loaded == null) {
            return 1;
        }
        CaseContext context = CaseContext.of(compiled);
        int passed = 0;
        int failed = 0;
        for (PolicyCase c : loaded.cases()) {
            PolicyCase.Outcome outcome = c.run(context);
            if (c.passes(outcome)) {
                passed++;
                out.println("PASS  " + c.name() + ": " + outcome.status() + ", " + rule(outcome));
            } else {
                failed++;
                out.println("FAIL  " + c.name() + " (" + casesFile + ":" + c.line() + "): expected " + c.expectStatus()
                        + (c.expectRule() == null ? "" : ", rule " + c.expectRule()) + "; got " + outcome.status()
                        + ", " + rule(outcome) + " (" + outcome.reason() + ")");
            }
        }
        out.println(passed + " passed, " + failed + " failed");
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private static String rule(PolicyCase.Outcome outcome) {
        if (outcome.rule() != null) {
            return "rule " + outcome.rule();
        }
        return outcome.beforeRules() ? "no rule (rejected before the rules)" : "no rule (default)";
    }

    private PolicyCases.@Nullable Loaded read(CompiledConfig compiled, PrintWriter err) {
        String text;
        try {
            text = ConfigText.read(casesFile); // refused alike a config: too large, or not UTF-8 (located)
        } catch (ConfigException e) {
            ConfigFiles.print(e.problems(), casesFile, err);
            err.flush();
            return null;
        } catch (IOException e) {
            err.println(ConfigText.unreadable(casesFile, e));
            err.flush();
            return null;
        }
        PolicyCases.Loaded loaded = PolicyCases.read(casesFile.toString(), text, compiled);
        if (loaded.problems().isEmpty()) {
            return loaded;
        }
        ConfigFiles.print(loaded.problems(), casesFile, err);
        err.flush();
        return null;
    }
}
