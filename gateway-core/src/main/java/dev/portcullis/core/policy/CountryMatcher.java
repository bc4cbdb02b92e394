package dev.portcullis.core.policy;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * A condition that holds when the GeoIP country of the client IP (SPEC 3.2 {@code countries}) is one of a set;
 * {@code ZZ} stands for private, reserved, loopback and unknown addresses.
 */
public final class CountryMatcher implements RequestMatcher {

    /** One bit per pair of upper-case letters, {@code AA} to {@code ZZ}. */
    private final long[] bits = new long[(26 * 26 + 63) / 64];

    private final List<String> codes;

    private CountryMatcher(List<String> codes) {
        this.codes = codes;
        for (String code : codes) {
            int index = index(code);
            bits[index >>> 6] |= 1L << index;
        }
    }

    /** A matcher for one or more country codes, each checked with {@link #checkCountry}; duplicates are dropped. */
    public static CountryMatcher of(Collection<String> codes) {
        if (codes.isEmpty()) {
            throw new IllegalArgumentException(
                    "[] is not a valid countries condition (expected: at least one country code, e.g. DE)");
        }
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String code : codes) {
            unique.add(checkCountry(code));
        }
        return new CountryMatcher(List.copyOf(unique));
    }

    /**
     * Returns {@code code} if it is two upper-case ASCII letters, an ISO 3166 alpha-2 code as GeoIP databases write
     * it ({@code DE}, or {@code ZZ} for unknown), else throws {@link IllegalArgumentException}. Lower case is
     * refused rather than folded, so that the config reads as the decisions and logs do.
     */
    public static String checkCountry(String code) {
        if (code.length() != 2 || !isUpper(code.charAt(0)) || !isUpper(code.charAt(1))) {
            throw new IllegalArgumentException("\"" + code
                    + "\" is not a country code (expected: ISO 3166 alpha-2 in upper case, e.g. DE, or ZZ for unknown)");
        }
        return code;
    }

    /** The country codes, in the order first given. */
    public List<String> codes() {
        return codes;
    }

    @Override
    public boolean matches(AccessRequest request) {
        String country = request.country();
        if (country.length() != 2 || !isUpper(country.charAt(0)) || !isUpper(country.charAt(1))) {
            return false;
        }
        int index = index(country);
        return (bits[index >>> 6] & (1L << index)) != 0;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return "country " + request.country() + " in " + Explain.list(codes);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "country " + request.country() + " not in " + Explain.list(codes);
    }

    @Override
    public String toString() {
        return "countries " + Explain.list(codes);
    }

    private static boolean isUpper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    private static int index(String code) {
        return (code.charAt(0) - 'A') * 26 + (code.charAt(1) - 'A');
    }
}
