package dev.portcullis.core.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RolesTest {

    @Test
    void keepsTheFirstOrderAndDropsDuplicates() {
        Roles roles = Roles.copyOf(List.of("writer", "admin", "writer", "ops"));

        assertThat(roles).containsExactly("writer", "admin", "ops");
        assertThat(roles.size()).isEqualTo(3);
        assertThat(roles.get(0)).isEqualTo("writer");
        assertThat(roles.get(2)).isEqualTo("ops");
        assertThat(roles.contains("admin")).isTrue();
        assertThat(roles.contains("root")).isFalse();
        assertThat(roles.contains(null)).isFalse();
    }

    @Test
    void equalsAnySetOfTheSameRoles() {
        Roles roles = Roles.copyOf(List.of("b", "a"));

        assertThat(roles).isEqualTo(Set.of("a", "b")).hasSameHashCodeAs(Set.of("a", "b"));
        assertThat(Set.of("a", "b")).isEqualTo(roles);
        assertThat(Roles.copyOf(roles)).isSameAs(roles);
        assertThat(Roles.copyOf(Set.of())).isEmpty();
    }

    @Test
    void isImmutableAndRefusesNull() {
        Roles roles = Roles.copyOf(List.of("a"));
        Iterator<String> it = roles.iterator();
        it.next();

        assertThatThrownBy(() -> roles.add("b")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> Roles.copyOf(Arrays.asList("a", null))).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aRolesClaimKeepsTheTokensOrder() {
        assertThat(ClaimValues.roles(List.of("zeta", " alpha ", "zeta", "mu"))).containsExactly("zeta", "alpha", "mu");
        assertThat(ClaimValues.roles("write:orders admin,read:orders")).containsExactly("write:orders", "admin",
                "read:orders");
    }

    @Test
    void anIdentityKeepsItsRolesInTheOrderGiven() {
        Identity identity = new Identity("alice", new LinkedHashSet<>(List.of("z", "a", "m")), Map.of(),
                IdentitySource.JWT, null);

        assertThat(identity.roles()).containsExactly("z", "a", "m");
        assertThat(identity.indexedRoles().get(1)).isEqualTo("a");
        assertThat(identity.hasRole("m")).isTrue();
    }
}
