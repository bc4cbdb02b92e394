package dev.portcullis.core.config;

/** Builds the key paths that problems are reported under, such as {@code rules[2].match.ip[0]}. */
final class KeyPaths {

    private KeyPaths() {}

    /** The path of {@code key} inside the mapping at {@code parent}; the root mapping has the empty path. */
    static String key(String parent, String key) {
        return parent.isEmpty() ? key : parent + '.' + key;
    }

    /** The path of item {@code index} of the sequence at {@code parent}. */
    static String index(String parent, int index) {
        return parent + '[' + index + ']';
    }

    /** The path that contains {@code path}: one key or index less, or the empty path. */
    static String parent(String path) {
        if (path.endsWith("]")) {
            int bracket = path.lastIndexOf('[');
            if (bracket >= 0) {
                return path.substring(0, bracket);
            }
        }
        int dot = path.lastIndexOf('.');
        return dot < 0 ? "" : path.substring(0, dot);
    }
}
