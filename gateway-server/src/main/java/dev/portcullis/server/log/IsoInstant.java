package dev.portcullis.server.log;

import java.time.Instant;

/** Writes an instant as {@link Instant#toString()} does (ISO-8601, UTC) into a caller's char array. */
final class IsoInstant {

    /*
     * Instant.toString() goes through DateTimeFormatter.ISO_INSTANT: a StringBuilder, a LocalDateTime and
     * the formatter's printer chain per call, the largest share of an access line's cost. This writes the
     * same text straight into a reused buffer: yyyy-MM-ddTHH:mm:ss, then the fraction in as many groups of
     * three digits as it needs (none when the nanos are zero), then Z. Years outside 0000..9999 (which
     * toString() prints with a sign or more digits) fall back to toString(). The date comes from the epoch
     * day with the proleptic-Gregorian "civil from days" algorithm (H. Hinnant).
     */

    /** Enough for yyyy-MM-ddTHH:mm:ss.nnnnnnnnnZ. */
    static final int MAX_LENGTH = 30;

    private IsoInstant() {}

    /** Writes {@code ts} into {@code out} from index 0 and returns the length written. */
    static int format(Instant ts, char[] out) {
        long seconds = ts.getEpochSecond();
        long days = Math.floorDiv(seconds, 86_400L);
        int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
        long z = days + 719_468L;
        long era = Math.floorDiv(z, 146_097L);
        int dayOfEra = (int) (z - era * 146_097L);
        int yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        int dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        int mp = (5 * dayOfYear + 2) / 153;
        int day = dayOfYear - (153 * mp + 2) / 5 + 1;
        int month = mp < 10 ? mp + 3 : mp - 9;
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        if (year < 0 || year > 9999) {
            String text = ts.toString();
            text.getChars(0, text.length(), out, 0);
            return text.length();
        }
        digits(out, 0, (int) year, 4);
        out[4] = '-';
        digits(out, 5, month, 2);
        out[7] = '-';
        digits(out, 8, day, 2);
        out[10] = 'T';
        digits(out, 11, secondOfDay / 3600, 2);
        out[13] = ':';
        digits(out, 14, secondOfDay / 60 % 60, 2);
        out[16] = ':';
        digits(out, 17, secondOfDay % 60, 2);
        int pos = 19;
        int nanos = ts.getNano();
        if (nanos != 0) {
            out[pos++] = '.';
            if (nanos % 1_000_000 == 0) {
                digits(out, pos, nanos / 1_000_000, 3);
                pos += 3;
            } else if (nanos % 1000 == 0) {
                digits(out, pos, nanos / 1000, 6);
                pos += 6;
            } else {
                digits(out, pos, nanos, 9);
                pos += 9;
            }
        }
        out[pos++] = 'Z';
        return pos;
    }

    /** Writes the last {@code width} decimal digits of {@code value} (not negative) into {@code out} at {@code at}. */
    static void digits(char[] out, int at, long value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
