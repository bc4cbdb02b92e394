package dev.portcullis.core.config;

import dev.portcullis.core.identity.KeySource;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Checks and compiles the key source of one {@code identity.jwt} provider: exactly one of {@code jwks_file},
 * {@code jwks_url}, {@code public_key_file} and {@code secret_env}, and key files that exist and are readable now
 * (unless loaded with {@link ConfigLoader.NamedFiles#UNCHECKED}).
 */
final class KeySourceCompiler {

    /*
     * Implementation notes: key files are only checked to exist and be readable: their contents
     * are loaded by the identity package when the resolver is built, on the reload executor, so
     * that a bad key fails the (re)load there with the identity package's message.
     */

    private static final List<String> KEY_SOURCES = List.of("jwks_file", "jwks_url", "public_key_file", "secret_env");

    private final Path baseDir;
    private final ConfigLoader.NamedFiles keyFiles;
    private final Problems problems;

    /**
     * @param baseDir the folder that relative key file paths resolve against
     * @param keyFiles whether key files must exist and be readable now
     */
    KeySourceCompiler(Path baseDir, ConfigLoader.NamedFiles keyFiles, Problems problems) {
        this.baseDir = baseDir;
        this.keyFiles = keyFiles;
        this.problems = problems;
    }

    /**
     * The key source a provider wrote.
     *
     * @param key the key of the one source written ({@code jwks_url}, ...); null when none or several were
     *     (reported)
     * @param source that source compiled; null when {@code key} is, or the source is unusable (reported)
     */
    record Written(@Nullable String key, @Nullable KeySource source) {}

    /** Checks the key sources {@code provider} wrote, each one even when there are too many of them. */
    Written compile(JwtProviderConfig provider) {
        String path = provider.path();
        List<String> written = new ArrayList<>(2);
        String[] texts = {provider.jwksFile(), provider.jwksUrl(), provider.publicKeyFile(), provider.secretEnv()};
        for (int i = 0; i < texts.length; i++) {
            if (texts[i] != null) {
                written.add(KEY_SOURCES.get(i));
            }
        }
        if (written.size() != 1) {
            problems.add(path, "jwt provider needs exactly one key source (" + String.join(", ", KEY_SOURCES)
                    + "), found " + (written.isEmpty() ? "none" : written.size() + ": " + String.join(", ", written)));
        }
        KeySource keySource = null;
        for (int i = 0; i < texts.length; i++) {
            String text = texts[i];
            if (text != null) {
                KeySource source = keySource(KEY_SOURCES.get(i), text, KeyPaths.key(path, KEY_SOURCES.get(i)));
                if (written.size() == 1) {
                    keySource = source;
                }
            }
        }
        return new Written(written.size() == 1 ? written.get(0) : null, keySource);
    }

    /** The key source written under {@code key}; null if it is unusable (reported). */
    private @Nullable KeySource keySource(String key, String text, String path) {
        return switch (key) {
            case "jwks_file" -> file(text, path, "a JWK set file", KeySource.JwksFile::new);
            case "public_key_file" ->
                    file(text, path, "a PEM public key or certificate file", KeySource.PublicKeyFile::new);
            case "jwks_url" -> problems.parse(path, () -> {
                URI uri;
                try {
                    uri = new URI(text);
                } catch (URISyntaxException e) {
                    throw new IllegalArgumentException(ConfigValues.quote(text) + " is not a valid jwks_url (expected:"
                            + " an absolute http or https URL, e.g. https://auth.example.com/.well-known/jwks.json)");
                }
                KeySource.JwksUrl source = new KeySource.JwksUrl(uri);
                if ("http".equalsIgnoreCase(uri.getScheme()) && !isLoopback(uri.getHost())) {
                    problems.warn(path, ConfigValues.quote(text) + " is fetched over plain http: whoever can change"
                            + " the answer on the way can add signing keys (expected: an https URL, or a loopback"
                            + " address for a local key server)");
                }
                return source;
            });
            default -> problems.parse(path, () -> new KeySource.SecretEnv(text));
        };
    }

    /** A host name or literal that can only be this machine: {@code localhost}, 127.0.0.0/8, {@code ::1}. */
    private static boolean isLoopback(@Nullable String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.endsWith(".localhost") || h.equals("[::1]") || h.equals("::1")
                || h.startsWith("127.") && h.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    }

    /**
     * A key file source, resolved against the config file's folder; it must exist and be readable now, so that a
     * typo is reported with its location instead of failing later when the keys are loaded.
     */
    private @Nullable KeySource file(String text, String path, String expected, Function<Path, KeySource> source) {
        String expectation = " (expected: " + expected + "; relative paths resolve against the config file's folder)";
        Path file;
        try {
            file = text.isEmpty() ? null : baseDir.resolve(text).normalize();
        } catch (InvalidPathException e) {
            file = null;
        }
        if (file == null) {
            problems.add(path, ConfigValues.quote(text) + " is not a valid file path" + expectation);
            return null;
        }
        if (keyFiles == ConfigLoader.NamedFiles.UNCHECKED) {
            return source.apply(file);
        }
        String problem = !Files.exists(file) ? " does not exist"
                : Files.isDirectory(file) ? " is a folder"
                : !Files.isReadable(file) ? " is not readable"
                : null;
        if (problem != null) {
            problems.add(path, ConfigValues.quote(text) + problem + expectation);
            return null;
        }
        return source.apply(file);
    }
}
