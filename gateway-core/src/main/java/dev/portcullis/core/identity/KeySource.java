package dev.portcullis.core.identity;

import java.net.URI;
import java.nio.file.Path;

/** Where a JWT provider's verification keys come from: exactly one per provider. */
public sealed interface KeySource
        permits KeySource.JwksFile, KeySource.JwksUrl, KeySource.PublicKeyFile, KeySource.SecretEnv {

    /** The config key that names this source ({@code jwks_file}, {@code jwks_url}, ...), for messages. */
    String configKey();

    /** A JWK set read from a file when the resolver is built (and so on every reload). */
    record JwksFile(Path path) implements KeySource {
        @Override
        public String configKey() {
            return "jwks_file";
        }
    }

    /** A JWK set fetched in the background: at startup, every {@code jwks_refresh}, and on an unknown {@code kid}. */
    record JwksUrl(URI uri) implements KeySource {
        /** Accepts absolute {@code http} and {@code https} URIs with a host. */
        public JwksUrl {
            String scheme = uri.getScheme();
            if (!("https".equalsIgnoreCase(scheme) || "http".equalsIgnoreCase(scheme)) || uri.getHost() == null) {
                throw new IllegalArgumentException("\"" + uri + "\" is not a valid jwks_url (expected: an absolute"
                        + " http or https URL, e.g. https://auth.example.com/.well-known/jwks.json)");
            }
        }

        @Override
        public String configKey() {
            return "jwks_url";
        }
    }

    /** One PEM public key (RSA, EC P-256/P-384/P-521 or Ed25519), or a certificate holding one. */
    record PublicKeyFile(Path path) implements KeySource {
        @Override
        public String configKey() {
            return "public_key_file";
        }
    }

    /** An HMAC secret: the UTF-8 bytes of this environment variable's value, read when the resolver is built. */
    record SecretEnv(String name) implements KeySource {
        /** Rejects an empty variable name. */
        public SecretEnv {
            if (name.isEmpty() || name.indexOf('=') >= 0) {
                throw new IllegalArgumentException("\"" + name + "\" is not a valid secret_env"
                        + " (expected: the name of an environment variable, e.g. JWT_HMAC_SECRET)");
            }
        }

        @Override
        public String configKey() {
            return "secret_env";
        }
    }
}
