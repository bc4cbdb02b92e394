package dev.portcullis.core.policy;

/** Whether a rule's decision is enforced or only recorded (audit, a dry run). */
public enum Mode {
    ENFORCE("enforce"),
    AUDIT("audit");

    private final String label;

    Mode(String label) {
        this.label = label;
    }

    /** The lower-case name used in the config: "enforce" or "audit". */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
