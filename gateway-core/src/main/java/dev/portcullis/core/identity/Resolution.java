package dev.portcullis.core.identity;

/** The outcome of resolving a request's identity: resolved, nothing presented, or a presented credential rejected. */
public sealed interface Resolution permits Resolution.Resolved, Resolution.NotPresented, Resolution.Rejected {

    /** The shared {@link NotPresented} instance. */
    static Resolution notPresented() {
        return NotPresented.INSTANCE;
    }

    /** A verified identity. */
    record Resolved(Identity identity) implements Resolution {}

    /** No credential of this kind was presented; the next resolver, if any, may try. */
    record NotPresented() implements Resolution {
        static final NotPresented INSTANCE = new NotPresented();
    }

    /** A credential was presented and failed verification: the request is anonymous, a 401 says invalid_token. */
    record Rejected(RejectReason reason) implements Resolution {
        private static final Rejected[] SHARED = shared();

        /** The shared instance for {@code reason}; rejecting allocates nothing. */
        public static Rejected of(RejectReason reason) {
            return SHARED[reason.ordinal()];
        }

        private static Rejected[] shared() {
            RejectReason[] reasons = RejectReason.values();
            Rejected[] all = new Rejected[reasons.length];
            for (RejectReason reason : reasons) {
                all[reason.ordinal()] = new Rejected(reason);
            }
            return all;
        }
    }
}
