package dev.portcullis.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * {@link Policy#evaluate}, which walks only the rules its {@link RuleIndex} leaves, decides exactly as
 * {@link Policy#evaluateLinear}, which walks every rule: same effect, rule, reason, status and audit outcomes, for
 * random policies (indexed and unindexed conditions, countries, referrers, nested under all, any and not, audit rules, case-insensitive
 * paths, conditions shared by several rules) and random requests drawn from the same small vocabularies, so that conditions often hold.
 */
class RuleIndexPropertiesTest {

    private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "get"};
    private static final String[] GLOBS = {"/", "/api/**", "/api/*/orders/**", "/API/**", "/a/b", "/a/*", "/**",
            "/*/x", "/a*/**", "/static/**", "/a/", "/api", "/%7Euser/**", "/a/**/z"};
    private static final String[] PATHS = {"/", "/api", "/api/", "/api/v1/orders/3", "/API/v1/Orders/3", "/a", "/a/b",
            "/a/b/", "/ab/c", "/x", "/q/x", "/API/x", "/static/a.css", "/apix", "/~user/p", "/a/q/r/z", "//a", "",
            "/api./v1", "/API%20/x", "/a./b.", "/.../a"};
    private static final String[] HOST_PATTERNS = {"api.example.com", "*.example.com", "example.com",
            "*.a.example.com", "x.org", "*.org", "API.Example.COM", "10.0.0.1"};
    private static final String[] HOSTS = {"api.example.com", "API.Example.com", "example.com", "b.a.example.com",
            "x.org", "x.org.", "", "example.com.", ".example.com", "q.example.com", "\u212Aa.example.com", "y.x.org",
            "10.0.0.1", "a.example.com"};
    private static final String[] CIDRS = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32", "0.0.0.0/0", "::/0",
            "2001:db8::/32", "2001:db8:1::/48", "192.168.0.0/16", "255.255.255.255/32",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "10.1.2.0/24", "::/128", "8.8.8.8/32"};
    private static final String[] IPS = {"10.1.2.3", "10.1.2.4", "10.200.0.1", "192.168.1.1", "8.8.8.8",
            "2001:db8:1::5", "2001:db8:2::1", "::1", "::", "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "11.0.0.0", "9.255.255.255"};
    private static final String[] ROLES = {"admin", "ops", "user"};
    private static final String[] COUNTRIES = {"GB", "DE", "ZZ"};
    private static final GeoLookup GEO = new GeoLookup() {
        @Override
        public String country(IpAddress address) {
            return COUNTRIES[Math.floorMod(address.hashCode(), COUNTRIES.length)];
        }

        @Override
        public long asn(IpAddress address) {
            return UNKNOWN_ASN;
        }
    };
    private static final String[] REFERRER_PATTERNS = {"none", "https://app.example.com/**", "*://*.example.com/a/*",
            "http://x.org/", "https://a*p.example.com/**", "*://*.*.example.com/**", "https://app.*.com/**",
            "*://*/**", "http://[2001:db8::1]/**", "https://APP.Example.com:8443/**", "*://ex*.com/a/*",
            "http://x.org:80/", "https://*.app.example.com/**"};
    private static final String[] REFERERS = {"https://app.example.com/orders?x=1", "http://b.example.com/a/q",
            "http://x.org", "not a url", "HTTPS://APP.example.com/", "https://app.example.com./a/b",
            "https://app.example.com:8443/x", "http://[2001:DB8::1]/a", "https://a.b.example.com/a/q",
            "http://x.org:80/", "https://example.com/a/q", "https://localhost/", "", "https://q.app.example.com/z",
            "http://X.ORG./?q", "https://app.example.com@evil.example/"};

    @Property(tries = 300)
    void indexedEvaluationDecidesAsTheLinearWalk(@ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean caseInsensitive = random.nextInt(4) == 0;
        int size = random.nextInt(3) == 0 ? 1 + random.nextInt(8) : 1 + random.nextInt(150);
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            rules.add(rule("r" + i, random, caseInsensitive));
        }
        Policy policy = new Policy(rules, random.nextBoolean() ? Effect.DENY : Effect.ALLOW, caseInsensitive);
        for (int r = 0; r < 60; r++) {
            AccessRequest request = request(random);
            assertThat(policy.evaluate(request))
                    .as("seed %d, request %s", seed, request)
                    .isEqualTo(policy.evaluateLinear(request));
        }
    }

    private static Rule rule(String name, SplittableRandom random, boolean caseInsensitive) {
        List<RequestMatcher> conjuncts = new ArrayList<>();
        int count = random.nextInt(5);
        for (int c = 0; c < count; c++) {
            RequestMatcher condition = condition(random, caseInsensitive);
            conjuncts.add(switch (random.nextInt(10)) {
                case 0 -> Not.of(condition);
                case 1 -> AnyOf.of(List.of(condition, condition(random, caseInsensitive)));
                case 2 -> AllOf.of(List.of(condition, condition(random, caseInsensitive)));
                default -> condition;
            });
        }
        RequestMatcher match = AllOf.of(conjuncts);
        Effect action = random.nextInt(3) == 0 ? Effect.DENY : Effect.ALLOW;
        RequestMatcher require = action == Effect.ALLOW && random.nextBoolean()
                ? condition(random, caseInsensitive) : RequestMatcher.always();
        Mode mode = random.nextInt(5) == 0 ? Mode.AUDIT : Mode.ENFORCE;
        return new Rule(name, match, require, action, random.nextBoolean() ? 403 : 404, mode);
    }

    private static RequestMatcher condition(SplittableRandom random, boolean caseInsensitive) {
        return switch (random.nextInt(9)) {
            case 8 -> CountryMatcher.of(pick(random, COUNTRIES, 1 + random.nextInt(2)));
            case 7 -> ReferrerMatcher.of(pick(random, REFERRER_PATTERNS, 1 + random.nextInt(2)));
            case 0 -> MethodMatcher.of(pick(random, METHODS, 1 + random.nextInt(2)).stream()
                    .filter(m -> !m.equals("get")).findFirst().map(List::of).orElse(List.of("PATCH")));
            case 1 -> {
                boolean ci = random.nextInt(6) == 0 ? !caseInsensitive : caseInsensitive;
                yield PathMatcher.of(pick(random, GLOBS, 1 + random.nextInt(3)).stream()
                        .map(glob -> PathGlob.compile(glob, ci)).toList());
            }
            case 2 -> HostMatcher.of(pick(random, HOST_PATTERNS, 1 + random.nextInt(3)).stream()
                    .map(HostPattern::compile).toList());
            case 3 -> {
                List<String> cidrs = pick(random, CIDRS, 1 + random.nextInt(3));
                yield IpMatcher.of(CidrSet.of(cidrs.stream().map(Cidr::parse).toList()), cidrs);
            }
            case 4 -> RoleMatcher.any(pick(random, ROLES, 1 + random.nextInt(2)));
            case 5 -> HeaderMatcher.of("X-Env", List.of("prod"));
            default -> AuthenticatedMatcher.of(random.nextBoolean());
        };
    }

    private static AccessRequest request(SplittableRandom random) {
        IpAddress client = IpAddress.parse(IPS[random.nextInt(IPS.length)]);
        Map<String, List<String>> headers = new HashMap<>();
        if (random.nextBoolean()) {
            headers.put("X-Env", List.of("prod"));
        }
        if (random.nextInt(3) > 0) {
            headers.put("Referer", List.of(REFERERS[random.nextInt(REFERERS.length)]));
        }
        Identity identity = random.nextInt(3) == 0 ? Identity.ANONYMOUS
                : new Identity("alice", Set.copyOf(pick(random, ROLES, random.nextInt(3))), Map.of(),
                        IdentitySource.FORWARDED, null);
        String path = PATHS[random.nextInt(PATHS.length)];
        return new AccessRequest(METHODS[random.nextInt(METHODS.length)], path, HOSTS[random.nextInt(HOSTS.length)],
                client, client, RequestHeaders.of(headers), identity, null, path, Clock.systemUTC(), GEO);
    }

    private static List<String> pick(SplittableRandom random, String[] values, int count) {
        Set<String> picked = new HashSet<>();
        List<String> list = new ArrayList<>();
        while (list.size() < count) {
            String value = values[random.nextInt(values.length)];
            if (picked.add(value)) {
                list.add(value);
            }
        }
        return list;
    }
}
