package dev.portcullis.core.policy;

import java.util.List;

/** A condition that holds when the canonical path matches one of a list of globs ({@code paths}). */
public final class PathMatcher implements RequestMatcher {

    /*
     * Implementation notes: case-insensitive globs match the folded path. A Policy with
     * case_insensitive_paths folds it once per request into AccessRequest.matchPath; a request
     * that did not come through such a policy (matchPath is then path itself) is folded here,
     * which allocates only when the path has something to fold.
     */

    private final PathGlob[] globs;
    private final boolean caseInsensitive;

    private PathMatcher(List<PathGlob> globs) {
        this.globs = globs.toArray(PathGlob[]::new);
        this.caseInsensitive = this.globs[0].caseInsensitive();
    }

    /** A matcher for one or more globs, all case-sensitive or all case-insensitive. */
    public static PathMatcher of(List<PathGlob> globs) {
        if (globs.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid paths condition (expected: at least one glob)");
        }
        boolean caseInsensitive = globs.get(0).caseInsensitive();
        for (PathGlob glob : globs) {
            if (glob.caseInsensitive() != caseInsensitive) {
                throw new IllegalArgumentException(globs + " is not a valid paths condition (expected: globs that are "
                        + "all case-sensitive or all case-insensitive)");
            }
        }
        return new PathMatcher(List.copyOf(globs));
    }

    private String pathOf(AccessRequest request) {
        if (!caseInsensitive) {
            return request.path();
        }
        String matchPath = request.matchPath();
        return matchPath == request.path() ? PathCase.fold(matchPath) : matchPath;
    }

    /** Whether the globs are case-insensitive, matching the folded path. */
    boolean caseInsensitive() {
        return caseInsensitive;
    }

    /** The globs, in order. */
    public List<PathGlob> globs() {
        return List.of(globs);
    }

    @Override
    public boolean matches(AccessRequest request) {
        String path = pathOf(request);
        for (PathGlob glob : globs) {
            if (glob.matches(path)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        String path = pathOf(request);
        for (PathGlob glob : globs) {
            if (glob.matches(path)) {
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
        return (caseInsensitive ? "paths (case-insensitive) " : "paths ") + Explain.list(globs());
    }
}
