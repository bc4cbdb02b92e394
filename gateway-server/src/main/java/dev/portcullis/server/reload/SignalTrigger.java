package dev.portcullis.server.reload;

import dev.portcullis.core.runtime.Reloader;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGHUP into a reload (SPEC 3.8). Installed before the gateway starts, so that a SIGHUP never
 * terminates the process (HotSpot's default): one that arrives while the gateway is still starting is
 * remembered and reloads once it is up, so an edit made during startup is not lost. The handler only
 * enqueues; the reload runs on the reloader's thread.
 */
public final class SignalTrigger {
    private static final Logger LOG = LoggerFactory.getLogger(SignalTrigger.class);
    private @Nullable Reloader reloader;
    private boolean pending;

    private SignalTrigger() {}

    /**
     * Installs the SIGHUP handler; reloads go nowhere until {@link #reloadWith} is called. A process that
     * inherited SIGHUP as ignored (started under {@code nohup}, or by a parent that ignores it) keeps ignoring
     * it: the JVM does not install handlers for an ignored SIGHUP. That is logged as a warning, with the other
     * ways to reload, instead of leaving an operator's {@code kill -HUP} without effect or explanation.
     */
    public static SignalTrigger install() {
        SignalTrigger trigger = new SignalTrigger();
        SignalHandler previous = Signal.handle(new Signal("HUP"), signal -> trigger.hangup());
        if (previous == SignalHandler.SIG_IGN) {
            LOG.warn("SIGHUP is ignored by this process (inherited from its parent, e.g. nohup): kill -HUP will not "
                    + "reload the config; reload with POST /reload on the admin port or watch: true, or start the "
                    + "gateway with SIGHUP at its default (without nohup, or via env --default-signal=HUP)");
        } else {
            LOG.debug("SIGHUP handler installed");
        }
        return trigger;
    }

    /** From now on a SIGHUP reloads through {@code target}; one that arrived while starting reloads now. */
    public void reloadWith(Reloader target) {
        boolean missed;
        synchronized (this) {
            reloader = target;
            missed = pending;
            pending = false;
        }
        if (missed) {
            LOG.info("reloading {} for the SIGHUP received while starting", target.file());
            target.reload("SIGHUP");
        }
    }

    private void hangup() {
        Reloader target;
        synchronized (this) {
            target = reloader;
            if (target == null) {
                pending = true;
            }
        }
        if (target == null) {
            LOG.info("received SIGHUP while starting: the file is read again once the gateway is up");
            return;
        }
        LOG.info("received SIGHUP: reloading {}", target.file());
        target.reload("SIGHUP");
    }
}
