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
     * value of its key, or at its nearest enclosing value that is there (the start of the file if none is).
     */
    public static List<ConfigProblem> locate(String displayName, byte[] yaml,
            List<? extends ConfigResourceException> failures) {
        YamlNode root = YamlTreeReader.read(yaml, new Problems(displayName));
        List<ConfigProblem> located = new ArrayList<>(failures.size());
        for (ConfigResourceException failure : failures) {
            Location at = root == null ? Location.START : find(root, failure.keyPath());
            located.add(new ConfigProblem(displayName, at.line(), at.column(), failure.keyPath(),
                    failure.getMessage()));
        }
        return located;
    }

    /** The location of the value at {@code path} ({@code identity.jwt[1].public_key_file}), or of its nearest parent. */
    private static Location find(YamlNode root, String path) {
        YamlNode node = root;
        for (String segment : path.split("\\.")) {
            int bracket = segment.indexOf('[');
            String key = bracket < 0 ? segment : segment.substring(0, bracket);
            YamlNode next = value(node, key);
            if (next == null) {
                return node.location();
            }
            if (bracket >= 0) {
                int index = index(segment, bracket);
                // a single mapping where a list of them is allowed (identity.jwt: {...}) is item 0
                YamlNode item = next instanceof YamlNode.Sequence list
                        ? (index >= 0 && index < list.items().size() ? list.items().get(index) : null)
                        : (index == 0 ? next : null);
                if (item == null) {
                    return next.location();
                }
                next = item;
            }
            node = next;
        }
        return node.location();
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
