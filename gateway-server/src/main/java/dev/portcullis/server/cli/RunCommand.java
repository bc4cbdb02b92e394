package dev.portcullis.server.cli;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigResourceException;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.Reloader;
import dev.portcullis.server.GatewayServer;
import dev.portcullis.server.transport.Transport;
import dev.portcullis.server.reload.SignalTrigger;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sun.misc.Signal;

/**
 * {@code portcullis run -c FILE}: serve until SIGTERM/SIGINT, then stop accepting, let in-flight
 * requests finish for up to {@code drain_timeout}, and exit 0. SIGHUP reloads the file (SPEC 3.8).
 *
 * <p>TERM and INT get handlers of our own (HotSpot's default would exit 143/130 from a shutdown
 * hook); the handler only releases a latch, and the main thread drains.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Serve: decide and proxy requests.")
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ConfigOption config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(
            names = "--transport",
            paramLabel = "auto|nio",
            defaultValue = "auto",
            description = "I/O transport, lower case: auto (epoll on Linux when available, else NIO) or nio; "
                    + "any other value is a usage error (exit 2)")
    String transport;

    @Override
    public Integer call() throws InterruptedException {
        Transport chosen = transport();
        SignalTrigger hangups = SignalTrigger.install(); // already installed by main, unless run from a test
        hangups.logInstalled();
        CompiledConfig compiled = ConfigFiles.load(config.resolve(), spec.commandLine().getErr());
        if (compiled == null) {
            return 1;
        }
        ConfigFiles.logWarnings(compiled);
        GatewayServer server;
        try {
            server = GatewayServer.start(compiled, config.resolve(),
                    chosen);
        } catch (ConfigResourceException e) {
            ScheduledExecutorService background = GatewayServer.newBackgroundExecutor();
            try {
                ConfigFiles.printProblems(config.resolve(), compiled, e, background, spec.commandLine().getErr());
            } finally {
                background.shutdownNow();
            }
            return 1;
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot start: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> {
                if (stop.getCount() == 0) {
                    LOG.info("received SIG{} again: ending the requests in flight now", signal.getName());
                    server.hurry();
                } else {
                    LOG.info("received SIG{}", signal.getName());
                    stop.countDown();
                }
            });
        }
        Reloader reloader = server.reloader();
        if (reloader != null) {
            hangups.reloadWith(reloader);
        }
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "portcullis-shutdown"));
            stop.await();
            GatewaySnapshot live = server.snapshots().current();
            Duration drain = live != null ? live.config().drainTimeout() : compiled.drainTimeout();
            LOG.info("shutting down: draining for up to {}", drain);
            server.drain(drain);
        } finally {
            hangups.forget();
        }
        LOG.info("stopped");
        return 0;
    }

    /**
     * The transport {@code --transport} names, spelled exactly as documented: a value the gateway would not use (a
     * typo, kqueue, an empty value) is refused before anything starts instead of falling back to auto.
     */
    private Transport transport() {
        return switch (transport) {
            case "auto" -> Transport.best(true);
            case "nio" -> Transport.nio();
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "\"" + transport
                    + "\" is not a valid --transport (expected: auto or nio)");
        };
    }
}
