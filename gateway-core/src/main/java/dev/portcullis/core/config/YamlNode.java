package dev.portcullis.core.config;

import java.util.List;

/** A YAML value together with the location where it starts, so that every config problem can point at its source. */
public sealed interface YamlNode permits YamlNode.Mapping, YamlNode.Sequence, YamlNode.Scalar {

    /**
     * Where the value starts: the first key of a block mapping, the bracket of a flow collection,
     * the quote of a quoted scalar.
     */
    Location location();

    /** A mapping, its entries in file order and with unique keys. */
    record Mapping(Location location, List<Entry> entries) implements YamlNode {
        public Mapping {
            entries = List.copyOf(entries);
        }
    }

    /** One key of a mapping, located separately from its value so that unknown keys can be pointed at. */
    record Entry(String key, Location keyLocation, YamlNode value) {}

    /** A sequence. */
    record Sequence(Location location, List<YamlNode> items) implements YamlNode {
        public Sequence {
            items = List.copyOf(items);
        }
    }

    /** A scalar as written, with the type YAML resolved it to. */
    record Scalar(Location location, Kind kind, String text) implements YamlNode {}

    /** The YAML 1.2 core-schema type of a scalar. */
    public enum Kind {
        /** Quoted, or plain and not one of the other kinds. */
        STRING,
        INTEGER,
        DECIMAL,
        BOOLEAN,
        /** {@code null}, {@code ~} or nothing at all after the key. */
        NULL,
        /** A value already reported as a problem (an alias); readers skip it without reporting again. */
        INVALID
    }
}
