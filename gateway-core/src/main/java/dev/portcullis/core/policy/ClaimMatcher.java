package dev.portcullis.core.policy;

import dev.portcullis.core.identity.ClaimPath;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A condition on one claim of the identity's verified token ({@code claims: {path: [values]}}): the claim at a dotted
 * path equals one of the values or, when it is an array, contains one. Identities without a token (anonymous,
 * forwarded) have no claims, so they never satisfy one.
 *
 * <p>The values are strings, and claims compare by their text as {@link ClaimPath#matchesAny} defines it: strings
 * exactly, booleans as {@code true}/{@code false}, integral numbers in decimal. YAML numbers and booleans in a
 * config are compared by the same string form, so {@code tier: [gold]}, {@code level: [3]} and
 * {@code admin: [true]} match the JSON claims {@code "gold"}, {@code 3} and {@code true}; the YAML {@code 3} and
 * {@code "3"} are the same value, and so are the claims {@code 3} and {@code "3"}. Objects never match.
 */
public final class ClaimMatcher implements RequestMatcher {

    /*
     * Implementation notes: ClaimPath.matchesAny defines the comparison, but renders a number
     * claim as text on every call, which allocates. So the common claim types are compared here
     * against forms of the values prepared once: strings by set lookup, booleans by two flags,
     * integral numbers against the values that are canonical decimal longs, other doubles against
     * the values that are canonical double texts. A value of any other type (BigInteger,
     * BigDecimal, Float) is rare and is handed to matchesAny itself, so the two never disagree;
     * IdentityMatchersTest holds them to that.
     */

    /** Claim values longer than this are shortened in explanations. */
    private static final int MAX_VALUE_LENGTH = 64;
    /** Below 2^53 every integer is exactly a double, and such doubles compare as integers. */
    private static final double EXACT_INTEGERS = 0x1p53;
    /** The path of the one-claim map through which rare value types are compared by {@link ClaimPath#matchesAny}. */
    private static final String FALLBACK_NAME = "value";
    private static final ClaimPath FALLBACK = ClaimPath.compile(FALLBACK_NAME);

    private final ClaimPath path;
    private final List<String> valueList;
    private final Set<String> values;
    private final boolean acceptsTrue;
    private final boolean acceptsFalse;
    private final long[] integers;
    private final double[] decimals;

    private ClaimMatcher(ClaimPath path, List<String> valueList) {
        this.path = path;
        this.valueList = valueList;
        this.values = Set.copyOf(valueList);
        this.acceptsTrue = values.contains("true");
        this.acceptsFalse = values.contains("false");
        List<Long> integerList = new ArrayList<>();
        List<Double> decimalList = new ArrayList<>();
        for (String value : valueList) {
            Long integer = canonicalLong(value);
            if (integer != null) {
                integerList.add(integer);
            }
            Double decimal = canonicalDouble(value);
            if (decimal != null) {
                decimalList.add(decimal);
            }
        }
        this.integers = integerList.stream().mapToLong(Long::longValue).toArray();
        this.decimals = decimalList.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /**
     * A matcher for the claim at {@code path}.
     *
     * @param values the accepted values, at least one; duplicates are dropped
     */
    public static ClaimMatcher of(ClaimPath path, Collection<String> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid claim condition for " + path
                    + " (expected: at least one value, e.g. [acme])");
        }
        return new ClaimMatcher(path, List.copyOf(new LinkedHashSet<>(values)));
    }

    /** The claim path. */
    public ClaimPath path() {
        return path;
    }

    /** The accepted values, in the order first given. */
    public List<String> values() {
        return valueList;
    }

    @Override
    public boolean matches(AccessRequest request) {
        Object claim = request.identity().claim(path);
        if (claim instanceof List<?> array) {
            // An indexed loop: no iterator on the request path. JSON arrays are immutable lists.
            for (int i = 0; i < array.size(); i++) {
                if (matchesScalar(array.get(i))) {
                    return true;
                }
            }
            return false;
        }
        if (claim instanceof Collection<?>) {
            return path.matchesAny(request.identity().claims(), values);
        }
        return matchesScalar(claim);
    }

    /** Whether a claim, or an array element, compares equal to one of the values (as ClaimPath.matchesAny). */
    private boolean matchesScalar(@Nullable Object value) {
        if (value instanceof String text) {
            return values.contains(text);
        }
        if (value instanceof Boolean bool) {
            return bool ? acceptsTrue : acceptsFalse;
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return acceptsInteger(((Number) value).longValue());
        }
        if (value instanceof Double number) {
            double d = number;
            if (!Double.isInfinite(d) && d == Math.rint(d) && Math.abs(d) < EXACT_INTEGERS) {
                return acceptsInteger((long) d);
            }
            for (double decimal : decimals) {
                if (Double.compare(decimal, d) == 0) {
                    return true;
                }
            }
            return false;
        }
        if (value == null || value instanceof Map<?, ?> || value instanceof Collection<?>) {
            return false;
        }
        return FALLBACK.matchesAny(Map.of(FALLBACK_NAME, value), values);
    }

    private boolean acceptsInteger(long value) {
        for (long integer : integers) {
            if (integer == value) {
                return true;
            }
        }
        return false;
    }

    /** {@code value} as a long if it is exactly the decimal text of that long, else null. */
    private static @Nullable Long canonicalLong(String value) {
        try {
            long parsed = Long.parseLong(value);
            return Long.toString(parsed).equals(value) ? parsed : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code value} as a double if it is exactly the text Java renders that double as, else null. */
    private static @Nullable Double canonicalDouble(String value) {
        try {
            double parsed = Double.parseDouble(value);
            return Double.toString(parsed).equals(value) ? parsed : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return "claim " + path + " matches one of " + Explain.list(valueList);
    }

    /** Shows the claim's value (shortened), as the operator needs it to see why; tokens themselves are never shown. */
    @Override
    public String explainFailure(AccessRequest request) {
        Object claim = request.identity().claim(path);
        if (claim == null) {
            return "claim " + path + " missing, expected one of " + Explain.list(valueList);
        }
        if (claim instanceof Collection<?> array) {
            List<String> elements = new ArrayList<>(array.size());
            for (Object element : array) {
                elements.add(describe(element));
            }
            return "claim " + path + " " + Explain.list(elements) + " contains none of " + Explain.list(valueList);
        }
        return "claim " + path + " is " + describe(claim) + ", expected one of " + Explain.list(valueList);
    }

    private static String describe(@Nullable Object value) {
        if (value instanceof Map<?, ?>) {
            return "an object";
        }
        if (value instanceof Collection<?>) {
            return "an array";
        }
        String text = String.valueOf(value);
        return text.length() <= MAX_VALUE_LENGTH ? text : text.substring(0, MAX_VALUE_LENGTH) + "...";
    }

    @Override
    public boolean failsForWantOfIdentity(AccessRequest request) {
        return true;
    }

    @Override
    public boolean holdsForWantOfIdentity(AccessRequest request) {
        return false;
    }

    @Override
    public String toString() {
        return "claim " + path + " in " + Explain.list(valueList);
    }
}
