package dev.portcullis.core.policy;

import dev.portcullis.core.identity.Roles;
import java.util.HashMap;
import java.util.Map;

/**
 * The roles one policy names, each given a bit, so that a role condition is a mask test against the identity's roles
 * turned into bits once per request ({@link AccessRequest#roleBits}) instead of a set probe per role per rule.
 *
 * <p>Filled while the policy compiles (every {@link RoleMatcher} registers its roles) and only read once the policy is
 * published. The first {@value #BITS} roles get a bit; a matcher that names a role beyond them checks the identity's
 * role set instead. Only configured roles are registered, never a token's, so the table is bounded by the config.
 */
public final class RoleBits {

    /** How many roles fit the bit set. */
    static final int BITS = Long.SIZE;

    private final Map<String, Integer> bits = new HashMap<>();
    private boolean frozen;

    /**
     * Ends registration: the compiler calls it before the policy is published, after which the table is only read
     * (by event loops, without locks), and a matcher built on it then is a programming error.
     */
    public void freeze() {
        frozen = true;
    }

    /** The bit of {@code role}, registering it; -1 when the first {@value #BITS} roles are already registered. */
    int register(String role) {
        Integer known = bits.get(role);
        if (known != null) {
            return known;
        }
        if (frozen) {
            throw new IllegalStateException("role " + role + " registered after its policy was compiled");
        }
        if (bits.size() == BITS) {
            return -1;
        }
        int bit = bits.size();
        bits.put(role, bit);
        return bit;
    }

    /** The bits of the registered roles among {@code roles}. */
    long of(Roles roles) {
        long set = 0;
        for (int i = 0; i < roles.size(); i++) {
            Integer bit = bits.get(roles.get(i));
            if (bit != null) {
                set |= 1L << bit;
            }
        }
        return set;
    }
}
