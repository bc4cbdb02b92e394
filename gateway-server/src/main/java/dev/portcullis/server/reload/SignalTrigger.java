package dev.portcullis.server.reload;

import dev.portcullis.core.runtime.Reloader;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGHUP into a reload (SPEC 3.8). Installed as the first thing {@code portcullis run} does, before the
 * command line is parsed or logging starts, so that a SIGHUP never terminates the process (HotSpot's default) once
 * the program runs: one that arrives while the gateway is still starting is remembered and reloads once it is up, so
 * an edit made during startup is not lost. The handler only enqueues; the reload runs on the reloader's thread.
 */
public final class SignalTrigger {
    private static @Nullable SignalTrigger installed;
    private @Nullable Reloader reloader;
    private boolean pending;
    private boolean ignored;

    private SignalTrigger() {}

    /** Holds the logger, so that installing, which must not wait for logging to start, does not create it. */
    private static final class Log {
        private static final Logger LOG = LoggerFactory.getLogger(SignalTrigger.class);
    }

    /**
     * Installs the SIGHUP handler, once per process (a later call returns the same trigger, keeping a SIGHUP that is
     * still pending); reloads go nowhere until {@link #reloadWith} is called. A process that
     * inherited SIGHUP as ignored (started under {@code nohup}, or by a parent that ignores it) keeps ignoring
     * it: the JVM does not install handlers for an ignored SIGHUP. That is logged as a warning, with the other
     * ways to reload, instead of leaving an operator's {@code kill -HUP} without effect or explanation.
     */
    public static synchronized SignalTrigger install() {
        SignalTrigger trigger = installed;
        if (trigger == null) {
            SignalTrigger fresh = new SignalTrigger();
            fresh.ignored = Signal.handle(new Signal("HUP"), signal -> fresh.hangup()) == SignalHandler.SIG_IGN;
            trigger = fresh;
            installed = trigger;
        }
        return trigger;
    }

    /** Logs how SIGHUP is handled; once logging has started. */
    public void logInstalled() {
        if (ignored) {
            Log.LOG.warn("SIGHUP is ignored by this process (inherited from its parent, e.g. nohup): kill -HUP will "
                    + "not "
                    + "reload the config; reload with POST /reload on the admin port or watch: true, or start the "
                    + "gateway with SIGHUP at its default (without nohup, or via env --default-signal=HUP)");
        } else {
            Log.LOG.debug("SIGHUP handler installed");
        }
    }

    /** The gateway stopped: SIGHUPs go nowhere (and its reloader can be collected). */
    public synchronized void forget() {
        reloader = null;
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
            Log.LOG.info("reloading {} for the SIGHUP received while starting", target.file());
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
            Log.LOG.info("received SIGHUP while starting: the file is read again once the gateway is up");
            return;
        }
        Log.LOG.info("received SIGHUP: reloading {}", target.file());
        target.reload("SIGHUP");
    }
}
