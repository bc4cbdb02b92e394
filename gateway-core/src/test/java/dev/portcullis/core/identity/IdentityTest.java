package dev.portcullis.core.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityTest {

    @Test
    void anonymousHasNothing() {
        assertThat(Identity.ANONYMOUS.isAnonymous()).isTrue();
        assertThat(Identity.ANONYMOUS.subject()).isEmpty();
        assertThat(Identity.ANONYMOUS.roles()).isEmpty();
        assertThat(Identity.ANONYMOUS.claims()).isEmpty();
        assertThat(Identity.ANONYMOUS.expiresAt()).isNull();
    }

    @Test
    void answersRoleQuestions() {
        Identity identity = new Identity("alice", Set.of("admin", "ops"), Map.of(), IdentitySource.FORWARDED, null);

        assertThat(identity.isAnonymous()).isFalse();
        assertThat(identity.hasRole("admin")).isTrue();
        assertThat(identity.hasAnyRole(List.of("x", "ops"))).isTrue();
        assertThat(identity.hasAnyRole(List.of("x"))).isFalse();
        assertThat(identity.hasAllRoles(List.of("admin", "ops"))).isTrue();
        assertThat(identity.hasAllRoles(List.of("admin", "x"))).isFalse();
        assertThat(identity.hasAllRoles(List.of())).isTrue();
    }

    @Test
    void isImmutable() {
        Set<String> roles = new HashSet<>(Set.of("a"));
        Identity identity = new Identity("alice", roles, Map.of(), IdentitySource.JWT, null);
        roles.add("b");

        assertThat(identity.roles()).containsExactly("a");
        assertThatThrownBy(() -> identity.roles().add("c")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void requiresSubjectUnlessAnonymous() {
        assertThatThrownBy(() -> new Identity("", Set.of(), Map.of(), IdentitySource.JWT, null))
                .hasMessage("\"\" is not a valid subject for a jwt identity (expected: a non-empty subject)");
    }

    @Test
    void rejectedOutcomesAreSharedAndCarryStableCodes() {
        assertThat(Resolution.Rejected.of(RejectReason.UNKNOWN_KID))
                .isSameAs(Resolution.Rejected.of(RejectReason.UNKNOWN_KID));
        assertThat(RejectReason.TOKEN_EXPIRED.code()).isEqualTo("token_expired");
        assertThat(RejectReason.NO_KEY_SOURCE.code()).isEqualTo("no_key_source");
        for (RejectReason reason : RejectReason.values()) {
            assertThat(reason.code()).matches("[a-z]+(_[a-z]+)*").isEqualTo(reason.name().toLowerCase(Locale.ROOT));
        }
    }
}
