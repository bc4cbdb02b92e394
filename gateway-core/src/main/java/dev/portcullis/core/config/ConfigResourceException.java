package dev.portcullis.core.config;

import java.nio.file.Path;

/**
 * A file or secret that a valid config names could not be loaded when a configuration generation was built
 * (a key source, a GeoIP database): reported in the style of config problems.
 */
public abstract class ConfigResourceException extends Exception {

    private static final long serialVersionUID = 1L;

    protected ConfigResourceException(String message) {
        super(message);
    }

    protected ConfigResourceException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The config key path the problem is about, e.g. {@code identity.jwt[0].jwks_file} or {@code geoip}. */
    public abstract String keyPath();

    /** The problem as {@code FILE: path: message}, for {@code check}, {@code run} and a rejected reload. */
    public final String describe(Path configFile) {
        return configFile + ": " + keyPath() + ": " + getMessage();
    }
}
