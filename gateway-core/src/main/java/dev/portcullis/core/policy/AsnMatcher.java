package dev.portcullis.core.policy;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A condition that holds when the GeoIP autonomous system number of the client IP is one of a set ({@code asns}).
 * AS 0, which RFC 7607 reserves so that it is never a real origin, is what the lookup gives an address the ASN
 * database does not list (private, reserved, unrouted): {@code asns: [0]} selects those, as {@code ZZ} does for
 * countries.
 */
public final class AsnMatcher implements RequestMatcher {

    /** The largest ASN: they are 32-bit unsigned numbers (RFC 6793). */
    public static final long MAX_ASN = 0xffff_ffffL;

    private static final String EXPECTED = "(expected: 0.." + MAX_ASN + ", 0 for an address without one, e.g. 64500)";

    private final long[] sorted;
    private final List<Long> asns;

    private AsnMatcher(long[] sorted, List<Long> asns) {
        this.sorted = sorted;
        this.asns = asns;
    }

    /** A matcher for one or more ASNs in 0..4294967295; duplicates are dropped. */
    public static AsnMatcher of(Collection<Long> asns) {
        if (asns.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid asns condition (expected: at least one AS number)");
        }
        for (long asn : asns) {
            if (asn < 0 || asn > MAX_ASN) {
                throw new IllegalArgumentException("\"" + asn + "\" is not an AS number " + EXPECTED);
            }
        }
        long[] sorted = asns.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        return new AsnMatcher(sorted, asns.stream().distinct().toList());
    }

    /**
     * Parses an AS number written as decimal digits without sign or leading zeros (0..4294967295), else throws
     * {@link IllegalArgumentException}. The {@code AS64500} spelling is not accepted: write {@code 64500}.
     */
    public static long checkAsn(String text) {
        boolean valid = !text.isEmpty() && text.length() <= 10 && (text.charAt(0) != '0' || text.length() == 1);
        long value = 0;
        for (int i = 0; i < text.length() && valid; i++) {
            char c = text.charAt(i);
            valid = c >= '0' && c <= '9';
            value = value * 10 + (c - '0');
        }
        if (!valid || value > MAX_ASN) {
            throw new IllegalArgumentException("\"" + text + "\" is not an AS number " + EXPECTED);
        }
        return value;
    }

    /** The AS numbers, in the order first given. */
    public List<Long> asns() {
        return asns;
    }

    @Override
    public boolean matches(AccessRequest request) {
        return Arrays.binarySearch(sorted, request.asn()) >= 0;
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return "asn " + request.asn() + " in " + Explain.list(asns);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "asn " + request.asn() + " not in " + Explain.list(asns);
    }

    @Override
    public String toString() {
        return "asns " + Explain.list(asns);
    }
}
