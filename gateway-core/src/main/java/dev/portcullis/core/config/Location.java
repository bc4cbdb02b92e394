package dev.portcullis.core.config;

/** A 1-based line and column in a config file. */
public record Location(int line, int column) {

    /** The first character of the file: where problems about the whole document point. */
    static final Location START = new Location(1, 1);
}
