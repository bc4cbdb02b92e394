package dev.portcullis.core.config;

/**
 * The {@code admin} section as written: where the admin API listens (SPEC 6).
 *
 * @param listen the admin {@code host:port}; never the public one
 */
public record AdminConfig(String listen) {

    public static final AdminConfig DEFAULT = new AdminConfig("127.0.0.1:9901");
}
