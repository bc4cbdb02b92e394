package dev.portcullis.core.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** The scalar formats of a config (durations and sizes) and the quoting of values in problem messages. */
final class ConfigValues {

    static final String DURATION_EXPECTED = "a number with unit ms, s, m or h, e.g. 250ms, 10s, 5m, 1h";
    static final String SIZE_EXPECTED =
            "a whole number of bytes, optionally with unit B, KiB, MiB or GiB, e.g. 512, 16KiB, 10MiB";

    /** Values longer than this are shortened in messages, so that one problem stays one readable line. */
    private static final int QUOTE_LIMIT = 100;
    private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(Long.MAX_VALUE);
    /** 2^53: below it every integer is exactly a double, and the identity package renders such doubles as integers. */
    private static final BigDecimal MAX_EXACT_DOUBLE = BigDecimal.valueOf(1L << 53);

    private ConfigValues() {}

    /**
     * Parses a duration such as {@code 250ms}, {@code 10s}, {@code 1.5m} or {@code 1h}.
     *
     * @throws IllegalArgumentException with a message showing the value and what was expected
     */
    static Duration parseDuration(String text) {
        int unitStart = text.length();
        while (unitStart > 0 && isAsciiLetter(text.charAt(unitStart - 1))) {
            unitStart--;
        }
        String number = text.substring(0, unitStart);
        long unitNanos = switch (text.substring(unitStart)) {
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            default -> 0L;
        };
        if (unitNanos == 0L || !isDecimal(number)) {
            throw new IllegalArgumentException(
                    quote(text) + " is not a valid duration (expected: " + DURATION_EXPECTED + ")");
        }
        BigDecimal nanos = new BigDecimal(number)
                .multiply(BigDecimal.valueOf(unitNanos))
                .setScale(0, RoundingMode.DOWN);
        if (nanos.compareTo(MAX_NANOS) > 0) {
            throw new IllegalArgumentException(quote(text) + " is too long (expected: at most 2562047h)");
        }
        return Duration.ofNanos(nanos.longValueExact());
    }

    /**
     * Parses a size in bytes such as {@code 512}, {@code 512B}, {@code 16KiB}, {@code 10MiB} or {@code 1GiB}.
     *
     * @throws IllegalArgumentException with a message showing the value and what was expected
     */
    static long parseSize(String text) {
        long unit = 1;
        String number = text;
        if (text.endsWith("KiB")) {
            unit = 1L << 10;
        } else if (text.endsWith("MiB")) {
            unit = 1L << 20;
        } else if (text.endsWith("GiB")) {
            unit = 1L << 30;
        }
        if (unit > 1) {
            number = text.substring(0, text.length() - 3);
        } else if (text.endsWith("B")) {
            number = text.substring(0, text.length() - 1);
        }
        if (number.isEmpty() || !isDigits(number, 0, number.length())) {
            throw new IllegalArgumentException(
                    quote(text) + " is not a valid size (expected: " + SIZE_EXPECTED + ")");
        }
        try {
            return Math.multiplyExact(Long.parseLong(number), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(quote(text) + " is too large (expected: less than 8EiB)");
        }
    }

    /**
     * The text a YAML number compares by as a claim value, the way the identity package renders a JSON number:
     * integers in plain decimal ({@code 007} and {@code 7.0} are {@code 7}), other numbers as Java renders a double
     * ({@code 1.50} is {@code 1.5}). A number Java cannot read (YAML's {@code 0x1F}, {@code .inf}) stays as written.
     */
    static String claimNumber(String text) {
        BigDecimal number;
        try {
            number = new BigDecimal(text);
        } catch (NumberFormatException e) {
            return text;
        }
        if (number.signum() == 0) {
            return "0";
        }
        BigDecimal stripped = number.stripTrailingZeros();
        boolean integral = stripped.scale() <= 0;
        if (integral && (isInteger(text) || stripped.abs().compareTo(MAX_EXACT_DOUBLE) < 0)) {
            return stripped.toBigIntegerExact().toString();
        }
        return Double.toString(number.doubleValue());
    }

    /** Whether {@code text} is a plain decimal integer, optionally negative: no radix prefix, no underscores. */
    static boolean isInteger(String text) {
        int start = text.startsWith("-") ? 1 : 0;
        return text.length() > start && isDigits(text, start, text.length());
    }

    /** {@code value} in double quotes with quotes, backslashes and control characters escaped, shortened if long. */
    /** A three-digit HTTP status 100..599 written as text, or null. */
    static @Nullable Integer status(String text) {
        if (text.length() != 3) {
            return null;
        }
        for (int i = 0; i < 3; i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return null;
            }
        }
        int status = Integer.parseInt(text);
        return status >= 100 && status <= 599 ? status : null;
    }

    static String quote(String value) {
        StringBuilder quoted = new StringBuilder(Math.min(value.length(), QUOTE_LIMIT) + 8).append('"');
        int end = Math.min(value.length(), QUOTE_LIMIT);
        appendEscaped(quoted, value, end);
        if (end < value.length()) {
            quoted.append("...");
        }
        return quoted.append('"').toString();
    }

    /**
     * {@code text} with control characters escaped as in {@link #quote} ({@code \n}, {@code \u001b}), not quoted or
     * shortened; {@code text} itself when it has none, as every key a person wrote has.
     */
    static String escapeControls(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                StringBuilder escaped = new StringBuilder(text.length() + 8);
                appendEscaped(escaped, text, text.length());
                return escaped.toString();
            }
        }
        return text;
    }

    /** Appends {@code value}'s first {@code end} characters with quotes, backslashes and control characters escaped. */
    private static void appendEscaped(StringBuilder out, String value, int end) {
        for (int i = 0; i < end; i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }

    /** {@code text} with its lines trimmed and joined by single spaces, so that a problem renders on one line. */
    static String oneLine(@Nullable String text) {
        if (text == null || text.isBlank()) {
            return "unreadable input";
        }
        StringBuilder line = new StringBuilder(text.length());
        int start = 0;
        while (start <= text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String part = text.substring(start, end).strip();
            if (!part.isEmpty()) {
                if (line.length() > 0) {
                    line.append(' ');
                }
                line.append(part);
            }
            start = end + 1;
        }
        return line.toString();
    }

    /** The message of a failed parse or build, on one line, for a problem. */
    static String messageOf(IllegalArgumentException e) {
        String message = e.getMessage();
        return message == null ? "invalid value" : oneLine(message);
    }

    private static boolean isDecimal(String text) {
        int dot = text.indexOf('.');
        if (dot < 0) {
            return !text.isEmpty() && isDigits(text, 0, text.length());
        }
        return dot > 0 && dot < text.length() - 1
                && isDigits(text, 0, dot) && isDigits(text, dot + 1, text.length());
    }

    private static boolean isDigits(String text, int start, int end) {
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
