package dev.portcullis.core.policy;

/** What a rule or a policy decides for a request: proxy it, or answer it with a denial. */
public enum Effect {
    ALLOW("allow"),
    DENY("deny");

    private final String label;

    Effect(String label) {
        this.label = label;
    }

    /** The lower-case name used in the config, logs and metrics: "allow" or "deny". */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
