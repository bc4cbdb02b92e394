package dev.portcullis.core.identity;

/** Where an {@link Identity} came from; the decision log shows it as {@link #code()}. */
public enum IdentitySource {
    /** No identity was presented, or a presented one was rejected. */
    ANONYMOUS("anonymous"),
    /** A verified JWT bearer token. */
    JWT("jwt"),
    /** Identity headers set by a trusted authenticating proxy. */
    FORWARDED("forwarded");

    private final String code;

    IdentitySource(String code) {
        this.code = code;
    }

    /** The stable lower-case code for logs and metrics. */
    public String code() {
        return code;
    }
}
