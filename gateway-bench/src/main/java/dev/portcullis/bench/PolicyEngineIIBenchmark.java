package dev.portcullis.bench;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.decision.RequestFacts;
import dev.portcullis.core.decision.Verdict;
import dev.portcullis.core.geo.MmdbWriter;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.ratelimit.RateLimitResult;
import dev.portcullis.core.ratelimit.RateLimiter;
import dev.portcullis.core.runtime.GatewaySnapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The policy engine II budgets (issue 7) on a policy built the way the gateway builds it: a generated
 * {@code policy.yaml} of 200 rules whose {@code ip} lists hold 10,000 CIDRs (IPv4 and IPv6) among {@code paths},
 * {@code methods}, {@code hosts}, {@code countries}, {@code asns}, {@code schedule}, {@code roles} and
 * {@code referrers} conditions, GeoIP country and ASN databases of 5,000 networks written with {@link MmdbWriter},
 * loaded with {@link ConfigLoader#load(Path)} into a {@link GatewaySnapshot}. The request (a JWT identity with three
 * roles, a Referer, a GeoIP-known client) passes the early conditions of many rules, fails each of rules 1..199, and
 * is allowed by rule 200, whose {@code require} checks roles, countries, a schedule and referrers and whose
 * {@code rate_limit} (a billion a second) always admits.
 *
 * <ul>
 *   <li>{@code decide}: {@code snapshot.decisions().decide(facts, Resolved(identity))}, the whole step (request
 *       built, 200 rules, rate limit, verdict); target at most 2 µs. The client's country and ASN are looked up
 *       once per request, each a walk of the mapped database tree (there is no per-address cache).
 *   <li>{@code evaluate}: {@link Policy#evaluate} alone, on a fresh {@link AccessRequest} per call (a request
 *       caches its time, country, ASN and parsed Referer, so reusing one would skip those).
 *   <li>{@code geoCountryCached}: {@code snapshot.geo().country} over 4,096 rotating addresses (the name is from when
 *       the lookup kept a Caffeine cache of addresses; now the same walk as the next, over a hot part of the tree);
 *       {@code geoCountryUncached}: over 2^20 rotating addresses; target at most 1 µs.
 *   <li>{@code rateLimit}: {@code snapshot.limiters().get(name).acquire(request)}, one key, uncontended; target at
 *       most 0.3 µs.
 * </ul>
 *
 * <p>Run: {@code java -jar gateway-bench/target/benchmarks.jar PolicyEngineIIBenchmark -prof gc}. Results (JDK 17, one
 * fork, {@code -wi 3 -i 5 -w 1 -r 1 -f 1 -prof gc}, on 2 cores shared with other builds and tests), before and after
 * the rule index and the tree-walking GeoIP lookup, one run each, back to back in one session (load average 3.1 to 3.8
 * during both):
 *
 * <pre>
 *                      before                      after
 * decide               20,080 ± 2,443 ns/op 129 B  3,334 ± 3,213 ns/op 144 B
 * evaluate             20,689 ± 10,112 ns/op 97 B  2,390 ±   185 ns/op 112 B
 * geoCountryCached         24 ±      3 ns/op  0 B    130 ±    47 ns/op   0 B
 * geoCountryUncached    7,268 ±  3,721 ns/op 1.1 KB  130 ±    25 ns/op   0 B
 * rateLimit                96 ±      8 ns/op  0 B     94 ±    13 ns/op   0 B
 * </pre>
 *
 * <p>Thread CPU time per call over the same methods in one JVM (200,000 to 400,000 calls after warm-up, load average
 * about 2.3): decide 20,641 ns before, 2,919 ns after; an uncached country lookup 138 ns after.
 *
 * <p>Against the budgets: the rate-limit check (at most 0.3 µs) and an uncached GeoIP lookup (at most 1 µs, now about
 * 0.13 µs and allocation-free) are met. The decision is about six times faster but still misses 2 µs on this machine
 * (2.4 to 3.3 µs wall, 2.9 µs CPU): the index ({@code RuleIndex}: method, first path segment, host, client IP, roles,
 * country) leaves 51 of the 200 rules for this request, whose remaining conditions cannot be indexed (a
 * {@code referrers} condition per rule, an {@code any} of a role and ASNs per rule); the stack profiler puts those
 * referrer globs and role checks ({@code Identity.hasRole}) first. A Caffeine cache of addresses in front of the
 * tree would answer a repeated client in about 24 ns instead of 130 ns, about 0.2 µs per decision here for the two
 * lookups, at the price of an insertion and allocation on every miss; it was removed. On the larger,
 * GeoLite2-shaped database of GeoLookupBenchmark (80,000 networks, a tree of several MB) the walk costs more, each
 * level a likely cache miss: after, at load average 3.4 to 5, country cold 1,340 ± 2,366 ns/op and hot 435 ± 777,
 * asn cold 752 ± 551 and hot 305 ± 193, all 0 B/op (before: cold 3,183 to 6,376 ns/op and 0.9 to 1.2 KB/op, hot,
 * from the Caffeine cache, 27 to 35 ns/op): there the budget of 1 µs is met only roughly, and a cache in front of
 * the walk would pay for repeated clients.
 *
 * <p>Then the index got a Referer-host dimension (a rule's {@code referrers} patterns by exact host, or by the host
 * after a wildcard first label), which leaves 26 of the 200 rules for this request (the 25 with an {@code any} of a
 * role and ASNs, and rule 200). Before (the jar of the previous table's "after") and after, back to back in one
 * session, same flags, load average 0.7 to 1.0:
 *
 * <pre>
 *                      before                      after
 * decide               2,443 ± 693 ns/op 144 B     1,696 ± 702 ns/op 144 B
 * evaluate             2,836 ± 254 ns/op 112 B     1,425 ± 595 ns/op 112 B
 * </pre>
 *
 * <p>Thread CPU time per call (5 rounds of 400,000 calls after 2,000,000 of warm-up, same load): decide 3,540 to
 * 4,618 ns before, 1,378 to 2,285 ns after (median 1,764); evaluate 3,227 to 3,910 ns before, 1,197 to 1,518 ns
 * after. The decision now meets 2 µs on the median, narrowly and not in every round; the next cost is the 25
 * {@code any} conditions (a role set probe and an ASN binary search each), which a roles bitmask or an index of
 * {@code any} branches would remove.
 *
 * <p>Then role conditions became bit masks ({@code RoleBits}: the roles a policy names get bits, the identity's roles
 * are turned into bits once per request). Before and after alternated three times in one session (2026-12-06,
 * {@code -wi 4 -i 5 -w 1 -r 1 -f 1}, load average 3.4 to 5.4 from builds running beside it): decide 2,007 / 2,010 /
 * 2,098 ns/op before, 1,801 / 1,724 / 1,836 after (about 12 % less); 160 B/op instead of 144 (the request holds the
 * bits and their table: 16 B more per request).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyEngineIIBenchmark {

    private static final int RULES = 200;
    private static final int CIDRS = 10_000;
    private static final int GEO_NETWORKS = 5_000;
    private static final String CLIENT = "81.2.69.160";
    private static final String LIMITER = "everyone";
    private static final String[] ZONES = {"Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"};

    private Path dir;
    private ScheduledExecutorService scheduler;
    private GatewaySnapshot snapshot;
    private Policy policy;
    private RequestFacts facts;
    private Resolution bearer;
    private Identity identity;
    private AccessRequest limited;
    private RateLimiter limiter;
    private IpAddress[] hotClients;
    private IpAddress[] coldClients;
    private int nextHot;
    private int nextCold;

    @Setup
    public void setUp() throws Exception {
        SplittableRandom random = new SplittableRandom(2024);
        dir = Files.createTempDirectory("policy-engine-ii-bench");
        List<String> geoHosts = writeGeoDatabases(random);
        Path policyFile = Files.writeString(dir.resolve("policy.yaml"), policyYaml(random), StandardCharsets.UTF_8);

        CompiledConfig config = ConfigLoader.load(policyFile);
        scheduler = Executors.newSingleThreadScheduledExecutor();
        snapshot = GatewaySnapshot.create(config, 1, Clock.systemUTC(), scheduler);
        policy = config.policy();

        identity = new Identity("user-42", Set.of("orders-reader", "orders-writer", "staff"), Map.of(),
                IdentitySource.JWT, null);
        bearer = new Resolution.Resolved(identity);
        RequestHeaders headers = RequestHeaders.of(Map.of(
                "Referer", List.of("https://app.example.com/orders/42?tab=items"),
                "Content-Type", List.of("application/json"),
                "User-Agent", List.of("Mozilla/5.0 (X11; Linux x86_64) bench")));
        IpAddress client = IpAddress.parse(CLIENT);
        IpAddress peer = IpAddress.parse("10.1.2.3");
        facts = new RequestFacts("POST", "/api/v2/orders/42/items", "api.example.com", client, peer, headers, null);
        limiter = snapshot.limiters().get(LIMITER);
        limited = request();

        String lastRule = policy.rules().get(RULES - 1).name();
        Verdict.Decided verdict = snapshot.decisions().decide(facts, bearer);
        Decision decision = policy.evaluate(request());
        if (policy.rules().size() != RULES || !verdict.decision().allowed() || !lastRule.equals(verdict.decision().rule())
                || !decision.allowed() || !lastRule.equals(decision.rule()) || !"GB".equals(verdict.country())
                || !(limiter.acquire(limited) instanceof RateLimitResult.Admitted)) {
            throw new IllegalStateException("the benchmark policy does not decide as intended: " + verdict);
        }

        hotClients = new IpAddress[4096];
        coldClients = new IpAddress[1 << 20];
        for (int i = 0; i < coldClients.length; i++) {
            IpAddress address = hostIn(geoHosts.get(random.nextInt(geoHosts.size())), random);
            coldClients[i] = address;
            if (i < hotClients.length) {
                hotClients[i] = address;
            }
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        snapshot.close();
        scheduler.shutdownNow();
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    @Benchmark
    public Verdict.Decided decide() {
        return snapshot.decisions().decide(facts, bearer);
    }

    @Benchmark
    public Decision evaluate() {
        return policy.evaluate(request());
    }

    @Benchmark
    public String geoCountryCached() {
        return snapshot.geo().country(hotClients[nextHot++ & (hotClients.length - 1)]);
    }

    @Benchmark
    public String geoCountryUncached() {
        return snapshot.geo().country(coldClients[nextCold++ & (coldClients.length - 1)]);
    }

    @Benchmark
    public RateLimitResult rateLimit() {
        return limiter.acquire(limited);
    }

    private AccessRequest request() {
        return new AccessRequest(facts.method(), facts.path(), facts.host(), facts.clientIp(), facts.peerIp(),
                facts.headers(), identity, null, facts.path(), snapshot.clock(), snapshot.geo());
    }

    /**
     * Writes country and ASN databases of {@link #GEO_NETWORKS} networks (a fifth IPv6), the client's network in GB,
     * and returns one address in each network, from which lookups pick other hosts.
     */
    private List<String> writeGeoDatabases(SplittableRandom random) {
        Map<String, String> countries = new LinkedHashMap<>();
        Map<String, Long> asns = new LinkedHashMap<>();
        List<String> hosts = new ArrayList<>();
        countries.put("81.2.69.0/24", "GB");
        asns.put("81.2.69.0/24", 20712L);
        hosts.add(CLIENT);
        while (countries.size() < GEO_NETWORKS * 4 / 5) {
            String prefix = publicIpv4Octet(random) + "." + random.nextInt(256) + "." + random.nextInt(256);
            if (countries.putIfAbsent(prefix + ".0/24", country(random.nextInt(200))) == null) {
                asns.put(prefix + ".0/24", 1L + random.nextInt(60_000));
                hosts.add(prefix + ".1");
            }
        }
        while (countries.size() < GEO_NETWORKS) {
            String prefix = "2a0" + random.nextInt(10) + ":" + Integer.toHexString(random.nextInt(0x10000)) + ":"
                    + Integer.toHexString(random.nextInt(0x10000));
            if (countries.putIfAbsent(prefix + "::/48", country(random.nextInt(200))) == null) {
                asns.put(prefix + "::/48", 1L + random.nextInt(60_000));
                hosts.add(prefix + "::1");
            }
        }
        MmdbWriter.countries(countries).write(dir.resolve("country.mmdb"));
        MmdbWriter.asns(asns).write(dir.resolve("asn.mmdb"));
        return hosts;
    }

    /** Another host in the network of {@code host} (a /24 or a /48). */
    private static IpAddress hostIn(String host, SplittableRandom random) {
        return IpAddress.parse(host.contains(":")
                ? host.substring(0, host.lastIndexOf(':') + 1) + Integer.toHexString(random.nextInt(0x10000))
                : host.substring(0, host.lastIndexOf('.') + 1) + random.nextInt(256));
    }

    /** A first octet outside the special-purpose blocks, and not 81 (the client's). */
    private static int publicIpv4Octet(SplittableRandom random) {
        for (;;) {
            int octet = 1 + random.nextInt(222);
            if (octet != 10 && octet != 81 && octet != 100 && octet != 127 && octet != 169 && octet != 172
                    && octet != 192 && octet != 198 && octet != 203) {
                return octet;
            }
        }
    }

    private static String country(int index) {
        return "" + (char) ('A' + index / 26 % 26) + (char) ('A' + index % 26);
    }

    /**
     * The policy: rules 1..199 cycle through eight shapes, each of which the request fails, most of them only at a
     * later condition (so that its earlier ones are evaluated); the two shapes with {@code ip} lists share the
     * 10,000 CIDRs. Rule 200 allows the request.
     */
    private String policyYaml(SplittableRandom random) {
        int ipRules = 0;
        for (int i = 0; i < RULES - 1; i++) {
            ipRules += i % 8 <= 1 ? 1 : 0;
        }
        int perIpRule = CIDRS / ipRules;
        StringBuilder yaml = new StringBuilder()
                .append("upstream: { url: \"http://127.0.0.1:3000\" }\n")
                .append("default: deny\n")
                .append("geoip:\n  database: \"country.mmdb\"\n  asn_database: \"asn.mmdb\"\n")
                .append("rate_limits:\n  ").append(LIMITER)
                .append(": { key: subject, limit: 1000000000, per: 1s }\n")
                .append("rules:\n");
        int cidrs = 0;
        for (int i = 0; i < RULES - 1; i++) {
            String name = "rule-" + (i + 1);
            yaml.append("  - name: ").append(name).append('\n');
            switch (i % 8) {
                case 0 -> {
                    yaml.append("    match: { ip: [").append(cidrList(random, perIpRule)).append("] }\n");
                    yaml.append("    action: deny\n");
                    cidrs += perIpRule;
                }
                case 1 -> {
                    yaml.append("    match: { paths: [\"/api/**\"], ip: [").append(cidrList(random, perIpRule))
                            .append("] }\n");
                    yaml.append("    action: deny\n    deny_status: 404\n");
                    cidrs += perIpRule;
                }
                case 2 -> {
                    yaml.append("    match: { paths: [\"/api/**\"], methods: [POST, PUT, PATCH], countries: [");
                    for (int c = 0; c < 6; c++) {
                        yaml.append(c == 0 ? "" : ", ").append(country(26 * 8 + random.nextInt(400)));
                    }
                    yaml.append("] }\n    action: deny\n");
                }
                case 3 -> yaml.append("    match: { paths: [\"/api/**\"], methods: [GET, POST], roles: [team-")
                        .append(i).append("-admin, team-").append(i).append("-ops] }\n")
                        .append("    require: { authenticated: true }\n");
                case 4 -> yaml.append("    match: { paths: [\"/api/*/orders/**\"], schedule: { days: [mon, tue, wed, ")
                        .append("thu, fri, sat, sun], from: \"00:00\", to: \"24:00\", timezone: \"")
                        .append(ZONES[i % ZONES.length]).append("\" }, any: [ { roles: [oncall-").append(i)
                        .append("] }, { asns: [").append(64_512 + i).append(", ").append(4_200_000_000L + i)
                        .append("] } ] }\n    action: deny\n");
                case 5 -> yaml.append("    match: { paths: [\"/api/**\"], referrers: [\"https://partner-").append(i)
                        .append(".example.net/**\", \"*://*.tracker-").append(i).append(".example/**\"] }\n")
                        .append("    action: deny\n");
                case 6 -> yaml.append("    match: { paths: [\"/svc-").append(i).append("/**\", \"/legacy/").append(i)
                        .append("/*\"], methods: [GET, POST] }\n");
                default -> yaml.append("    match: { hosts: [\"tenant-").append(i)
                        .append(".example.com\", \"*.tenant-").append(i).append(".example.org\"], paths: [\"/api/**\"] }\n")
                        .append("    require: { roles: [tenant-").append(i).append("] }\n");
            }
        }
        if (cidrs != CIDRS) {
            throw new IllegalStateException(cidrs + " CIDRs written (expected: " + CIDRS + ")");
        }
        yaml.append("  - name: orders-api\n")
                .append("    match: { paths: [\"/api/*/orders/**\"], methods: [GET, POST] }\n")
                .append("    require: { roles: [orders-writer], countries: [GB, IE, DE, FR, NL], schedule: { days: ")
                .append("[mon, tue, wed, thu, fri, sat, sun], from: \"00:00\", to: \"24:00\", timezone: \"Europe/London\" }, ")
                .append("referrers: [none, \"https://app.example.com/**\"] }\n")
                .append("    rate_limit: ").append(LIMITER).append('\n');
        return yaml.toString();
    }

    /** {@code count} quoted CIDRs, a fifth of them IPv6, none containing the client. */
    private static String cidrList(SplittableRandom random, int count) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < count; i++) {
            list.append(i == 0 ? "\"" : ", \"");
            if (i % 5 == 4) {
                list.append("2").append(Integer.toHexString(0x100 + random.nextInt(0xe00))).append(':')
                        .append(Integer.toHexString(random.nextInt(0x10000))).append("::/")
                        .append(32 + random.nextInt(33));
            } else {
                int bits = 16 + random.nextInt(13);
                long address = ((long) publicIpv4Octet(random) << 24) | random.nextInt(1 << 24);
                address &= -(1L << (32 - bits));
                list.append(address >>> 24).append('.').append(address >>> 16 & 0xff).append('.')
                        .append(address >>> 8 & 0xff).append('.').append(address & 0xff).append('/').append(bits);
            }
            list.append('"');
        }
        return list.toString();
    }
}
