package dev.portcullis.core.runtime;

import java.time.Instant;
import java.util.List;

/** The result of one reload: a new generation applied, or the config rejected and the old one kept. */
public sealed interface ReloadOutcome permits ReloadOutcome.Applied, ReloadOutcome.Rejected {

    /** When the reload finished. */
    Instant at();

    /** What asked for it: {@code SIGHUP}, {@code admin}, {@code watch}. */
    String trigger();

    /**
     * The new generation is live.
     *
     * @param generation its generation number
     * @param version {@code sha256:} of the file applied
     * @param warnings what the operator should know (e.g. {@code listen} changes that need a restart)
     */
    record Applied(Instant at, String trigger, long generation, String version, List<String> warnings)
            implements ReloadOutcome {
        public Applied {
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * The file was not applied; the old generation keeps serving.
     *
     * @param error a one-line summary
     * @param problems every problem, as {@code FILE:LINE:COLUMN: path: message} where located
     */
    record Rejected(Instant at, String trigger, String error, List<String> problems) implements ReloadOutcome {
        public Rejected {
            problems = List.copyOf(problems);
        }
    }
}
