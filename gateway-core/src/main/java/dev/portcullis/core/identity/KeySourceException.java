package dev.portcullis.core.identity;

import dev.portcullis.core.config.ConfigResourceException;

/** The failure to load a provider's key source when a resolver is built: a missing file, bad PEM or JWKS, no secret. */
public final class KeySourceException extends ConfigResourceException {

    private static final long serialVersionUID = 1L;

    private final int providerIndex;
    private final String configKey;

    KeySourceException(int providerIndex, String configKey, String message) {
        super(message);
        this.providerIndex = providerIndex;
        this.configKey = configKey;
    }

    KeySourceException(int providerIndex, String configKey, String message, Throwable cause) {
        super(message, cause);
        this.providerIndex = providerIndex;
        this.configKey = configKey;
    }

    /** The index of the provider in the list the resolver was built from. */
    public int providerIndex() {
        return providerIndex;
    }

    /** The key source's config key ({@code jwks_file}, {@code public_key_file}, {@code secret_env}). */
    public String configKey() {
        return configKey;
    }

    @Override
    public String keyPath() {
        return "identity.jwt[" + providerIndex + "]." + configKey;
    }
}
