package dev.portcullis.core.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClaimPathTest {

    static final Map<String, Object> CLAIMS = ClaimValues.immutableCopy(Map.of(
            "sub", "alice",
            "realm_access", Map.of("roles", List.of("admin", "ops")),
            "https://example.com/roles", List.of("namespaced"),
            "org", Map.of("id", 42L, "active", true, "ratio", 2.0, "name", "acme"),
            "groups", List.of("eng", 7L, Map.of("nested", "x"))));

    @Test
    void resolvesDottedPaths() {
        assertThat(ClaimPath.compile("sub").resolve(CLAIMS)).isEqualTo("alice");
        assertThat(ClaimPath.compile("realm_access.roles").resolve(CLAIMS)).isEqualTo(List.of("admin", "ops"));
        assertThat(ClaimPath.compile("org.name").resolve(CLAIMS)).isEqualTo("acme");
        assertThat(ClaimPath.compile("org.missing").resolve(CLAIMS)).isNull();
        assertThat(ClaimPath.compile("sub.deeper").resolve(CLAIMS)).isNull();
        assertThat(ClaimPath.compile("nothing").resolve(CLAIMS)).isNull();
    }

    @Test
    void aTopLevelClaimWithDotsInItsNameNeverShadowsTheNestedValue() {
        Map<String, Object> claims = ClaimValues.immutableCopy(Map.of(
                "realm_access", Map.of("roles", List.of("user")),
                "realm_access.roles", List.of("admin")));

        assertThat(ClaimPath.compile("realm_access.roles").resolve(claims)).isEqualTo(List.of("user"));
        assertThat(ClaimPath.compile("realm_access.roles").matchesAny(claims, Set.of("admin"))).isFalse();
    }

    @Test
    void aTopLevelClaimWithDotsInItsNameDoesNotStandInForAMissingNestedValue() {
        Map<String, Object> claims = ClaimValues.immutableCopy(Map.of("realm_access.roles", List.of("admin")));

        assertThat(ClaimPath.compile("realm_access.roles").resolve(claims)).isNull();
        assertThat(ClaimPath.compile("https://example.com/roles").resolve(CLAIMS)).isNull();
    }

    @Test
    void matchesScalarsAndArrayElements() {
        assertThat(ClaimPath.compile("sub").matchesAny(CLAIMS, Set.of("bob", "alice"))).isTrue();
        assertThat(ClaimPath.compile("sub").matchesAny(CLAIMS, Set.of("Alice"))).isFalse();
        assertThat(ClaimPath.compile("realm_access.roles").matchesAny(CLAIMS, Set.of("ops"))).isTrue();
        assertThat(ClaimPath.compile("realm_access.roles").matchesAny(CLAIMS, Set.of("root"))).isFalse();
        assertThat(ClaimPath.compile("org.id").matchesAny(CLAIMS, Set.of("42"))).isTrue();
        assertThat(ClaimPath.compile("org.active").matchesAny(CLAIMS, Set.of("true"))).isTrue();
        assertThat(ClaimPath.compile("org.ratio").matchesAny(CLAIMS, Set.of("2"))).isTrue();
        assertThat(ClaimPath.compile("groups").matchesAny(CLAIMS, Set.of("7"))).isTrue();
        assertThat(ClaimPath.compile("org").matchesAny(CLAIMS, Set.of("acme"))).isFalse();
        assertThat(ClaimPath.compile("missing").matchesAny(CLAIMS, Set.of("x"))).isFalse();
    }

    @Test
    void rejectsEmptySegments() {
        for (String bad : List.of("", ".", "a.", ".a", "a..b")) {
            assertThatThrownBy(() -> ClaimPath.compile(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("\"" + bad + "\" is not a valid claim path"
                            + " (expected: claim names separated by dots, e.g. realm_access.roles)");
        }
    }

    @Test
    void copiesClaimsDeeplyAndImmutably() {
        Map<String, Object> nested = new HashMap<>();
        nested.put("k", "v");
        nested.put("gone", null);
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("obj", nested);
        raw.put("list", new ArrayList<>(Arrays.asList("a", null, "b")));
        raw.put("exp", Date.from(Instant.ofEpochSecond(1_900_000_000L)));
        raw.put("null", null);

        Map<String, Object> copy = ClaimValues.immutableCopy(raw);
        nested.put("k", "changed");

        assertThat(copy).containsOnlyKeys("obj", "list", "exp");
        assertThat(copy.get("obj")).isEqualTo(Map.of("k", "v"));
        assertThat(copy.get("list")).isEqualTo(List.of("a", "b"));
        assertThat(copy.get("exp")).isEqualTo(1_900_000_000L);
        assertThatThrownBy(() -> ((List<?>) copy.get("list")).clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void readsRolesFromArraysOrSeparatedStrings() {
        assertThat(ClaimValues.roles(List.of("a", " b ", "", 3L, "a"))).containsExactlyInAnyOrder("a", "b");
        assertThat(ClaimValues.roles("read write,admin , ops")).containsExactlyInAnyOrder("read", "write", "admin",
                "ops");
        assertThat(ClaimValues.roles(" , ")).isEmpty();
        assertThat(ClaimValues.roles(42L)).isEmpty();
        assertThat(ClaimValues.roles(null)).isEmpty();
        assertThat(ClaimValues.roles(Map.of("a", "b"))).isEmpty();
    }
}
