package dev.portcullis.server.it;

import static dev.portcullis.server.it.support.JwtMint.bearer;
import static dev.portcullis.server.it.support.JwtMint.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.JwtAssertions;
import dev.portcullis.server.it.support.JwtMint;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 3.5: forwarded identity (user / roles headers) believed only from a peer in
 * {@code identity.forwarded.trusted_proxies} (never merely from {@code clients.trusted_proxies}), never over a
 * presented token, stripped otherwise; upstream identity headers always replaced.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IdentityForwardedIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @TempDir
    static Path keysDir;

    static RSAKey rsa;
    static String jwksFile;

    @BeforeAll
    static void keys() throws Exception {
        rsa = JwtMint.rsa("fwd-rsa");
        jwksFile = JwtMint.writeJwks(keysDir.resolve("jwks.json"), List.of(rsa));
    }

    private static Probe trusted() throws Exception {
        return start("127.0.0.1/32", "127.0.0.1/32");
    }

    private static Probe untrusted() throws Exception {
        return start("10.0.0.0/8", "10.0.0.7/32");
    }

    /** The test client is a trusted proxy for client addresses (a load balancer), not the authenticating proxy. */
    private static Probe clientTrustedOnly() throws Exception {
        return start("127.0.0.0/8", "10.0.0.7/32");
    }

    private static Probe start(String clientCidr, String identityCidr) throws Exception {
        return new Probe(harness, harness.start("identity-forwarded.yaml",
                Map.of("JWKS_FILE", jwksFile, "CLIENT_CIDR", clientCidr, "IDENTITY_CIDR", identityCidr)));
    }

    @Test
    void believesForwardedIdentityFromATrustedProxy() throws Exception {
        Probe p = trusted();

        RecordedRequest up = p.allowed("/admin/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: admin,ops");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("alice");
        assertThat(up.headerValues("X-Auth-Roles")).hasSize(1);
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow()))
                .as("in the forwarded header's order").containsExactly("admin", "ops");

        RecordedRequest reversed = p.allowed("/all/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: ops, admin");
        assertThat(JwtAssertions.roles(reversed.header("X-Auth-Roles").orElseThrow())).containsExactly("ops", "admin");
        p.forbidden("/all/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");
        p.forbidden("/admin/x", "X-Forwarded-User: bob", "X-Forwarded-Groups: users");
        p.forbidden("/admin/x", "X-Forwarded-User: bob");
    }

    @Test
    void believesTheAuthenticatingProxyEvenWhenItIsNoClientAddressProxy() throws Exception {
        // identity.forwarded.trusted_proxies without clients.trusted_proxies: its X-Forwarded-User is an
        // identity header, not a forwarding header, so it is kept while its X-Forwarded-For is not believed
        Probe p = start("10.0.0.0/8", "127.0.0.1/32");

        RecordedRequest up = p.allowed("/admin/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: admin",
                "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Host: evil.example");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("alice");
        assertThat(up.headerValues("X-Forwarded-For")).containsExactly("127.0.0.1");
        assertThat(up.header("X-Forwarded-Host").orElseThrow()).doesNotContain("evil");
    }

    @Test
    void rolesWithoutAUserAreNotAnIdentity() throws Exception {
        Probe p = trusted();

        JwtAssertions.unauthorized(harness, p, false, "/admin/x", "X-Forwarded-Groups: admin");
    }

    @Test
    void ignoresAndStripsForwardedIdentityFromAnUntrustedPeer() throws Exception {
        Probe p = untrusted();

        JwtAssertions.unauthorized(harness, p, false, "/admin/x",
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");

        RecordedRequest up = p.allowed("/public/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: admin",
                "x-forwarded-user: alice2");
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-forwarded-user", "x-forwarded-groups", "x-auth-subject", "x-auth-roles");
    }

    @Test
    void aPeerTrustedForClientAddressesButNotForIdentityCannotImpersonateAnyone() throws Exception {
        Probe p = clientTrustedOnly();

        RawResponse denied = JwtAssertions.unauthorized(harness, p, false, "/admin/x",
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin", "X-Forwarded-For: 198.51.100.7");
        assertThat(denied.status()).isEqualTo(401);
        JwtAssertions.unauthorized(harness, p, false, "/all/x",
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin,ops");

        RecordedRequest up = p.allowed("/public/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: admin",
                "x_forwarded_user: alice2", "X-Forwarded-For: 198.51.100.7");
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-forwarded-user", "x-forwarded-groups", "x-auth-subject", "x-auth-roles");
        // still trusted for client addresses: its X-Forwarded-For is kept, with the peer appended
        assertThat(String.join(",", up.headerValues("X-Forwarded-For"))).contains("198.51.100.7");
    }

    @Test
    void aValidTokenStillWorksBehindAPeerTrustedOnlyForClientAddresses() throws Exception {
        Probe p = clientTrustedOnly();

        RecordedRequest up = p.allowed("/admin/x", bearer(JwtMint.sign(rsa, JWSAlgorithm.RS256,
                claims("tok-user", "admin").build())), "X-Forwarded-User: alice", "X-Forwarded-Groups: users");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("tok-user");
        assertThat(JwtAssertions.normalizedNames(up.headers()))
                .doesNotContain("x-forwarded-user", "x-forwarded-groups");
    }

    @Test
    void aValidTokenStillWorksBehindAnUntrustedPeer() throws Exception {
        Probe p = untrusted();

        RecordedRequest up = p.allowed("/admin/x", bearer(JwtMint.sign(rsa, JWSAlgorithm.RS256,
                claims("tok-user", "admin").build())), "X-Forwarded-User: alice", "X-Forwarded-Groups: users");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("tok-user");
        assertThat(JwtAssertions.normalizedNames(up.headers()))
                .doesNotContain("x-forwarded-user", "x-forwarded-groups");
    }

    @Test
    void aValidTokenWinsOverForwardedHeaders() throws Exception {
        Probe p = trusted();
        String token = JwtMint.sign(rsa, JWSAlgorithm.RS256, claims("tok-user", "user").build());

        RecordedRequest up = p.allowed("/public/x", bearer(token), "X-Forwarded-User: alice",
                "X-Forwarded-Groups: admin");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("tok-user");
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow())).containsExactly("user");
        p.forbidden("/admin/x", bearer(token), "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");
    }

    @Test
    void aRejectedTokenMakesTheRequestAnonymousWhateverForwardedHeadersSay() throws Exception {
        Probe p = trusted();
        RSAKey other = JwtMint.rsa("fwd-rsa");
        String forged = JwtMint.sign(other, JWSAlgorithm.RS256, claims("alice", "admin").build());

        JwtAssertions.unauthorized(harness, p, true, "/admin/x", bearer(forged),
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");
        JwtAssertions.unauthorized(harness, p, true, "/admin/x", "Authorization: Bearer not.a.jwt",
                "X-Forwarded-User: alice", "X-Forwarded-Groups: admin");

        RecordedRequest up = p.allowed("/public/x", bearer(forged), "X-Forwarded-User: alice",
                "X-Forwarded-Groups: admin");
        assertThat(JwtAssertions.normalizedNames(up.headers())).as("headers at the upstream: %s", up.headers())
                .doesNotContain("x-auth-subject", "x-auth-roles");
    }

    @Test
    void clientSentUpstreamIdentityHeadersAreReplacedForForwardedIdentities() throws Exception {
        Probe p = trusted();

        RecordedRequest up = p.allowed("/public/x", "X-Forwarded-User: alice", "X-Forwarded-Groups: users",
                "X-Auth-Subject: root", "X_Auth_Subject: root", "x-auth-roles: admin", "X_AUTH_ROLES: admin");
        assertThat(up.headerValues("X-Auth-Subject")).containsExactly("alice");
        assertThat(up.headerValues("X-Auth-Roles")).hasSize(1);
        assertThat(JwtAssertions.roles(up.header("X-Auth-Roles").orElseThrow())).containsExactly("users");
        assertThat(JwtAssertions.normalizedNames(up.headers()).stream()
                .filter(n -> n.equals("x-auth-subject") || n.equals("x-auth-roles")))
                .as("one subject and one roles header only: %s", up.headers())
                .hasSize(2);

        RecordedRequest anon = p.allowed("/public/x", "X-Auth-Subject: root", "X_Auth_Subject: root",
                "x_auth_roles: admin");
        assertThat(JwtAssertions.normalizedNames(anon.headers())).as("headers at the upstream: %s", anon.headers())
                .doesNotContain("x-auth-subject", "x-auth-roles");
    }
}
