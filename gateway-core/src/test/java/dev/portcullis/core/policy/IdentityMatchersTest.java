package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.TestRequests.allRoles;
import static dev.portcullis.core.policy.TestRequests.authenticated;
import static dev.portcullis.core.policy.TestRequests.claim;
import static dev.portcullis.core.policy.TestRequests.forwarded;
import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.ip;
import static dev.portcullis.core.policy.TestRequests.jwt;
import static dev.portcullis.core.policy.TestRequests.methods;
import static dev.portcullis.core.policy.TestRequests.request;
import static dev.portcullis.core.policy.TestRequests.roles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.net.IpAddress;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The identity conditions (SPEC 3.2) and the "for want of identity" rules behind the 401 (SPEC 3.6). */
class IdentityMatchersTest {

    private static final AccessRequest ANONYMOUS = get("/").build();
    private static final AccessRequest ALICE = get("/").as(jwt("alice", Set.of("user", "ops"), Map.of())).build();

    @Test
    void authenticatedTellsIdentitiesFromAnonymousRequests() {
        RequestMatcher required = authenticated(true);
        RequestMatcher forbidden = authenticated(false);
        AccessRequest bob = get("/").as(forwarded("bob")).build();
        AccessRequest rejected = get("/").rejected(RejectReason.TOKEN_EXPIRED).build();

        assertThat(required.matches(ALICE)).isTrue();
        assertThat(required.matches(bob)).isTrue();
        assertThat(required.matches(ANONYMOUS)).isFalse();
        assertThat(required.matches(rejected)).isFalse();
        assertThat(forbidden.matches(rejected)).isTrue();
        assertThat(forbidden.matches(bob)).isFalse();

        assertThat(required.explainMatch(bob)).isEqualTo("authenticated by forwarded");
        assertThat(required.explainFailure(ANONYMOUS)).isEqualTo("not authenticated");
        assertThat(forbidden.explainMatch(ANONYMOUS)).isEqualTo("not authenticated");
        assertThat(forbidden.explainFailure(ALICE)).isEqualTo("authenticated by jwt, expected anonymous")
                .doesNotContain("alice");
        assertThat(AuthenticatedMatcher.of(true)).isSameAs(required).hasToString("authenticated true");
        assertThat(((AuthenticatedMatcher) forbidden).authenticated()).isFalse();
    }

    @Test
    void rolesNeedAnyAndAllRolesNeedEvery() {
        RequestMatcher admin = roles("admin");
        RequestMatcher adminOrOps = roles("admin", "ops");
        RequestMatcher userAndOps = allRoles("user", "ops");
        RequestMatcher userAndAdminAndAudit = allRoles("user", "admin", "audit");

        assertThat(admin.matches(ALICE)).isFalse();
        assertThat(adminOrOps.matches(ALICE)).isTrue();
        assertThat(userAndOps.matches(ALICE)).isTrue();
        assertThat(userAndAdminAndAudit.matches(ALICE)).isFalse();
        assertThat(adminOrOps.matches(ANONYMOUS)).isFalse();
        assertThat(userAndOps.matches(ANONYMOUS)).isFalse();

        assertThat(admin.explainFailure(ALICE)).isEqualTo("role admin missing");
        assertThat(admin.explainMatch(get("/").as(forwarded("bob", "admin")).build())).isEqualTo("role admin present");
        assertThat(adminOrOps.explainMatch(ALICE)).isEqualTo("role ops of [admin, ops] present");
        assertThat(adminOrOps.explainFailure(ANONYMOUS)).isEqualTo("none of roles [admin, ops] present");
        assertThat(userAndOps.explainMatch(ALICE)).isEqualTo("roles [user, ops] all present");
        assertThat(userAndAdminAndAudit.explainFailure(ALICE))
                .isEqualTo("roles [user, admin, audit] all required, missing admin, audit");
        assertThat(allRoles("admin").explainFailure(ALICE)).isEqualTo("role admin missing");
        assertThat(adminOrOps).hasToString("roles [admin, ops]");
        assertThat(userAndOps).hasToString("all_roles [user, ops]");
        assertThat(((RoleMatcher) roles("a", "b", "a")).roles()).containsExactly("a", "b");
    }

    @Test
    void rejectsEmptyRoleListsAndBlankRoles() {
        assertThatThrownBy(() -> RoleMatcher.any(List.of()))
                .hasMessage("[] is not a valid roles condition (expected: at least one role, e.g. admin)");
        assertThatThrownBy(() -> RoleMatcher.all(List.of()))
                .hasMessage("[] is not a valid all_roles condition (expected: at least one role, e.g. admin)");
        assertThatThrownBy(() -> RoleMatcher.any(List.of("admin", " ")))
                .hasMessage("\" \" is not a valid role (expected: a non-blank role name, e.g. admin)");
    }

    @Test
    void claimsEqualOrContainOneValueComparedAsText() {
        RequestMatcher tier = claim("tier", "gold", "3", "true");

        assertThat(tier.matches(withClaims(Map.of("tier", "gold")))).isTrue();
        assertThat(tier.matches(withClaims(Map.of("tier", "Gold")))).isFalse();
        assertThat(tier.matches(withClaims(Map.of("tier", 3L)))).isTrue();
        assertThat(tier.matches(withClaims(Map.of("tier", 3.0)))).isTrue();
        assertThat(tier.matches(withClaims(Map.of("tier", "3")))).isTrue();
        assertThat(tier.matches(withClaims(Map.of("tier", true)))).isTrue();
        assertThat(tier.matches(withClaims(Map.of("tier", false)))).isFalse();
        assertThat(tier.matches(withClaims(Map.of("tier", List.of("silver", 3L))))).isTrue();
        assertThat(tier.matches(withClaims(Map.of("tier", List.of("silver"))))).isFalse();
        assertThat(tier.matches(withClaims(Map.of("tier", Map.of("gold", "gold"))))).isFalse();
        assertThat(tier.matches(withClaims(Map.of()))).isFalse();
        assertThat(tier.matches(ANONYMOUS)).isFalse();
        assertThat(tier.matches(get("/").as(forwarded("bob", "gold")).build())).isFalse();

        RequestMatcher nested = claim("realm_access.roles", "admin");
        assertThat(nested.matches(withClaims(Map.of("realm_access", Map.of("roles", List.of("user", "admin"))))))
                .isTrue();
        assertThat(nested.matches(withClaims(Map.of("realm_access", List.of("roles"))))).isFalse();
        assertThat(nested.matches(withClaims(Map.of("realm_access.roles", "admin")))).isFalse();
    }

    @Test
    void explainsClaimsWithTheirValueShortened() {
        RequestMatcher tenant = claim("org.tenant", "acme", "globex");

        assertThat(tenant.explainMatch(withClaims(Map.of("org", Map.of("tenant", "acme")))))
                .isEqualTo("claim org.tenant matches one of [acme, globex]");
        assertThat(tenant.explainFailure(withClaims(Map.of("org", Map.of("tenant", "initech")))))
                .isEqualTo("claim org.tenant is initech, expected one of [acme, globex]");
        assertThat(tenant.explainFailure(withClaims(Map.of("org", Map.of("tenant", 42L)))))
                .isEqualTo("claim org.tenant is 42, expected one of [acme, globex]");
        assertThat(tenant.explainFailure(withClaims(Map.of("org", Map.of("tenant", Map.of("id", 1L))))))
                .isEqualTo("claim org.tenant is an object, expected one of [acme, globex]");
        assertThat(tenant.explainFailure(withClaims(Map.of("org", Map.of("tenant", List.of("x", List.of()))))))
                .isEqualTo("claim org.tenant [x, an array] contains none of [acme, globex]");
        assertThat(tenant.explainFailure(ANONYMOUS))
                .isEqualTo("claim org.tenant missing, expected one of [acme, globex]");
        assertThat(tenant.explainFailure(withClaims(Map.of("org", Map.of("tenant", "x".repeat(100))))))
                .isEqualTo("claim org.tenant is " + "x".repeat(64) + "..., expected one of [acme, globex]");
        assertThat(tenant).hasToString("claim org.tenant in [acme, globex]");
        assertThat(((ClaimMatcher) claim("a", "x", "y", "x")).values()).containsExactly("x", "y");
    }

    @Test
    void comparesClaimsExactlyAsClaimPathDoes() {
        List<String> configured = List.of("gold", "3", "007", "+4", "-5", "1.5", "1.50", "2.0", "true", "false",
                "NaN", "Infinity", "1.0E20", "100000000000000000000", "9007199254740993", "0");
        List<Object> claims = new ArrayList<>(List.of("gold", "Gold", "3", 3L, 3, (short) 3, (byte) 3, 3.0, 3.5f, 7L,
                4L, -5L, -5.0, 1.5, 1.5f, 2.0, 2L, true, false, Double.NaN, Double.POSITIVE_INFINITY, 1e20,
                new BigInteger("100000000000000000000"), new BigDecimal("1.50"), new BigDecimal("3"),
                9007199254740993L, 9007199254740993.0, -0.0, 0L, Map.of("gold", "gold"), List.of(List.of("gold"))));
        claims.add(List.copyOf(claims.subList(0, 3)));
        claims.add(Set.of(3L));

        for (String value : configured) {
            ClaimMatcher matcher = ClaimMatcher.of(ClaimPath.compile("c"), List.of(value));
            for (Object claim : claims) {
                AccessRequest request = withClaims(Map.of("c", claim));
                assertThat(matcher.matches(request))
                        .as("claim %s (%s) against [%s]", claim, claim.getClass().getSimpleName(), value)
                        .isEqualTo(ClaimPath.compile("c").matchesAny(Map.of("c", claim), Set.of(value)));
            }
        }
    }

    @Test
    void rejectsEmptyClaimValues() {
        assertThatThrownBy(() -> ClaimMatcher.of(ClaimPath.compile("tier"), List.of()))
                .hasMessage("[] is not a valid claim condition for tier (expected: at least one value, e.g. [acme])");
    }

    @Test
    void identityPredicatesFailForWantOfIdentityAndOthersDoNot() {
        assertThat(authenticated(true).failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(roles("admin").failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(allRoles("admin").failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(claim("tier", "gold").failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(authenticated(false).failsForWantOfIdentity(ALICE)).isFalse();
        assertThat(methods("POST").failsForWantOfIdentity(ANONYMOUS)).isFalse();
        assertThat(ip("10.0.0.0/8").failsForWantOfIdentity(ANONYMOUS)).isFalse();

        assertThat(authenticated(false).holdsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(methods("GET").holdsForWantOfIdentity(ANONYMOUS)).isFalse();
        assertThat(RequestMatcher.always().holdsForWantOfIdentity(ANONYMOUS)).isFalse();
    }

    @Test
    void allNeedsIdentityWhenAnyFailingConditionDoesWhateverTheOrder() {
        RequestMatcher ipThenRole = AllOf.of(List.of(ip("10.0.0.0/8"), roles("admin")));
        RequestMatcher roleThenIp = AllOf.of(List.of(roles("admin"), ip("10.0.0.0/8")));
        RequestMatcher ipThenMethod = AllOf.of(List.of(ip("10.0.0.0/8"), methods("POST")));

        assertThat(ipThenRole.failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(ipThenRole.failsForWantOfIdentity(get("/").ip("10.1.1.1").build())).isTrue();
        assertThat(roleThenIp.failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(ipThenMethod.failsForWantOfIdentity(ANONYMOUS)).isFalse();

        RequestMatcher postByGuest = AllOf.of(List.of(methods("POST"), authenticated(false)));
        assertThat(postByGuest.holdsForWantOfIdentity(request("POST", "/").build())).isTrue();
        assertThat(AllOf.of(List.of(methods("POST"), ip("0.0.0.0/0")))
                .holdsForWantOfIdentity(request("POST", "/").build())).isFalse();
    }

    @Test
    void anyNeedsIdentityWhenAnyBranchDoes() {
        RequestMatcher officeOrPartner = AnyOf.of(List.of(ip("10.0.0.0/8"), roles("partner")));
        RequestMatcher officeOrPost = AnyOf.of(List.of(ip("10.0.0.0/8"), methods("POST")));

        assertThat(officeOrPartner.failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(officeOrPost.failsForWantOfIdentity(ANONYMOUS)).isFalse();

        RequestMatcher guestOrOffice = AnyOf.of(List.of(authenticated(false), ip("10.0.0.0/8")));
        assertThat(guestOrOffice.holdsForWantOfIdentity(ANONYMOUS)).isTrue();
        // In the office the request is let through whatever its identity: authenticating would not change that.
        assertThat(guestOrOffice.holdsForWantOfIdentity(get("/").ip("10.1.1.1").build())).isFalse();
    }

    @Test
    void aFailureForWantOfIdentityIsExplainedByThePredicateThatNeedsOne() {
        RequestMatcher ipThenRole = AllOf.of(List.of(ip("10.0.0.0/8"), roles("admin")));
        RequestMatcher ipThenClaim = AllOf.of(List.of(methods("POST"), ip("10.0.0.0/8"), claim("tier", "gold")));

        assertThat(ipThenRole.explainFailure(ANONYMOUS)).isEqualTo("ip 192.0.2.1 not in [10.0.0.0/8]");
        assertThat(ipThenRole.explainFailureForWantOfIdentity(ANONYMOUS)).isEqualTo("role admin missing");
        assertThat(ipThenClaim.explainFailureForWantOfIdentity(ANONYMOUS))
                .isEqualTo("claim tier missing, expected one of [gold]");
        assertThat(AllOf.of(List.of(ip("10.0.0.0/8"), authenticated(true))).explainFailureForWantOfIdentity(ANONYMOUS))
                .isEqualTo("not authenticated");

        RequestMatcher officeAdminOrPartner = AnyOf.of(List.of(ipThenRole, roles("partner"), methods("POST")));
        assertThat(officeAdminOrPartner.explainFailureForWantOfIdentity(ANONYMOUS))
                .isEqualTo("none of: role admin missing; role partner missing; method GET not in [POST]");

        // not: {not: ...} asks the inner condition the same question
        RequestMatcher twiceNegated = Not.of(Not.of(ipThenRole));
        assertThat(twiceNegated.failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(twiceNegated.explainFailure(ANONYMOUS)).isEqualTo("ip 192.0.2.1 not in [10.0.0.0/8]");
        assertThat(twiceNegated.explainFailureForWantOfIdentity(ANONYMOUS)).isEqualTo("role admin missing");
        RequestMatcher notGuestPost = Not.of(AllOf.of(List.of(methods("POST"), authenticated(false))));
        assertThat(notGuestPost.explainFailureForWantOfIdentity(request("POST", "/").build()))
                .isEqualTo("method POST in [POST] and not authenticated");
    }

    @Test
    void notSwapsTheQuestions() {
        RequestMatcher notGuest = Not.of(authenticated(false));
        RequestMatcher notAdmin = Not.of(roles("admin"));
        RequestMatcher noGuestPosts = Not.of(AllOf.of(List.of(methods("POST"), authenticated(false))));

        assertThat(notGuest.failsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(noGuestPosts.failsForWantOfIdentity(request("POST", "/").build())).isTrue();
        assertThat(Not.of(methods("GET")).failsForWantOfIdentity(ANONYMOUS)).isFalse();
        assertThat(notAdmin.holdsForWantOfIdentity(ANONYMOUS)).isTrue();
        assertThat(Not.of(notGuest).holdsForWantOfIdentity(ANONYMOUS)).isTrue();
    }

    @Test
    void accessRequestsWithoutIdentityAreAnonymousAndARejectedTokenLeavesThemSo() {
        IpAddress ip = IpAddress.parse("192.0.2.1");
        AccessRequest plain = new AccessRequest("GET", "/", "", ip, ip, RequestHeaders.of(Map.of()));

        assertThat(plain.identity()).isSameAs(Identity.ANONYMOUS);
        assertThat(plain.tokenRejection()).isNull();
        assertThatThrownBy(() -> new AccessRequest("GET", "/", "", ip, ip, RequestHeaders.of(Map.of()),
                forwarded("bob"), RejectReason.BAD_SIGNATURE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a request whose token was rejected (bad_signature) has a forwarded identity"
                        + " (expected: anonymous)");
    }

    private static AccessRequest withClaims(Map<String, Object> claims) {
        return get("/").as(jwt("carol", Set.of(), claims)).build();
    }
}
