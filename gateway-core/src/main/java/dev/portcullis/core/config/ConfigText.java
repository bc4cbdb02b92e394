package dev.portcullis.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads a YAML file an operator wrote (a config, a policy test cases file) into text, so that both are refused
 * alike: one larger than {@link #MAX_BYTES} after reading at most one byte more (a huge or endless file such as
 * {@code /dev/zero} is refused at once instead of filling the heap), and one that is not UTF-8 at the line and
 * column of its first invalid byte.
 */
public final class ConfigText {

    /**
     * The largest file read: 1 MiB, far above any real policy (a 4,000-rule policy is under half of it, 1,000 CIDRs
     * about 25 KB), and small enough that parsing the largest file accepted fits the default 64 MiB heap (parsing takes
     * some 20 bytes of heap per byte of YAML; a 4 MiB policy ran out of memory). It is also the
     * YAML parser's code point limit ({@link YamlTreeReader}): a UTF-8 file of at most this many bytes has at most
     * this many code points, so the parser's own limit is never the one an operator meets.
     */
    public static final int MAX_BYTES = 1024 * 1024;

    private ConfigText() {}

    /**
     * The bytes of {@code file}; problems name it as {@code file.toString()}.
     *
     * @throws ConfigException if the file is larger than {@link #MAX_BYTES}
     * @throws IOException if the file cannot be read
     */
    public static byte[] readBytes(Path file) throws ConfigException, IOException {
        byte[] bytes = readCapped(file);
        if (bytes.length > MAX_BYTES) {
            Problems problems = new Problems(file.toString());
            String size = MAX_BYTES / (1024 * 1024) + " MiB";
            problems.add(Location.START, "", "file is larger than " + size + " (expected: a file of at most " + size
                    + ")");
            throw problems.toException();
        }
        return bytes;
    }

    /**
     * The bytes of {@code file}, at most {@link #MAX_BYTES} + 1 of them: more than {@link #MAX_BYTES} means the file is
     * too large (a huge or endless file is never read whole).
     *
     * @throws IOException if the file cannot be read
     */
    public static byte[] readCapped(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(MAX_BYTES + 1);
        }
    }

    /**
     * What the operator is told when {@code file} cannot be read: {@code FILE: no such file},
     * {@code FILE: is not readable (permission denied)}, else {@code FILE: cannot be read (reason)}.
     */
    public static String unreadable(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return file + ": no such file";
        }
        if (e instanceof AccessDeniedException) {
            return file + ": is not readable (permission denied)";
        }
        return file + ": cannot be read (" + (Files.isDirectory(file) ? "it is a folder" : e.getMessage()) + ")";
    }

    /**
     * The text of {@code file} as {@link #readBytes} reads it and {@link #decode(String, byte[])} decodes it;
     * problems name it as {@code file.toString()}.
     *
     * @throws ConfigException if the file is larger than {@link #MAX_BYTES} or is not UTF-8
     * @throws IOException if the file cannot be read
     */
    public static String read(Path file) throws ConfigException, IOException {
        return decode(file.toString(), readBytes(file));
    }

    /**
     * The text of UTF-8 {@code bytes}, without a leading byte order mark.
     *
     * @param displayName the file name shown in problems
     * @throws ConfigException locating the first byte that is not UTF-8 by line and column
     */
    public static String decode(String displayName, byte[] bytes) throws ConfigException {
        Problems problems = new Problems(displayName);
        String text = decode(bytes, problems);
        if (text == null) {
            throw problems.toException();
        }
        return text;
    }

    /**
     * The located tree of the YAML document in {@code text}, read exactly as a config is read: one document, anchors,
     * aliases and merge keys refused, a duplicate key reported where it repeats (the first kept), the same syntax
     * messages. For a file other than a config, such as a policy test cases file.
     *
     * @param displayName the file name shown in problems
     * @param empty the problem of a file with nothing in it
     * @param problems where the problems found are added, in file order
     * @return the tree, or null when nothing usable could be read; an alias is left as a
     *     {@link YamlNode.Kind#INVALID} scalar
     */
    public static @Nullable YamlNode tree(String displayName, String text, String empty,
            List<ConfigProblem> problems) {
        Problems found = new Problems(displayName);
        YamlNode root = YamlTreeReader.read(text, empty, found);
        problems.addAll(found.sorted());
        return root;
    }

    /** The text of UTF-8 {@code yaml} without a leading byte order mark; null if it is not UTF-8 (reported). */
    static @Nullable String decode(byte[] yaml, Problems problems) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate(yaml.length);
        CoderResult result = decoder.decode(ByteBuffer.wrap(yaml), out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        out.flip();
        if (result.isError()) {
            problems.add(endOf(out), "", "invalid UTF-8 byte sequence (expected: a UTF-8 encoded file)");
            return null;
        }
        String text = out.toString();
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** The location just after {@code text}: where decoding stopped. */
    private static Location endOf(CharSequence text) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return new Location(line, text.length() - lineStart + 1);
    }
}
