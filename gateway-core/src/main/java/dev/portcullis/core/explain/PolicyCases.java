package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.explain.CaseNode.Entry;
import dev.portcullis.core.explain.CaseNode.ListNode;
import dev.portcullis.core.explain.CaseNode.MapNode;
import dev.portcullis.core.explain.CaseNode.Scalar;
import dev.portcullis.core.policy.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads a policy test cases file (SPEC 3.10) into {@link PolicyCase}s, reporting every problem located by
 * {@code FILE:LINE:COLUMN} and key path, as config problems are.
 *
 * <p>A case's identity: none (anonymous) unless it gives {@code subject}, {@code roles} or {@code jwt_claims}; a
 * JWT identity when it gives {@code jwt_claims} (claims as given, {@code sub} added from {@code subject}), else a
 * forwarded one. The subject defaults to the {@code sub} claim, else {@code test-user}. Roles come only from
 * {@code roles}: the provider's {@code roles_claim} is not applied to {@code jwt_claims}. {@code ip} is the client
 * address the rules see (default {@code 127.0.0.1}).
 */
public final class PolicyCases {

    /** The client address of a case that gives no {@code ip}. */
    public static final String DEFAULT_IP = "127.0.0.1";

    private static final List<String> CASE_KEYS = List.of("name", "request", "expect");
    private static final List<String> EXPECT_KEYS = List.of("status", "rule");
    /** The statuses a case may expect: 429 is not one, since rate limits are not simulated. */
    private static final Set<Integer> STATUSES = Set.of(200, 400, 401, 403, 404, 405, 413, 414);
    private static final String STATUSES_TEXT = "200 (would be proxied), 400, 401, 403, 404, 405, 413 or 414";
    /** How many rule names a problem about an unknown {@code expect.rule} lists. */
    private static final int RULES_LISTED = 10;

    /**
     * The cases of a file, or the problems that stop them from being run.
     *
     * @param cases the cases in file order; empty when there are problems
     * @param problems every problem found, in file order
     */
    public record Loaded(List<PolicyCase> cases, List<ConfigProblem> problems) {
        /** Copies the lists. */
        public Loaded {
            cases = List.copyOf(cases);
            problems = List.copyOf(problems);
        }
    }

    private final String file;
    private final CaseProblems problems;
    /** The config the cases are run against, as named in problems. */
    private final String config;
    /** The names of the config's rules, in order. */
    private final List<String> rules;

    private PolicyCases(String file, CompiledConfig config) {
        this.file = file;
        this.problems = new CaseProblems(file);
        this.config = config.source();
        this.rules = config.policy().rules().stream().map(Rule::name).toList();
    }

    /**
     * Reads the cases in {@code yaml}, naming the file {@code file} in problems; an {@code expect.rule} must name a
     * rule of {@code config}, the config the cases are run against.
     */
    public static Loaded read(String file, String yaml, CompiledConfig config) {
        PolicyCases reader = new PolicyCases(file, config);
        List<PolicyCase> cases = reader.readCases(yaml);
        if (reader.problems.count() == 0) {
            return new Loaded(cases, List.of());
        }
        return new Loaded(List.of(), reader.problems.sorted());
    }

    private List<PolicyCase> readCases(String yaml) {
        CaseNode root = CaseYaml.read(file, yaml, problems);
        if (root == null) {
            return List.of();
        }
        MapNode top = problems.mapping(root, "", List.of("cases"));
        if (top == null) {
            return List.of();
        }
        Entry casesEntry = top.entries().get("cases");
        if (casesEntry == null) {
            problems.problem(top.line(), top.column(), "cases", "required key is missing (expected: a list of cases)");
            return List.of();
        }
        if (!(casesEntry.value() instanceof ListNode list) || list.items().isEmpty()) {
            problems.invalid(casesEntry.value(), "cases", "is not a list of cases", "a non-empty list, each with name, "
                    + "request and expect");
            return List.of();
        }
        List<PolicyCase> cases = new ArrayList<>();
        for (int i = 0; i < list.items().size(); i++) {
            PolicyCase c = policyCase(list.items().get(i), "cases[" + i + "]");
            if (c != null) {
                cases.add(c);
            }
        }
        return cases;
    }

    private @Nullable PolicyCase policyCase(CaseNode node, String path) {
        MapNode map = problems.mapping(node, path, CASE_KEYS);
        if (map == null) {
            return null;
        }
        int before = problems.count();
        String name = problems.requiredString(map, path, "name", "a name for the case, e.g. admins may delete users");
        MapNode request = problems.requiredMapping(map, path, "request", CaseRequestReader.KEYS, "the request, e.g. "
                + "{method: GET, path: /api/orders}");
        MapNode expect = problems.requiredMapping(map, path, "expect", EXPECT_KEYS,
                "the expected answer, e.g. {status: 200}");
        // each part is checked even when another is broken, so that every problem is reported at once
        CaseRequestReader.Request r = request == null ? null
                : CaseRequestReader.read(request, path + ".request", problems);
        String exp = path + ".expect";
        int status = expect == null ? 0 : status(expect, exp);
        String rule = expect == null ? null : rule(expect, exp);
        if (problems.count() != before || name == null || r == null || expect == null) {
            return null;
        }
        return new PolicyCase(name, node.line(), r.method(), r.target(), r.host(), r.ip(), r.identity(), r.headers(),
                r.country(), r.asn(), r.at(), status, rule);
    }

    private int status(MapNode expect, String path) {
        Entry entry = expect.entries().get("status");
        if (entry == null) {
            problems.problem(expect.line(), expect.column(), path + ".status",
                    "required key is missing (expected: the status, e.g. 200 for \"would be proxied\")");
            return 0;
        }
        if (entry.value() instanceof Scalar s && s.token() == JsonToken.VALUE_STRING && !s.text().isEmpty()
                && s.text().chars().allMatch(c -> c >= '0' && c <= '9')) {
            problems.invalid(s, path + ".status", "is a string, not a number", "a status written as a number, "
                    + "without quotes: " + STATUSES_TEXT);
            return 0;
        }
        if (entry.value() instanceof Scalar s && s.token() == JsonToken.VALUE_NUMBER_INT) {
            try {
                int status = Integer.parseInt(s.text());
                if (STATUSES.contains(status)) {
                    return status;
                }
                if (status == 429) {
                    problems.invalid(s, path + ".status", "can never be the answer here: test does not simulate "
                            + "rate limits, so a rate-limited rule answers 200", STATUSES_TEXT);
                    return 0;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        problems.invalid(entry.value(), path + ".status", "is not a status the gateway decides", STATUSES_TEXT);
        return 0;
    }

    /** The expected deciding rule, or null when absent or reported: it must be one of the config's rules. */
    private @Nullable String rule(MapNode expect, String path) {
        String rule = problems.optionalString(expect, path, "rule", "the name of the deciding rule");
        if (rule == null || rules.contains(rule)) {
            return rule;
        }
        String expected = rules.isEmpty() ? "expected: no rule, the config has none"
                : "expected one of: " + String.join(", ", rules.subList(0, Math.min(RULES_LISTED, rules.size())))
                        + (rules.size() > RULES_LISTED ? ", ... (" + rules.size() + " rules)" : "");
        CaseNode value = expect.entries().get("rule").value();
        problems.problem(value.line(), value.column(), path + ".rule", "\"" + rule + "\" is not a rule of " + config
                + " (" + expected + ")");
        return null;
    }
}
