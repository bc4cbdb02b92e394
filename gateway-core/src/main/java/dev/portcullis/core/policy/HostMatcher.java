package dev.portcullis.core.policy;

import java.util.List;

/** A condition that holds when the Host (port removed) matches one of a list of patterns ({@code hosts}). */
public final class HostMatcher implements RequestMatcher {

    private final HostPattern[] patterns;

    private HostMatcher(List<HostPattern> patterns) {
        this.patterns = patterns.toArray(HostPattern[]::new);
    }

    /** A matcher for one or more patterns. */
    public static HostMatcher of(List<HostPattern> patterns) {
        if (patterns.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid hosts condition (expected: at least one host)");
        }
        return new HostMatcher(List.copyOf(patterns));
    }

    /** The patterns, in order. */
    public List<HostPattern> patterns() {
        return List.of(patterns);
    }

    @Override
    public boolean matches(AccessRequest request) {
        String host = request.host();
        for (HostPattern pattern : patterns) {
            if (pattern.matches(host)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        for (HostPattern pattern : patterns) {
            if (pattern.matches(request.host())) {
                return "host " + Explain.value(request.host()) + " matches " + pattern;
            }
        }
        return explainFailure(request);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "host " + Explain.value(request.host()) + " matches none of " + Explain.list(patterns());
    }

    @Override
    public String toString() {
        return "hosts " + Explain.list(patterns());
    }
}
