package dev.portcullis.core.policy;

import java.util.List;

/** A condition that holds when the canonical path matches one of a list of globs ({@code paths}). */
public final class PathMatcher implements RequestMatcher {

    private final PathGlob[] globs;

    private PathMatcher(List<PathGlob> globs) {
        this.globs = globs.toArray(PathGlob[]::new);
    }

    /** A matcher for one or more globs. */
    public static PathMatcher of(List<PathGlob> globs) {
        if (globs.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid paths condition (expected: at least one glob)");
        }
        return new PathMatcher(List.copyOf(globs));
    }

    /** The globs, in order. */
    public List<PathGlob> globs() {
        return List.of(globs);
    }

    @Override
    public boolean matches(AccessRequest request) {
        String path = request.path();
        for (PathGlob glob : globs) {
            if (glob.matches(path)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        for (PathGlob glob : globs) {
            if (glob.matches(request.path())) {
                return "path " + request.path() + " matches " + glob;
            }
        }
        return explainFailure(request);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "path " + request.path() + " matches none of " + Explain.list(globs());
    }

    @Override
    public String toString() {
        return "paths " + Explain.list(globs());
    }
}
