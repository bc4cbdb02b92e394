package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.identity.JwtProviderSettings;
import dev.portcullis.core.identity.KeySource;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.SigningAlgorithm;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Effect;
import dev.portcullis.core.policy.Mode;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.Rule;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final Path VALID = resourceFolder("/config/valid");

    @Test
    void minimalConfigTakesEveryDefault() throws Exception {
        CompiledConfig config = loadValid("minimal.yaml");

        assertThat(config.source()).isEqualTo("minimal.yaml");
        assertThat(config.listen()).isEqualTo(new HostPort("0.0.0.0", 8080));
        assertThat(config.adminListen()).isEqualTo(new HostPort("127.0.0.1", 9901));
        assertThat(config.watch()).isFalse();
        assertThat(config.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.upstream()).isEqualTo(new UpstreamSettings("http", "127.0.0.1", 3000, "127.0.0.1:3000",
                Duration.ofSeconds(2), Duration.ofSeconds(30), 512, false));
        assertThat(config.limits()).isEqualTo(new Limits(8 * 1024, 16 * 1024, 10L * 1024 * 1024,
                Duration.ofSeconds(10), Duration.ofSeconds(60), 10_000, false));
        assertThat(config.clientIps().trustedProxies().size()).isZero();
        assertThat(config.policy().rules()).isEmpty();
        assertThat(config.policy().defaultEffect()).isEqualTo(Effect.DENY);
        assertThat(config.identity()).isEqualTo(IdentitySettings.NONE);
        assertThat(config.identity().jwtProviders()).isEmpty();
        assertThat(config.identity().forwarded()).isNull();
        assertThat(config.identity().upstreamHeaders())
                .isEqualTo(new UpstreamIdentityHeaders("X-Auth-Subject", "X-Auth-Roles"));
    }

    @Test
    void caseInsensitivePathsFoldPathsForEveryPathCondition() throws Exception {
        byte[] yaml = """
                upstream: { url: "http://127.0.0.1:3000", case_insensitive_paths: true }
                default: allow
                rules:
                  - name: admin
                    match: { any: [ { paths: ["/Admin/**"] } ] }
                    action: deny
                """.getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("ci.yaml", yaml, VALID);

        assertThat(config.upstream().caseInsensitivePaths()).isTrue();
        assertThat(config.policy().caseInsensitivePaths()).isTrue();
        for (String path : List.of("/ADMIN/x", "/admin/x/", "/aDmIn")) {
            assertThat(config.policy().evaluate(request("GET", path, Identity.ANONYMOUS, null)).rule())
                    .as(path).isEqualTo("admin");
        }
        assertThat(config.policy().evaluate(request("GET", "/administrator", Identity.ANONYMOUS, null)).rule())
                .isNull();
        assertThat(loadValid("minimal.yaml").policy().caseInsensitivePaths()).isFalse();
    }

    @Test
    void identityWrittenWithoutValuesTakesTheDefaults() throws Exception {
        byte[] yaml = "upstream: { url: \"http://127.0.0.1:3000\" }\nidentity:\n  jwt:\n  upstream_headers: {}\n"
                .getBytes(StandardCharsets.UTF_8);

        assertThat(ConfigLoader.load("i.yaml", yaml, VALID).identity()).isEqualTo(IdentitySettings.NONE);
    }

    @Test
    void singleJwtProviderCompilesAsWrittenWithItsKeyFileResolvedAgainstTheConfigFolder() throws Exception {
        CompiledConfig config = loadValid("identity-single-provider.yaml");

        assertThat(config.identity().jwtProviders()).containsExactly(new JwtProviderSettings(
                "https://auth.example.com/", List.of("orders-api"),
                Set.of(SigningAlgorithm.ES256, SigningAlgorithm.RS256),
                new KeySource.JwksFile(VALID.resolve("keys/jwks.json")), JwtProviderSettings.DEFAULT_JWKS_REFRESH,
                "preferred_username", "realm_access.roles", Duration.ofSeconds(10)));
        assertThat(config.identity().forwarded()).isNull();
        assertThat(config.identity().upstreamHeaders()).isEqualTo(UpstreamIdentityHeaders.DEFAULT);
    }

    @Test
    void listOfJwtProvidersCompilesEachWithItsOwnKeySourceAndDefaults() throws Exception {
        CompiledConfig config = loadValid("identity-providers.yaml");

        List<JwtProviderSettings> providers = config.identity().jwtProviders();
        assertThat(providers).containsExactly(
                JwtProviderSettings.of("https://files.example.com/",
                        new KeySource.JwksFile(VALID.resolve("keys/jwks.json"))),
                JwtProviderSettings.of("https://url.example.com/",
                                new KeySource.JwksUrl(URI.create("https://url.example.com/.well-known/jwks.json")))
                        .withAudiences(List.of("orders-api", "billing-api"))
                        .withJwksRefresh(Duration.ofMinutes(1)),
                JwtProviderSettings.of("https://pem.example.com/",
                                new KeySource.PublicKeyFile(VALID.resolve("keys/public.pem")))
                        .withAlgorithms(Set.of(SigningAlgorithm.EdDSA, SigningAlgorithm.PS512))
                        .withClockSkew(Duration.ZERO),
                JwtProviderSettings.of("https://hmac.example.com/", new KeySource.SecretEnv("JWT_HMAC_SECRET")));
        // Without algorithms: every asymmetric one for key files and URLs, HS256 for a secret (the identity defaults).
        assertThat(providers.get(0).algorithms())
                .isEqualTo(SigningAlgorithm.defaultsFor(providers.get(0).keySource()))
                .doesNotContain(SigningAlgorithm.HS256, SigningAlgorithm.HS384, SigningAlgorithm.HS512)
                .hasSize(10);
        assertThat(providers.get(3).algorithms()).containsExactly(SigningAlgorithm.HS256);
        ForwardedIdentity forwarded = config.identity().forwarded();
        assertThat(forwarded.userHeader()).isEqualTo("X-Forwarded-User");
        assertThat(forwarded.rolesHeader()).isNull();
        assertThat(forwarded.trustedProxies().cidrs()).containsExactly(Cidr.parse("10.0.0.7/32"));
        assertThat(config.identity().upstreamHeaders()).isEqualTo(new UpstreamIdentityHeaders("X-User", "X-Groups"));
    }

    @Test
    void forwardedIdentityKeepsTheDefaultUpstreamHeaders() throws Exception {
        CompiledConfig config = loadValid("identity-forwarded.yaml");

        IdentitySettings identity = config.identity();
        assertThat(identity.jwtProviders()).isEmpty();
        assertThat(identity.upstreamHeaders()).isEqualTo(UpstreamIdentityHeaders.DEFAULT);
        assertThat(identity.forwarded().userHeader()).isEqualTo("X-Forwarded-User");
        assertThat(identity.forwarded().rolesHeader()).isEqualTo("X-Forwarded-Groups");
        assertThat(identity.forwarded().trustedProxies().cidrs()).containsExactly(Cidr.parse("127.0.0.1/32"));
        assertThat(config.warnings()).isEmpty();
    }

    @Test
    void forwardedIdentityIsTrustedOnlyFromItsOwnProxiesNotFromClientTrustedProxies() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "clients: { trusted_proxies: [\"10.0.0.0/8\"] }\n"
                + "identity:\n  forwarded:\n    trusted_proxies: [\"10.0.0.7/32\", \"2001:db8::7\"]\n"
                + "    user_header: X-Forwarded-User\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("f.yaml", yaml, VALID);

        ForwardedIdentity forwarded = config.identity().forwarded();
        assertThat(config.clientIps().isTrusted(IpAddress.parse("10.9.9.9"))).isTrue();
        assertThat(forwarded.trusts(IpAddress.parse("10.9.9.9"))).isFalse();
        assertThat(forwarded.trusts(IpAddress.parse("10.0.0.7"))).isTrue();
        assertThat(forwarded.trusts(IpAddress.parse("::ffff:10.0.0.7"))).isTrue();
        assertThat(forwarded.trusts(IpAddress.parse("10.0.0.8"))).isFalse();
        assertThat(forwarded.trusts(IpAddress.parse("2001:db8::7"))).isTrue();
        assertThat(forwarded.trusts(IpAddress.parse("2001:db8::8"))).isFalse();
        assertThat(config.warnings()).isEmpty();
    }

    @Test
    void warnsThatAPathGlobWithAReservedCharacterDoesNotMatchItsPercentEncodedSpelling() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "rules:\n"
                + "  - name: no-delete\n"
                + "    match: { paths: [\"/v1/**\", \"/v1/*:delete\", \"/u/*@x/a:b:c\"] }\n"
                + "    action: deny\n"
                + "  - name: both-spellings\n"
                + "    match: { paths: [\"/v2/*:delete\", \"/v2/*%3Adelete\"] }\n"
                + "    action: deny\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("w.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "w.yaml:4:32: rules[0].match.paths[1]: warning: \"/v1/*:delete\" has :, which a request may also"
                        + " send percent-encoded: that spelling does not match this pattern, and an upstream that"
                        + " decodes it sees the same path (add \"/v1/*%3Adelete\" to the list)",
                "w.yaml:4:48: rules[0].match.paths[2]: warning: \"/u/*@x/a:b:c\" has @ :, which a request may also"
                        + " send percent-encoded: that spelling does not match this pattern, and an upstream that"
                        + " decodes it sees the same path (add \"/u/*%40x/a%3Ab%3Ac\" to the list)");
    }

    @Test
    void warnsButLoadsWhenTheIdentityProxyRangeIsWiderThanASlash16OrSlash48() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "identity:\n  forwarded:\n"
                + "    trusted_proxies: [\"10.0.0.0/8\", \"10.1.0.0/16\", \"2001:db8::/32\", \"2001:db9::/48\"]\n"
                + "    user_header: X-Forwarded-User\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("w.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "w.yaml:4:23: identity.forwarded.trusted_proxies[0]: warning: \"10.0.0.0/8\" is wider than a /16:"
                        + " every address in it may name any user (expected: the authenticating proxy's own"
                        + " address, e.g. 10.0.0.7/32)",
                "w.yaml:4:52: identity.forwarded.trusted_proxies[2]: warning: \"2001:db8::/32\" is wider than a"
                        + " /48: every address in it may name any user (expected: the authenticating proxy's own"
                        + " address, e.g. 2001:db8::7/128)");
        assertThat(config.identity().forwarded().trusts(IpAddress.parse("10.200.0.1"))).isTrue();
    }

    @Test
    void warnsOfGetWithoutHeadInARuleThatDeniesOrRequiresButStillMatchesOnlyTheListedMethods() throws Exception {
        byte[] yaml = """
                upstream: { url: "http://127.0.0.1:3000" }
                default: allow
                rules:
                  - { name: secret, match: { paths: [/secret], methods: [GET] }, action: deny }
                  - name: admin
                    match: { paths: ["/admin/**"], methods: [GET, POST] }
                    require: { roles: [admin] }
                  - name: read-only
                    match: { paths: ["/r/**"] }
                    require: { methods: [GET] }
                """.getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("m.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "m.yaml:4:57: rules[0].match.methods: warning: GET without HEAD: a HEAD request is not matched by"
                        + " this rule and goes on to the rules after it, though most upstreams answer HEAD with their"
                        + " GET handler (expected: [GET, HEAD])",
                "m.yaml:6:45: rules[1].match.methods: warning: GET without HEAD: a HEAD request is not matched by"
                        + " this rule and goes on to the rules after it, though most upstreams answer HEAD with their"
                        + " GET handler (expected: [GET, HEAD, POST])",
                "m.yaml:10:25: rules[2].require.methods: warning: GET without HEAD: a HEAD request this rule matches"
                        + " is denied while GET is allowed, though most upstreams answer HEAD with their GET handler"
                        + " (expected: [GET, HEAD])");
        // only a warning: SPEC 3.2 matches the listed methods alone
        Policy policy = config.policy();
        assertThat(policy.evaluate(request("GET", "/secret", Identity.ANONYMOUS, null)).rule()).isEqualTo("secret");
        assertThat(policy.evaluate(request("HEAD", "/secret", Identity.ANONYMOUS, null)).rule()).isNull();
        assertThat(policy.evaluate(request("HEAD", "/admin/x", Identity.ANONYMOUS, null)).rule()).isNull();
    }

    @Test
    void getWithHeadOrARuleThatOnlyAllowsLoadsWithoutWarning() throws Exception {
        byte[] yaml = """
                upstream: { url: "http://127.0.0.1:3000" }
                rules:
                  - { name: secret, match: { paths: [/secret], methods: [HEAD, GET] }, action: deny }
                  - { name: writes, match: { methods: [POST, PUT] }, action: deny }
                  - name: admin
                    match: { paths: ["/admin/**"], methods: [GET, HEAD] }
                    require: { roles: [admin], methods: [GET, HEAD, OPTIONS] }
                  - { name: health, match: { paths: [/healthz], methods: [GET] } }
                  - { name: empty-require, match: { methods: [GET] }, require: {} }
                  - { name: nested, match: { any: [ { methods: [GET] } ] }, action: deny }
                """.getBytes(StandardCharsets.UTF_8);

        assertThat(ConfigLoader.load("m.yaml", yaml, VALID).warnings()).isEmpty();
    }

    @Test
    void warnsOfACidrWithHostBitsSetInEveryCidrListAndReadsItMasked() throws Exception {
        byte[] yaml = """
                upstream: { url: "http://127.0.0.1:3000" }
                clients: { trusted_proxies: ["10.0.0.1/8", "10.0.0.0/8"] }
                identity:
                  forwarded:
                    trusted_proxies: ["10.0.0.7/24", "10.0.1.7"]
                    user_header: X-Forwarded-User
                rules:
                  - name: block
                    match: { ip: ["2001:db8::1/32", "::ffff:192.0.2.1/120", "198.51.100.7/32"] }
                    action: deny
                  - name: office
                    require: { not: { ip: ["10.20.1.5/16"] } }
                """.getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("h.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "h.yaml:2:30: clients.trusted_proxies[0]: warning: \"10.0.0.1/8\" has host bits set: it is read as"
                        + " 10.0.0.0/8 (expected: 10.0.0.0/8, or 10.0.0.1/32 for one address)",
                "h.yaml:5:23: identity.forwarded.trusted_proxies[0]: warning: \"10.0.0.7/24\" has host bits set: it"
                        + " is read as 10.0.0.0/24 (expected: 10.0.0.0/24, or 10.0.0.7/32 for one address)",
                "h.yaml:9:19: rules[0].match.ip[0]: warning: \"2001:db8::1/32\" has host bits set: it is read as"
                        + " 2001:db8::/32 (expected: 2001:db8::/32, or 2001:db8::1/128 for one address)",
                "h.yaml:9:37: rules[0].match.ip[1]: warning: \"::ffff:192.0.2.1/120\" has host bits set: it is read"
                        + " as 192.0.2.0/24 (expected: 192.0.2.0/24, or 192.0.2.1/32 for one address)",
                "h.yaml:12:28: rules[1].require.not.ip[0]: warning: \"10.20.1.5/16\" has host bits set: it is read"
                        + " as 10.20.0.0/16 (expected: 10.20.0.0/16, or 10.20.1.5/32 for one address)");
        assertThat(config.clientIps().isTrusted(IpAddress.parse("10.9.9.9"))).isTrue();
        assertThat(config.identity().forwarded().trusts(IpAddress.parse("10.0.0.200"))).isTrue();
    }

    @Test
    void aCidrWithoutHostBitsOrABareAddressLoadsWithoutWarning() throws Exception {
        byte[] yaml = """
                upstream: { url: "http://127.0.0.1:3000" }
                clients: { trusted_proxies: ["10.0.0.0/8", "10.0.0.1", "10.0.0.1/32", "2001:db8::1"] }
                rules:
                  - name: block
                    match: { ip: ["::ffff:192.0.2.0/120", "::ffff:192.0.2.1", "2001:db8::/32", "2001:db8::1/128",
                                  "::/0", "0.0.0.0/0", "::ffff:0.0.0.0/96"] }
                    action: deny
                """.getBytes(StandardCharsets.UTF_8);

        assertThat(ConfigLoader.load("h.yaml", yaml, VALID).warnings()).isEmpty();
    }

    @Test
    void warnsButLoadsWhenClientTrustedProxiesHoldASlash0() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "clients:\n  trusted_proxies: [\"0.0.0.0/0\", \"::/0\", \"::ffff:0.0.0.0/96\", \"0.0.0.0/1\"]\n")
                .getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("p.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "p.yaml:3:21: clients.trusted_proxies[0]: warning: \"0.0.0.0/0\" trusts every IPv4 peer: any client"
                        + " can choose its client IP with X-Forwarded-For (expected: your load balancers' or proxies'"
                        + " addresses)",
                "p.yaml:3:34: clients.trusted_proxies[1]: warning: \"::/0\" trusts every peer, IPv4 and IPv6: any"
                        + " client can choose its client IP with X-Forwarded-For (expected: your load balancers' or"
                        + " proxies' addresses)",
                "p.yaml:3:42: clients.trusted_proxies[2]: warning: \"::ffff:0.0.0.0/96\" trusts every IPv4 peer: any"
                        + " client can choose its client IP with X-Forwarded-For (expected: your load balancers' or"
                        + " proxies' addresses)");
        assertThat(config.clientIps().isTrusted(IpAddress.parse("203.0.113.9"))).isTrue();
        assertThat(config.clientIps().isTrusted(IpAddress.parse("2001:db8::9"))).isTrue();
    }

    @Test
    void warnsOfAClockSkewOverFiveMinutesAndOfAJwksUrlOverPlainHttpToAnotherMachine() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "identity:\n  jwt:\n    - issuer: https://a.example.com/\n      audience: a\n"
                + "      jwks_url: http://keys.example.com/jwks.json\n      clock_skew: 100000h\n"
                + "    - issuer: https://b.example.com/\n      audience: b\n"
                + "      jwks_url: http://127.0.0.1:8081/jwks.json\n      clock_skew: 5m\n"
                + "    - issuer: https://c.example.com/\n      audience: c\n"
                + "      jwks_url: https://c.example.com/jwks.json\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("a.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "a.yaml:6:17: identity.jwt[0].jwks_url: warning: \"http://keys.example.com/jwks.json\" is fetched"
                        + " over plain http: whoever can change the answer on the way can add signing keys (expected:"
                        + " an https URL, or a loopback address for a local key server)",
                "a.yaml:7:19: identity.jwt[0].clock_skew: warning: clock_skew of 6000000 minutes accepts tokens that"
                        + " long after their exp, and before their nbf (expected: seconds to a few minutes, e.g. 30s;"
                        + " more than 5m is warned about)");
    }

    @Test
    void warnsThatARateLimitOnAnAuditRuleHasNoEffect() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "rate_limits:\n  l: { key: client_ip, limit: 1, per: 1h }\n"
                + "rules:\n  - { name: dry, mode: audit, rate_limit: l }\n"
                + "  - { name: live, rate_limit: l }\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("a.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "a.yaml:5:43: rules[0].rate_limit: warning: rate_limit has no effect on a rule with mode audit: its"
                        + " requests are neither counted nor limited, and its audit outcome never says 429 (expected:"
                        + " no rate_limit here, or mode enforce)");
    }

    @Test
    void warnsWhenAJwtProviderHasNoAudience() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "identity:\n  jwt:\n    - issuer: https://a.example.com/\n"
                + "      jwks_url: https://a.example.com/jwks.json\n"
                + "    - issuer: https://b.example.com/\n      audience: orders-api\n"
                + "      jwks_url: https://b.example.com/jwks.json\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("a.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "a.yaml:4:7: identity.jwt[0]: warning: no audience: tokens this issuer made for any other service"
                        + " are accepted too (expected: audience naming this service, e.g. [orders-api])");
    }

    @Test
    void warnsWhenJwksRefreshIsGivenWithAKeySourceThatIsNeverRefreshed() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "identity:\n  jwt:\n    issuer: https://a.example.com/\n    audience: api\n"
                + "    jwks_file: keys/jwks.json\n    jwks_refresh: 10m\n").getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("r.yaml", yaml, VALID);

        assertThat(config.warnings()).extracting(ConfigProblem::renderAsWarning).containsExactly(
                "r.yaml:7:19: identity.jwt.jwks_refresh: warning: jwks_refresh has no effect here: only keys fetched"
                        + " from a jwks_url are refreshed, this provider has jwks_file (expected: no jwks_refresh,"
                        + " or a jwks_url)");
        assertThat(config.identity().jwtProviders()).hasSize(1);
    }

    @Test
    void requireExpDefaultsToTrueAndTypesToNoCheck() throws Exception {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "identity:\n  jwt:\n    - issuer: https://a.example.com/\n      audience: api\n"
                + "      jwks_url: https://a.example.com/jwks.json\n"
                + "    - issuer: https://b.example.com/\n      audience: api\n"
                + "      jwks_url: https://b.example.com/jwks.json\n"
                + "      require_exp: false\n      types: [at+jwt, JWT]\n").getBytes(StandardCharsets.UTF_8);

        List<JwtProviderSettings> providers = ConfigLoader.load("e.yaml", yaml, VALID).identity().jwtProviders();

        assertThat(providers.get(0).requireExp()).isTrue();
        assertThat(providers.get(0).types()).isEmpty();
        assertThat(providers.get(1).requireExp()).isFalse();
        assertThat(providers.get(1).types()).containsExactlyInAnyOrder("at+jwt", "JWT");
    }

    @Test
    void keyFilesAreCheckedToExistButNotReadWhenLoading() throws Exception {
        CompiledConfig config = loadValid("identity-unread-key.yaml");

        assertThat(config.identity().jwtProviders()).singleElement().satisfies(provider -> {
            assertThat(provider.issuer()).isNull();
            assertThat(provider.keySource())
                    .isEqualTo(new KeySource.PublicKeyFile(VALID.resolve("keys/not-a-key.pem")));
        });
    }

    @Test
    void relativeKeyFilesOfALoadedPathResolveAgainstItsFolder() throws Exception {
        CompiledConfig config = ConfigLoader.load(VALID.resolve("identity-single-provider.yaml"));

        assertThat(config.identity().jwtProviders().get(0).keySource())
                .isEqualTo(new KeySource.JwksFile(VALID.toAbsolutePath().resolve("keys/jwks.json")));
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load("moved.yaml",
                Files.readAllBytes(VALID.resolve("identity-single-provider.yaml")), VALID.resolve("keys")));
        assertThat(e.problems()).extracting(ConfigProblem::render).containsExactly("moved.yaml:10:16: identity.jwt"
                + ".jwks_file: \"keys/jwks.json\" does not exist (expected: a JWK set file; relative paths resolve"
                + " against the config file's folder)");
    }

    @Test
    void identityConditionsDecideWith401ForAnonymousRequests() throws Exception {
        Policy policy = loadValid("identity-single-provider.yaml").policy();

        assertThat(policy.evaluate(request("GET", "/healthz", Identity.ANONYMOUS, null)))
                .extracting(Decision::effect, Decision::rule, Decision::status)
                .containsExactly(Effect.ALLOW, "health", 200);
        assertThat(policy.evaluate(request("GET", "/healthz", jwt(Set.of(), Map.of()), null)))
                .extracting(Decision::status, Decision::reason)
                .containsExactly(403, "rule health: authenticated by jwt, expected anonymous");

        Decision expired =
                policy.evaluate(request("GET", "/api/orders", Identity.ANONYMOUS, RejectReason.TOKEN_EXPIRED));
        assertThat(expired).extracting(Decision::effect, Decision::rule, Decision::status, Decision::reason)
                .containsExactly(Effect.DENY, "api", 401,
                        "rule api: not authenticated (token rejected: token_expired)");
        assertThat(expired.challenge()).isTrue();
        assertThat(policy.evaluate(request("DELETE", "/api/users/7", Identity.ANONYMOUS, null)))
                .extracting(Decision::status, Decision::reason)
                .containsExactly(401, "rule delete-users-admins-only: role admin missing");
        assertThat(policy.evaluate(request("DELETE", "/api/users/7", jwt(Set.of("user"), Map.of()), null)))
                .extracting(Decision::status, Decision::reason)
                .containsExactly(403, "rule delete-users-admins-only: role admin missing");
        assertThat(policy.evaluate(request("DELETE", "/api/users/7", jwt(Set.of("admin"), Map.of()), null)).rule())
                .isEqualTo("delete-users-admins-only");

        Set<String> billingStaff = Set.of("billing", "staff");
        Map<String, Object> acme = Map.of("org", Map.of("tenant", "acme"));
        // YAML 3 and true are compared as the text of the JSON claims 3 (or 3.0) and true.
        for (Object tier : List.of("gold", 3L, 3.0, "3", true)) {
            Map<String, Object> claims = Map.of("org", Map.of("tenant", "acme"), "tier", tier);
            assertThat(policy.evaluate(request("GET", "/api/billing/q1", jwt(billingStaff, claims), null)).allowed())
                    .as("tier %s", tier).isTrue();
        }
        assertThat(policy.evaluate(request("GET", "/api/billing/q1", jwt(billingStaff,
                Map.of("org", Map.of("tenant", "acme"), "tier", List.of("silver", "gold"))), null)).allowed()).isTrue();
        assertThat(policy.evaluate(request("GET", "/api/billing/q1", jwt(billingStaff, acme), null)))
                .extracting(Decision::status, Decision::reason)
                .containsExactly(403, "rule billing: claim tier missing, expected one of [gold, 3, true]");
        assertThat(policy.evaluate(request("GET", "/api/billing/q1", jwt(Set.of("staff"), acme), null)).reason())
                .isEqualTo("rule billing: roles [billing, staff] all required, missing billing");
    }

    @Test
    void fullConfigCompilesEveryValueAsWritten() throws Exception {
        CompiledConfig config = loadValid("full.yaml");

        assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 0));
        assertThat(config.adminListen()).isEqualTo(new HostPort("127.0.0.1", 0));
        assertThat(config.drainTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.upstream()).isEqualTo(new UpstreamSettings("http", "orders.internal", 8081,
                "orders.internal:8081", Duration.ofMillis(250), Duration.ofMinutes(5), 64, false));
        assertThat(config.limits()).isEqualTo(new Limits(512, 32 * 1024, 1L << 30,
                Duration.ofHours(1), Duration.ofSeconds(90), 100, true));
        assertThat(config.clientIps().trustedProxies().size()).isEqualTo(3);
        assertThat(config.clientIps().isTrusted(IpAddress.parse("10.1.2.3"))).isTrue();
        assertThat(config.clientIps().isTrusted(IpAddress.parse("fd00::1"))).isTrue();
        assertThat(config.clientIps().isTrusted(IpAddress.parse("192.0.2.1"))).isFalse();

        Policy policy = config.policy();
        assertThat(policy.defaultEffect()).isEqualTo(Effect.ALLOW);
        assertThat(policy.rules()).extracting(Rule::name).containsExactly("block-abusive-networks", "health",
                "hidden-admin", "tenants", "trial-block-posts", "everything-else");
        assertThat(policy.rules()).extracting(Rule::action).containsExactly(
                Effect.DENY, Effect.ALLOW, Effect.ALLOW, Effect.ALLOW, Effect.DENY, Effect.ALLOW);
        assertThat(policy.rules()).extracting(Rule::denyStatus).containsExactly(403, 403, 404, 403, 403, 403);
        assertThat(policy.rules()).extracting(Rule::mode).containsExactly(
                Mode.ENFORCE, Mode.ENFORCE, Mode.ENFORCE, Mode.ENFORCE, Mode.AUDIT, Mode.ENFORCE);
        assertThat(policy.rules().get(5).match()).isSameAs(RequestMatcher.always());
        assertThat(policy.rules().get(0).require()).isSameAs(RequestMatcher.always());
    }

    @Test
    void fullConfigPolicyDecidesAsTheRulesSay() throws Exception {
        Policy policy = loadValid("full.yaml").policy();

        assertThat(policy.evaluate(request("GET", "/healthz", "", "203.0.113.9", Map.of())))
                .extracting(Decision::effect, Decision::rule, Decision::status)
                .containsExactly(Effect.DENY, "block-abusive-networks", 403);
        assertThat(policy.evaluate(request("HEAD", "/healthz", "", "192.0.2.1", Map.of())).rule())
                .isEqualTo("health");

        assertThat(policy.evaluate(request("GET", "/admin/users", "x.admin.example.com", "10.20.3.4",
                Map.of("X-Admin-Token", List.of("t"))))).extracting(Decision::effect, Decision::rule)
                .containsExactly(Effect.ALLOW, "hidden-admin");
        assertThat(policy.evaluate(request("GET", "/admin/users", "admin.example.com", "192.0.2.1",
                Map.of("X-Admin-Token", List.of("t"))))).extracting(Decision::effect, Decision::rule, Decision::status)
                .containsExactly(Effect.DENY, "hidden-admin", 404);

        assertThat(policy.evaluate(request("PUT", "/t/7/orders", "", "192.0.2.1", Map.of())).rule())
                .isEqualTo("tenants");
        assertThat(policy.evaluate(request("DELETE", "/t/7/orders", "", "192.0.2.1", Map.of())).rule())
                .isEqualTo("everything-else");
        assertThat(policy.evaluate(request("DELETE", "/x", "", "192.0.2.1", Map.of("X-Tenant", List.of("acme"))))
                .rule()).isEqualTo("tenants");

        Decision audited = policy.evaluate(request("POST", "/x", "", "192.0.2.1", Map.of()));
        assertThat(audited.rule()).isEqualTo("everything-else");
        assertThat(audited.audit()).singleElement()
                .satisfies(outcome -> assertThat(outcome.rule()).isEqualTo("trial-block-posts"));
    }

    @Test
    void ipv6ListenersAndUpstreamKeepTheirHostsWithoutBrackets() throws Exception {
        CompiledConfig config = loadValid("ipv6.yaml");

        assertThat(config.listen()).isEqualTo(new HostPort("::", 8080));
        assertThat(config.listen()).hasToString("[::]:8080");
        assertThat(config.adminListen()).isEqualTo(new HostPort("::1", 9901));
        assertThat(config.upstream().host()).isEqualTo("::1");
        assertThat(config.upstream().port()).isEqualTo(3000);
        assertThat(config.upstream().authority()).isEqualTo("[::1]:3000");
        assertThat(config.clientIps().isTrusted(IpAddress.parse("::1"))).isTrue();

        Policy policy = config.policy();
        assertThat(policy.evaluate(request("GET", "/", "", "10.9.9.9", Map.of())).rule()).isEqualTo("v6-office");
        assertThat(policy.evaluate(request("GET", "/", "", "2001:db8:1::5", Map.of())).rule()).isEqualTo("v6-office");
        assertThat(policy.evaluate(request("GET", "/", "", "2001:db8:2::5", Map.of())).rule()).isNull();
    }

    @Test
    void portZeroOnBothListenersIsAllowed() throws Exception {
        CompiledConfig config = loadValid("ports-zero.yaml");

        assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 0));
        assertThat(config.adminListen()).isEqualTo(new HostPort("127.0.0.1", 0));
        InetSocketAddress address = config.listen().toSocketAddress();
        assertThat(address.getPort()).isZero();
        assertThat(address.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(config.upstream().host()).isEqualTo("localhost");
        assertThat(config.upstream().authority()).isEqualTo("localhost:3000");
    }

    @Test
    void ruleWithoutMatchOrWithEmptyMatchDecidesEveryRequest() throws Exception {
        Policy policy = loadValid("empty-match.yaml").policy();

        assertThat(policy.rules()).allSatisfy(rule -> {
            assertThat(rule.match()).isSameAs(RequestMatcher.always());
            assertThat(rule.require()).isSameAs(RequestMatcher.always());
        });
        Decision decision = policy.evaluate(request("GET", "/anything", "", "192.0.2.1", Map.of()));
        assertThat(decision.rule()).isEqualTo("second");
        assertThat(decision.effect()).isEqualTo(Effect.DENY);
        assertThat(decision.audit()).extracting(outcome -> outcome.rule()).containsExactly("first");
    }

    @Test
    void versionIsTheSha256OfTheFileBytes() throws Exception {
        byte[] yaml = Files.readAllBytes(VALID.resolve("minimal.yaml"));

        CompiledConfig config = ConfigLoader.load("minimal.yaml", yaml, VALID);

        assertThat(config.version()).isEqualTo("sha256:" + sha256Hex(yaml)).matches("sha256:[0-9a-f]{64}");
    }

    @Test
    void loadingAPathNamesTheFileAsGiven() throws Exception {
        Path file = VALID.resolve("minimal.yaml");

        CompiledConfig config = ConfigLoader.load(file);

        assertThat(config.source()).isEqualTo(file.toString());
        assertThat(config.version()).isEqualTo("sha256:" + sha256Hex(Files.readAllBytes(file)));
    }

    @Test
    void problemsOfALoadedPathNameTheFileAsGiven() {
        Path file = resourceFolder("/config/invalid").resolve("require-with-deny.yaml");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.problems()).singleElement()
                .satisfies(problem -> assertThat(problem.file()).isEqualTo(file.toString()));
        assertThat(e.getMessage()).startsWith("1 problem in " + file + ":\n" + file + ":6:14: ");
    }

    @Test
    void acceptsAByteOrderMarkAndWindowsLineEndings() throws Exception {
        byte[] yaml = "\uFEFFupstream:\r\n  url: \"http://127.0.0.1:3000\"\r\nlisten: \"[::]:8080\"\r\n"
                .getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("bom.yaml", yaml, VALID);

        assertThat(config.listen()).isEqualTo(new HostPort("::", 8080));
    }

    @Test
    void rejectsInvalidUtf8AtTheOffendingCharacter() {
        byte[] yaml = "upstream:\n  url: \"http://x\"\nlisten: \"ab\u00e9\"\n".getBytes(StandardCharsets.ISO_8859_1);

        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load("latin1.yaml", yaml, VALID));

        assertThat(e.problems()).extracting(ConfigProblem::render).containsExactly(
                "latin1.yaml:3:12: (root): invalid UTF-8 byte sequence (expected: a UTF-8 encoded file)");
    }

    @Test
    void refusesAFileOverTheSizeCapAsOneProblem(@TempDir Path dir) throws IOException, ConfigException {
        Path big = dir.resolve("big.yaml");
        Files.write(big, new byte[ConfigText.MAX_BYTES + 1]);
        Path atCap = dir.resolve("at-cap.yaml");
        byte[] padded = new byte[ConfigText.MAX_BYTES];
        Arrays.fill(padded, (byte) '\n');
        byte[] valid = "upstream: { url: \"http://127.0.0.1:3000\" }\n".getBytes(StandardCharsets.UTF_8);
        // the config at the end: SnakeYAML counts code points as it reads tokens, so its own limit (3 Mi code points
        // by default) would refuse a file at a larger byte cap
        System.arraycopy(valid, 0, padded, padded.length - valid.length, valid.length);
        Files.write(atCap, padded);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(big));

        assertThat(e.problems()).extracting(ConfigProblem::render).containsExactly(
                big + ":1:1: (root): file is larger than 1 MiB (expected: a file of at most 1 MiB)");
        assertThat(ConfigLoader.load(atCap).policy().rules()).isEmpty();
    }

    @Test
    void rejectsTabIndentationAsOneSyntaxProblem() {
        byte[] yaml = "upstream:\n\turl: \"http://127.0.0.1:3000\"\n".getBytes(StandardCharsets.UTF_8);

        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load("tabs.yaml", yaml, VALID));

        assertThat(e.problems()).singleElement().satisfies(problem -> {
            assertThat(problem.path()).isEmpty();
            assertThat(problem.message()).startsWith("invalid YAML: ").contains("TAB").doesNotContain("\n");
            assertThat(problem.render()).as("located at the tab itself").startsWith("tabs.yaml:2:1: ");
        });
    }

    @Test
    void locatesAnUnclosedQuoteWhereTheScannerFoundTheProblem() {
        byte[] yaml = "upstream:\n  url: \"http://127.0.0.1:3000\nrules: []\n".getBytes(StandardCharsets.UTF_8);

        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load("quote.yaml", yaml, VALID));

        // the end of the stream, where the quote was still open; not the ':' before the value
        assertThat(e.problems()).extracting(ConfigProblem::render).singleElement().asString()
                .startsWith("quote.yaml:4:1: (root): invalid YAML: while scanning a quoted scalar");
    }

    @Test
    void readsOnlyTrueAndFalseAsBooleansNotYamlOneOneWords() {
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "watch: yes\n"
                + "limits: { allow_get_body: on }\n").getBytes(StandardCharsets.UTF_8);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load("b.yaml", yaml, VALID));

        assertThat(e.problems()).extracting(ConfigProblem::render).containsExactly(
                "b.yaml:2:8: watch: expected true or false, got \"yes\"",
                "b.yaml:3:27: limits.allow_get_body: expected true or false, got \"on\"");
    }

    @Test
    void acceptsBooleansInAnyYamlCoreCase() throws Exception {
        byte[] yaml = "upstream: { url: \"http://127.0.0.1:3000\" }\nlimits: { allow_get_body: True }\nwatch: FALSE\n"
                .getBytes(StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load("b.yaml", yaml, VALID);

        assertThat(config.limits().allowGetBody()).isTrue();
        assertThat(config.watch()).isFalse();
    }

    @Test
    void quotesAndShortensOffendingValuesInMessages() {
        String longName = "x".repeat(150);
        byte[] yaml = ("upstream: { url: \"http://127.0.0.1:3000\" }\n"
                + "listen: \"a\\tb\\\"c\"\n"
                + longName + ": 1\n").getBytes(StandardCharsets.UTF_8);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load("q.yaml", yaml, VALID));

        assertThat(e.problems()).extracting(ConfigProblem::message).containsExactly(
                "\"a\\tb\\\"c\" is not a valid address (expected: host:port, e.g. 0.0.0.0:8080 or [::]:8080)",
                "unknown key \"" + "x".repeat(100) + "...\" (expected one of: listen, watch, drain_timeout, admin,"
                        + " upstream, limits, clients, identity, geoip, rate_limits, rate_limit_store, default, responses, rules)");
    }

    private static AccessRequest request(
            String method, String path, Identity identity, @Nullable RejectReason tokenRejection) {
        IpAddress ip = IpAddress.parse("192.0.2.1");
        return new AccessRequest(method, path, "", ip, ip, RequestHeaders.of(Map.of()), identity, tokenRejection);
    }

    private static Identity jwt(Set<String> roles, Map<String, Object> claims) {
        return new Identity("alice", roles, claims, IdentitySource.JWT, null);
    }

    private static AccessRequest request(
            String method, String path, String host, String clientIp, Map<String, List<String>> headers) {
        IpAddress ip = IpAddress.parse(clientIp);
        return new AccessRequest(method, path, host, ip, ip, RequestHeaders.of(headers));
    }

    private static CompiledConfig loadValid(String fileName) throws IOException, ConfigException {
        return ConfigLoader.load(fileName, Files.readAllBytes(VALID.resolve(fileName)), VALID);
    }

    private static String sha256Hex(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static Path resourceFolder(String name) {
        try {
            return Path.of(Objects.requireNonNull(ConfigLoaderTest.class.getResource(name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
