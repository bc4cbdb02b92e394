package dev.portcullis.core.identity;

import java.util.concurrent.atomic.LongAdder;

/**
 * What the bearer-token verifier counted: shared by the resolvers of successive configuration generations,
 * so that the counts operators watch continue across reloads.
 */
final class JwtCounters {
    final LongAdder verifications = new LongAdder();
    final LongAdder cacheHits = new LongAdder();
    final LongAdder resolved = new LongAdder();
    final LongAdder[] rejected = new LongAdder[RejectReason.values().length];

    JwtCounters() {
        for (int i = 0; i < rejected.length; i++) {
            rejected[i] = new LongAdder();
        }
    }

    /** Counts the outcome of one verification and returns it. */
    Resolution count(Resolution resolution) {
        if (resolution instanceof Resolution.Rejected rejection) {
            rejected[rejection.reason().ordinal()].increment();
        } else if (resolution instanceof Resolution.Resolved) {
            resolved.increment();
        }
        return resolution;
    }
}
