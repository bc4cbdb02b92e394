package dev.portcullis.core.policy;

import dev.portcullis.core.identity.Identity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * A condition on the identity's roles: it has any of a set ({@code roles}) or all of them ({@code all_roles}).
 * An anonymous request has no roles, so it never satisfies one.
 */
public final class RoleMatcher implements RequestMatcher {

    private final String[] roles;
    private final boolean requireAll;
    private final RoleBits table;
    /** The bits of {@link #roles} in {@link #table}; 0 when one of them has no bit (then the role set decides). */
    private final long mask;

    private RoleMatcher(Collection<String> roles, boolean requireAll, RoleBits table) {
        this.roles = roles.toArray(String[]::new);
        this.requireAll = requireAll;
        this.table = table;
        long bits = 0;
        for (String role : this.roles) {
            int bit = table.register(role);
            if (bit < 0) {
                bits = 0;
                break;
            }
            bits |= 1L << bit;
        }
        this.mask = bits;
    }

    /** A matcher that holds when the identity has at least one of {@code roles}; duplicates are dropped. */
    public static RoleMatcher any(Collection<String> roles) {
        return any(roles, new RoleBits());
    }

    /** {@link #any(Collection)} with the role bits of the policy it is compiled into. */
    public static RoleMatcher any(Collection<String> roles, RoleBits table) {
        return new RoleMatcher(check(roles, "roles"), false, table);
    }

    /** A matcher that holds when the identity has every one of {@code roles}; duplicates are dropped. */
    public static RoleMatcher all(Collection<String> roles) {
        return all(roles, new RoleBits());
    }

    /** {@link #all(Collection)} with the role bits of the policy it is compiled into. */
    public static RoleMatcher all(Collection<String> roles, RoleBits table) {
        return new RoleMatcher(check(roles, "all_roles"), true, table);
    }

    /** Returns {@code role} if it is not blank, else throws {@link IllegalArgumentException}. */
    public static String checkRole(String role) {
        if (role.isBlank()) {
            throw new IllegalArgumentException(
                    "\"" + role + "\" is not a valid role (expected: a non-blank role name, e.g. admin)");
        }
        return role;
    }

    private static LinkedHashSet<String> check(Collection<String> roles, String key) {
        if (roles.isEmpty()) {
            throw new IllegalArgumentException(
                    "[] is not a valid " + key + " condition (expected: at least one role, e.g. admin)");
        }
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String role : roles) {
            unique.add(checkRole(role));
        }
        return unique;
    }

    /** The roles, in the order first given. */
    public List<String> roles() {
        return List.of(roles);
    }

    /** True for {@code all_roles}, false for {@code roles}. */
    public boolean requireAll() {
        return requireAll;
    }

    @Override
    public boolean matches(AccessRequest request) {
        if (mask != 0) {
            long present = request.roleBits(table);
            return requireAll ? (present & mask) == mask : (present & mask) != 0;
        }
        // A loop over the array instead of Identity.hasAnyRole/hasAllRoles: no iterator on the request path.
        Identity identity = request.identity();
        if (requireAll) {
            for (String role : roles) {
                if (!identity.hasRole(role)) {
                    return false;
                }
            }
            return true;
        }
        for (String role : roles) {
            if (identity.hasRole(role)) {
                return true;
            }
        }
        return false;
    }

    /** Names the configured roles only, never the identity's other roles. */
    @Override
    public String explainMatch(AccessRequest request) {
        if (roles.length == 1) {
            return "role " + roles[0] + " present";
        }
        if (requireAll) {
            return "roles " + Explain.list(roles()) + " all present";
        }
        for (String role : roles) {
            if (request.identity().hasRole(role)) {
                return "role " + role + " of " + Explain.list(roles()) + " present";
            }
        }
        return "role of " + Explain.list(roles()) + " present";
    }

    @Override
    public String explainFailure(AccessRequest request) {
        if (roles.length == 1) {
            return "role " + roles[0] + " missing";
        }
        if (!requireAll) {
            return "none of roles " + Explain.list(roles()) + " present";
        }
        List<String> missing = new ArrayList<>();
        for (String role : roles) {
            if (!request.identity().hasRole(role)) {
                missing.add(role);
            }
        }
        return "roles " + Explain.list(roles()) + " all required, missing " + String.join(", ", missing);
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
        return (requireAll ? "all_roles " : "roles ") + Explain.list(roles());
    }
}
