package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSAlgorithm;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a provider's key source (SPEC 3: exactly one of {@code jwks_file}, {@code public_key_file},
 * {@code secret_env}, {@code jwks_url}): reads files and secrets now, and sets up background fetching for a URL.
 * Blocking file I/O: called when a resolver is built, off the event loops.
 */
final class KeyProviders {
    private static final Logger LOG = LoggerFactory.getLogger(KeyProviders.class);

    private KeyProviders() {}

    /**
     * The keys of provider {@code index}.
     *
     * @param previous the providers of the generation being replaced, whose last fetched JWKS a
     *     {@code jwks_url} provider starts with; empty on first load
     * @param http the client for {@code jwks_url} providers; null when none is configured or the options are offline
     * @throws KeySourceException when a file, PEM or secret cannot be loaded
     */
    static KeyProvider load(int index, JwtProviderSettings settings, List<JwtProvider> previous,
            JwtResolverOptions options, @Nullable JwksHttp http) throws KeySourceException {
        KeySource source = settings.keySource();
        String key = source.configKey();
        Set<JWSAlgorithm> algorithms = JwtProvider.jws(settings.algorithms());
        Clock clock = options.clock();
        String label = "";
        try {
            if (source instanceof KeySource.JwksFile file) {
                label = key + " \"" + file.path() + "\" ";
                String json = read(index, key, file.path());
                KeyLoader.JwksKeys read = KeyLoader.readJwks(json, algorithms);
                if (!read.skipped().isEmpty()) {
                    LOG.warn("{}{}", label, read.skippedSummary());
                }
                return new KeyProvider.Static(new KeySet(1, read.keys()), clock.instant());
            }
            if (source instanceof KeySource.PublicKeyFile pem) {
                label = key + " \"" + pem.path() + "\" ";
                String text = read(index, key, pem.path());
                return new KeyProvider.Static(new KeySet(1, List.of(KeyLoader.fromPem(text, algorithms))),
                        clock.instant());
            }
            if (source instanceof KeySource.SecretEnv env) {
                label = key + " \"" + env.name() + "\" ";
                String secret = options.environment().apply(env.name());
                if (secret == null || secret.isEmpty()) {
                    throw new KeySourceException(index, key, label
                            + "is not set (expected: an environment variable holding the HMAC secret)");
                }
                VerifyingKey hmac = KeyLoader.fromSecret(secret.getBytes(StandardCharsets.UTF_8),
                        settings.algorithms());
                return new KeyProvider.Static(new KeySet(1, List.of(hmac)), clock.instant());
            }
            KeySource.JwksUrl url = (KeySource.JwksUrl) source;
            if (!options.fetchRemoteKeys()) {
                return KeyProvider.Static.NONE;
            }
            if (http == null) {
                throw new IllegalStateException("no HTTP client for a jwks_url provider");
            }
            return new RemoteJwks(url.uri(), algorithms, http, options, settings.jwksRefresh(),
                    previousDocument(previous, url));
        } catch (KeyLoader.InvalidKeysException e) {
            throw new KeySourceException(index, key, label + e.getMessage());
        }
    }

    private static @Nullable String previousDocument(List<JwtProvider> previous, KeySource.JwksUrl url) {
        for (JwtProvider provider : previous) {
            if (url.equals(provider.settings.keySource())) {
                String document = provider.keys.document();
                if (document != null) {
                    return document;
                }
            }
        }
        return null;
    }

    private static String read(int index, String key, Path path) throws KeySourceException {
        try {
            if (Files.size(path) > JwksHttp.MAX_DOCUMENT_BYTES) {
                throw new KeySourceException(index, key, key + " \"" + path + "\" is larger than "
                        + JwksHttp.MAX_DOCUMENT_BYTES + " bytes (expected: a key file)");
            }
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            // Files.readString's own message is "Input length = 1"
            String expected = key.equals("jwks_file") ? "a JWK set, JSON in UTF-8"
                    : "a PEM public key or certificate: text, not DER";
            throw new KeySourceException(index, key, key + " \"" + path + "\" is not UTF-8 text (expected: " + expected
                    + ")", e);
        } catch (NoSuchFileException e) {
            throw new KeySourceException(index, key, key + " \"" + path + "\" does not exist (expected: a key file)",
                    e);
        } catch (AccessDeniedException e) {
            throw new KeySourceException(index, key, key + " \"" + path + "\" is not readable (permission denied)",
                    e);
        } catch (IOException e) {
            throw new KeySourceException(index, key, key + " \"" + path + "\" cannot be read ("
                    + (Files.isDirectory(path) ? "it is a directory" : e.getMessage()) + ")", e);
        }
    }
}
