package dev.portcullis.server.reload;

import dev.portcullis.core.runtime.Reloader;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Turns SIGHUP into a reload (SPEC 3.8). Installed before the gateway starts, so that a SIGHUP never
 * terminates the process (HotSpot's default): one that arrives while the gateway is still starting is
 * logged and ignored. The handler only enqueues; the reload runs on the reloader's thread.
 */
public final class SignalTrigger {
    private static final Logger LOG = LoggerFactory.getLogger(SignalTrigger.class);
    private volatile @Nullable Reloader reloader;

    private SignalTrigger() {}

    /** Installs the SIGHUP handler; reloads go nowhere until {@link #reloadWith} is called. */
    public static SignalTrigger install() {
        SignalTrigger trigger = new SignalTrigger();
        Signal.handle(new Signal("HUP"), signal -> trigger.hangup());
        LOG.debug("SIGHUP handler installed");
        return trigger;
    }

    /** From now on a SIGHUP reloads through {@code target}. */
    public void reloadWith(Reloader target) {
        this.reloader = target;
    }

    private void hangup() {
        Reloader target = reloader;
        if (target == null) {
            LOG.warn("received SIGHUP while starting: ignored (the config being started is the file as it was read)");
            return;
        }
        LOG.info("received SIGHUP: reloading {}", target.file());
        target.reload("SIGHUP");
    }
}
