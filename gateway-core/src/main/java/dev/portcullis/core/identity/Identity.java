package dev.portcullis.core.identity;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Who a request comes from: a subject, its roles and, for a JWT, its verified claims.
 *
 * <p>{@code claims} is copied shallowly; nested maps and lists must already be immutable (the JWT
 * resolver builds them so). JSON objects are {@code Map<String, Object>}, arrays {@code List<Object>},
 * numbers {@code Long} or {@code Double}; {@code exp}, {@code nbf} and {@code iat} are epoch seconds.
 *
 * @param subject the subject ({@code subject_claim}); empty only for {@link #ANONYMOUS}
 * @param roles the roles ({@code roles_claim}), possibly empty; kept as {@link Roles}, in the order given
 * @param claims every verified claim by name; empty for non-JWT identities
 * @param source where the identity came from
 * @param expiresAt the token's {@code exp}, or null when it has none or is not a token
 */
public record Identity(
        String subject,
        Set<String> roles,
        Map<String, Object> claims,
        IdentitySource source,
        @Nullable Instant expiresAt) {

    /** The identity of a request that presented none, or whose credential was rejected. */
    public static final Identity ANONYMOUS = new Identity("", Set.of(), Map.of(), IdentitySource.ANONYMOUS, null);

    /** Copies the collections; a non-anonymous identity needs a non-empty subject. */
    public Identity {
        if (source != IdentitySource.ANONYMOUS && subject.isEmpty()) {
            throw new IllegalArgumentException("\"\" is not a valid subject for a " + source.code()
                    + " identity (expected: a non-empty subject)");
        }
        roles = Roles.copyOf(roles);
        claims = Map.copyOf(claims);
    }

    /** True for {@link IdentitySource#ANONYMOUS}. */
    public boolean isAnonymous() {
        return source == IdentitySource.ANONYMOUS;
    }

    /** {@link #roles()} as the {@link Roles} the constructor kept: readable by index, without an iterator. */
    public Roles indexedRoles() {
        return (Roles) roles;
    }

    /** True when the identity has {@code role}. */
    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /** True when the identity has at least one of {@code anyOf}. */
    public boolean hasAnyRole(Collection<String> anyOf) {
        for (String role : anyOf) {
            if (roles.contains(role)) {
                return true;
            }
        }
        return false;
    }

    /** True when the identity has every one of {@code allOf} (and so for an empty collection). */
    public boolean hasAllRoles(Collection<String> allOf) {
        return roles.containsAll(allOf);
    }

    /** The claim at {@code path}, or null when absent. */
    public @Nullable Object claim(ClaimPath path) {
        return path.resolve(claims);
    }
}
