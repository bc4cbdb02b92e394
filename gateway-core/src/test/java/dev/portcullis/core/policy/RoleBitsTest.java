package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.TestRequests.forwarded;
import static dev.portcullis.core.policy.TestRequests.get;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Role conditions compiled into one policy share a {@link RoleBits} table and decide as the role sets would. */
class RoleBitsTest {

    private static final List<String> ROLES = List.of("admin", "ops", "reader", "writer", "billing", "support");

    @Test
    void matchersSharingATableDecideAsTheRoleSetsWould() {
        SplittableRandom random = new SplittableRandom(11);
        RoleBits table = new RoleBits();
        List<RoleMatcher> matchers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            List<String> roles = pick(random, ROLES, 1 + random.nextInt(3));
            matchers.add(random.nextBoolean() ? RoleMatcher.any(roles, table) : RoleMatcher.all(roles, table));
        }
        for (int i = 0; i < 200; i++) {
            Set<String> held = new HashSet<>(pick(random, ROLES, random.nextInt(4)));
            held.add("unconfigured-" + i);
            AccessRequest request = get("/").as(forwarded("alice", held.toArray(String[]::new))).build();
            for (RoleMatcher matcher : matchers) {
                boolean expected = matcher.requireAll()
                        ? held.containsAll(matcher.roles())
                        : matcher.roles().stream().anyMatch(held::contains);
                assertThat(matcher.matches(request)).as("%s on %s", matcher, held).isEqualTo(expected);
            }
        }
    }

    @Test
    void rolesPastTheBitsAreCheckedInTheRoleSet() {
        RoleBits table = new RoleBits();
        for (int i = 0; i < RoleBits.BITS; i++) {
            RoleMatcher.any(List.of("role" + i), table);
        }
        RoleMatcher past = RoleMatcher.any(List.of("late"), table);
        RoleMatcher mixed = RoleMatcher.all(List.of("role3", "late"), table);
        RoleMatcher last = RoleMatcher.all(List.of("role63"), table);

        AccessRequest late = get("/").as(forwarded("alice", "late", "role3")).build();
        AccessRequest early = get("/").as(forwarded("bob", "role3", "role63")).build();

        assertThat(past.matches(late)).isTrue();
        assertThat(mixed.matches(late)).isTrue();
        assertThat(last.matches(late)).isFalse();
        assertThat(past.matches(early)).isFalse();
        assertThat(mixed.matches(early)).isFalse();
        assertThat(last.matches(early)).isTrue();
        assertThat(table.register("another")).isEqualTo(-1);
    }

    @Test
    void aRequestAskedByMatchersOfTwoPoliciesAnswersEachFromItsOwnTable() {
        RoleBits first = new RoleBits();
        RoleBits second = new RoleBits();
        RoleMatcher.any(List.of("ops"), second);    // "ops" is bit 0 in the second table, "admin" bit 1
        RoleMatcher admin1 = RoleMatcher.any(List.of("admin"), first);
        RoleMatcher admin2 = RoleMatcher.any(List.of("admin"), second);
        RoleMatcher ops1 = RoleMatcher.any(List.of("ops"), first);

        AccessRequest request = get("/").as(forwarded("alice", "admin")).build();

        assertThat(admin1.matches(request)).isTrue();
        assertThat(admin2.matches(request)).isTrue();
        assertThat(ops1.matches(request)).isFalse();
        assertThat(admin1.matches(request)).isTrue();
    }

    @Test
    void anAnonymousRequestHasNoRoleBits() {
        RoleBits table = new RoleBits();
        RoleMatcher any = RoleMatcher.any(List.of("admin", "ops"), table);
        RoleMatcher all = RoleMatcher.all(List.of("admin"), table);

        assertThat(any.matches(get("/").build())).isFalse();
        assertThat(all.matches(get("/").build())).isFalse();
    }

    private static List<String> pick(SplittableRandom random, List<String> from, int n) {
        List<String> copy = new ArrayList<>(from);
        List<String> picked = new ArrayList<>();
        for (int i = 0; i < n && !copy.isEmpty(); i++) {
            picked.add(copy.remove(random.nextInt(copy.size())));
        }
        return picked;
    }
}
