package dev.portcullis.server.it.support;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** One header line as it appeared on the wire (name and value, ISO-8859-1, value trimmed). */
public record Header(String name, String value) {

    @Override
    public String toString() {
        return name + ": " + value;
    }

    /** The first value of {@code name} (case-insensitive) in {@code headers}. */
    public static Optional<String> first(List<Header> headers, String name) {
        return headers.stream()
                .filter(h -> h.name().equalsIgnoreCase(name))
                .map(Header::value)
                .findFirst();
    }

    /** Every value of {@code name} (case-insensitive) in {@code headers}, in order. */
    public static List<String> all(List<Header> headers, String name) {
        return headers.stream()
                .filter(h -> h.name().equalsIgnoreCase(name))
                .map(Header::value)
                .toList();
    }

    /** The lower-cased header names in {@code headers}. */
    public static List<String> names(List<Header> headers) {
        return headers.stream().map(h -> h.name().toLowerCase(Locale.ROOT)).toList();
    }
}
