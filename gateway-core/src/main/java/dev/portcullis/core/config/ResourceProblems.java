package dev.portcullis.core.config;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Files and secrets a valid config names that could not be used (a JWKS or PEM file, an HMAC secret, a GeoIP
 * database), reported like the config's own problems: {@code FILE:LINE:COLUMN: path: message}, located at the value
 * of the key that names them. They are found after the config itself loaded without problems, when its resources
 * are opened.
 */
public final class ResourceProblems {

    private ResourceProblems() {}

    /**
     * Each failure as a config problem of {@code displayName}, located in {@code yaml} (the config's bytes) at the
     * value of its key, or at its nearest enclosing value that is there (the start of the file if none is), and
     * named as the config wrote it: {@code identity.jwt.jwks_file} for a single provider written as a mapping,
     * {@code identity.jwt[0].jwks_file} for the first of a list, as the config's own problems name them.
     */
    public static List<ConfigProblem> locate(String displayName, byte[] yaml,
            List<? extends ConfigResourceException> failures) {
        YamlNode root = YamlTreeReader.read(yaml, new Problems(displayName));
        List<ConfigProblem> located = new ArrayList<>(failures.size());
        for (ConfigResourceException failure : failures) {
            Found found = root == null ? new Found(Location.START, failure.keyPath()) : find(root, failure.keyPath());
            located.add(new ConfigProblem(displayName, found.at().line(), found.at().column(), found.path(),
                    failure.getMessage()));
        }
        return located;
    }

    /** Where the value of a key path is, and the path as the config wrote it. */
    private record Found(Location at, String path) {}

    /**
     * The location of the value at {@code path} ({@code identity.jwt[1].public_key_file}), or of its nearest parent,
     * and {@code path} without the {@code [0]} of a single mapping written where a list of them is allowed.
     */
    private static Found find(YamlNode root, String path) {
        YamlNode node = root;
        Location at = null;
        String written = "";
        for (String segment : path.split("\\.")) {
            int bracket = segment.indexOf('[');
            String key = bracket < 0 ? segment : segment.substring(0, bracket);
            YamlNode next = at == null ? value(node, key) : null;
            if (next == null) {
                at = at == null ? node.location() : at;
                written = KeyPaths.key(written, segment);
                continue;
            }
            if (bracket >= 0) {
                int index = index(segment, bracket);
                // a single mapping where a list of them is allowed (identity.jwt: {...}) is item 0, written without it
                boolean single = !(next instanceof YamlNode.Sequence) && index == 0;
                YamlNode item = next instanceof YamlNode.Sequence list
                        ? (index >= 0 && index < list.items().size() ? list.items().get(index) : null)
                        : (single ? next : null);
                written = KeyPaths.key(written, single ? key : segment);
                if (item == null) {
                    at = next.location();
                    continue;
                }
                next = item;
            } else {
                written = KeyPaths.key(written, segment);
            }
            node = next;
        }
        return new Found(at == null ? node.location() : at, written);
    }

    /** The n of a {@code key[n]} segment; -1 (no item) for anything else. */
    private static int index(String segment, int bracket) {
        try {
            return segment.endsWith("]") ? Integer.parseInt(segment.substring(bracket + 1, segment.length() - 1)) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static @Nullable YamlNode value(YamlNode node, String key) {
        if (node instanceof YamlNode.Mapping mapping) {
            for (YamlNode.Entry entry : mapping.entries()) {
                if (entry.key().equals(key)) {
                    return entry.value();
                }
            }
        }
        return null;
    }
}
