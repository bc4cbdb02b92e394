package dev.portcullis.server.cli;

import dev.portcullis.server.demo.Demo;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import sun.misc.Signal;

/**
 * {@code portcullis demo}: the bundled demo policy in front of an embedded echo upstream on loopback, with
 * ready-to-paste curl commands; runs until SIGINT/SIGTERM, then drains like {@code run} and exits 0.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Serve a bundled demo policy in front of a built-in echo upstream, on loopback, and print "
                + "curl commands to try it. Needs no files and no network.")
final class DemoCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);
    private static final Duration DRAIN = Duration.ofSeconds(5);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--port", paramLabel = "PORT", defaultValue = "0",
            description = "Gateway port on 127.0.0.1 (default: a free port)")
    int port;

    @CommandLine.Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "0",
            description = "Admin API port on 127.0.0.1 (default: a free port)")
    int adminPort;

    @Override
    public Integer call() throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> {
                LOG.info("received SIG{}", signal.getName());
                stop.countDown();
            });
        }
        Demo demo;
        try {
            demo = Demo.start(port, adminPort);
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot start the demo: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(demo::close, "portcullis-demo-cleanup"));
        spec.commandLine().getOut().print(demo.guide(Instant.now())
                .render(demo.server().adminPort(), demo.upstreamPort(), demo.policy()));
        spec.commandLine().getOut().flush();
        stop.await();
        LOG.info("shutting down: draining for up to {}", DRAIN);
        demo.server().drain(DRAIN);
        demo.close();
        LOG.info("stopped");
        return 0;
    }
}
