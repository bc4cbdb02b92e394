package dev.portcullis.bench;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one policy decision with a realistic policy: a deny list of 1 000 CIDRs (v4 and v6) in
 * front of path/method/host/header rules, for a request that passes the deny list and is allowed
 * by the last rule (the most expensive path), and one that hits the deny list.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PolicyEngineBenchmark {
    private Policy policy;
    private AccessRequest allowed;
    private AccessRequest denied;

    @Setup
    public void setUp() throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        StringBuilder cidrs = new StringBuilder();
        for (int i = 0; i < 900; i++) {
            int a = 11 + random.nextInt(200);
            cidrs.append(i == 0 ? "" : ", ").append('"').append(a).append('.').append(random.nextInt(256))
                    .append('.').append(random.nextInt(256)).append(".0/24\"");
        }
        for (int i = 0; i < 100; i++) {
            cidrs.append(", \"2001:db8:").append(Integer.toHexString(random.nextInt(0xffff))).append("::/48\"");
        }
        cidrs.append(", \"203.0.113.0/24\"");
        String yaml = "upstream: {url: \"http://127.0.0.1:3000\"}\n"
                + "default: deny\n"
                + "rules:\n"
                + "  - name: blocklist\n    match: { ip: [" + cidrs + "] }\n    action: deny\n"
                + "  - name: health\n    match: { paths: [\"/healthz\"], methods: [GET] }\n"
                + "  - name: internal\n    match: { paths: [\"/internal/**\"] }\n    action: deny\n    deny_status: 404\n"
                + "  - name: admin\n    match: { paths: [\"/admin/**\"] }\n    require: { ip: [\"10.20.0.0/16\"] }\n"
                + "  - name: api\n    match: { hosts: [\"api.example.com\", \"*.example.org\"], paths: [\"/api/*/orders/**\"] }\n"
                + "    require: { any: [ { methods: [GET, HEAD] }, { headers: { X-Api-Client: [] } } ] }\n";
        CompiledConfig config = ConfigLoader.load("bench.yaml", yaml.getBytes(StandardCharsets.UTF_8), Path.of("."));
        policy = config.policy();
        RequestHeaders headers = RequestHeaders.of(Map.of("X-Api-Client", List.of("web")));
        IpAddress client = IpAddress.parse("198.51.100.7");
        allowed = new AccessRequest("POST", "/api/v2/orders/42/items", "api.example.com", client, client, headers);
        IpAddress bad = IpAddress.parse("203.0.113.9");
        denied = new AccessRequest("GET", "/api/v2/orders/42", "api.example.com", bad, bad, headers);
        if (!policy.evaluate(allowed).allowed() || policy.evaluate(denied).allowed()) {
            throw new IllegalStateException("benchmark policy does not decide as intended");
        }
    }

    @Benchmark
    public Decision allowedByLastRule() {
        return policy.evaluate(allowed);
    }

    @Benchmark
    public Decision deniedByCidrList() {
        return policy.evaluate(denied);
    }
}
