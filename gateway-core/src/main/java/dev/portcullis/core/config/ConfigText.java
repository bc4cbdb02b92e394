package dev.portcullis.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a YAML file an operator wrote (a config, a policy test cases file), refusing one larger than
 * {@link #MAX_BYTES} after reading at most one byte more, so that a huge or endless file ({@code /dev/zero})
 * is refused at once instead of filling the heap.
 */
public final class ConfigText {

    /** The largest file read: 16 MiB, far above any real policy (a 4,000-rule policy is well under 1 MiB). */
    public static final int MAX_BYTES = 16 * 1024 * 1024;

    private ConfigText() {}

    /**
     * The bytes of {@code file}; problems name it as {@code file.toString()}.
     *
     * @throws ConfigException if the file is larger than {@link #MAX_BYTES}
     * @throws IOException if the file cannot be read
     */
    public static byte[] readBytes(Path file) throws ConfigException, IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            Problems problems = new Problems(file.toString());
            String size = MAX_BYTES / (1024 * 1024) + " MiB";
            problems.add(Location.START, "", "file is larger than " + size + " (expected: a file of at most " + size
                    + ")");
            throw problems.toException();
        }
        return bytes;
    }
}
