package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.IpAddress;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

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

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .build();

    private static final List<String> CASE_KEYS = List.of("name", "request", "expect");
    private static final List<String> REQUEST_KEYS = List.of("method", "path", "ip", "roles", "subject", "headers",
            "host", "country", "asn", "at", "jwt_claims");
    private static final List<String> EXPECT_KEYS = List.of("status", "rule");
    private static final Set<Integer> STATUSES = Set.of(200, 400, 401, 403, 404, 405, 429);

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

    private sealed interface Node permits MapNode, ListNode, Scalar {
        int line();

        int column();
    }

    private record Entry(String key, int line, int column, Node value) {}

    private record MapNode(int line, int column, Map<String, Entry> entries) implements Node {}

    private record ListNode(int line, int column, List<Node> items) implements Node {}

    private record Scalar(int line, int column, JsonToken token, String text) implements Node {
        boolean isString() {
            return token == JsonToken.VALUE_STRING;
        }
    }

    private final String file;
    private final List<ConfigProblem> problems = new ArrayList<>();

    private PolicyCases(String file) {
        this.file = file;
    }

    /** Reads the cases in {@code yaml}, naming the file {@code file} in problems. */
    public static Loaded read(String file, String yaml) {
        PolicyCases reader = new PolicyCases(file);
        List<PolicyCase> cases = reader.readCases(yaml);
        if (reader.problems.isEmpty()) {
            return new Loaded(cases, List.of());
        }
        List<ConfigProblem> sorted = new ArrayList<>(reader.problems);
        sorted.sort(Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column));
        return new Loaded(List.of(), sorted);
    }

    private List<PolicyCase> readCases(String yaml) {
        Node root;
        try (YAMLParser parser = FACTORY.createParser(yaml)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                problem(1, 1, "", "file is empty (expected: a mapping with a list of cases, e.g. cases: [...])");
                return List.of();
            }
            root = node(parser, first, "");
        } catch (JacksonException e) {
            if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
                Mark mark = marked.getProblemMark();
                String context = marked.getContext();
                problem(mark.getLine() + 1, mark.getColumn() + 1, "", "invalid YAML: "
                        + oneLine(context == null ? marked.getProblem() : context + ": " + marked.getProblem()));
            } else {
                JsonLocation at = e.getLocation();
                problem(at == null ? 1 : Math.max(1, at.getLineNr()), at == null ? 1 : Math.max(1, at.getColumnNr()),
                        "", "invalid YAML: " + oneLine(e.getOriginalMessage()));
            }
            return List.of();
        } catch (IOException e) {
            problem(1, 1, "", "cannot read YAML: " + e.getMessage());
            return List.of();
        }
        MapNode top = mapping(root, "", List.of("cases"));
        if (top == null) {
            return List.of();
        }
        Entry casesEntry = top.entries().get("cases");
        if (casesEntry == null) {
            problem(top.line(), top.column(), "cases", "required key is missing (expected: a list of cases)");
            return List.of();
        }
        if (!(casesEntry.value() instanceof ListNode list) || list.items().isEmpty()) {
            invalid(casesEntry.value(), "cases", "is not a list of cases", "a non-empty list, each with name, "
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

    private @Nullable PolicyCase policyCase(Node node, String path) {
        MapNode map = mapping(node, path, CASE_KEYS);
        if (map == null) {
            return null;
        }
        int before = problems.size();
        String name = requiredString(map, path, "name", "a name for the case, e.g. admins may delete users");
        MapNode request = requiredMapping(map, path, "request", REQUEST_KEYS, "the request, e.g. {method: GET, "
                + "path: /api/orders}");
        MapNode expect = requiredMapping(map, path, "expect", EXPECT_KEYS, "the expected answer, e.g. {status: 200}");
        if (request == null || expect == null) {
            return null;
        }
        String req = path + ".request";
        String method = optionalString(request, req, "method", "a method, e.g. GET");
        String target = requiredString(request, req, "path", "a request path, e.g. /api/orders");
        String host = optionalString(request, req, "host", "a host, e.g. api.example.com");
        IpAddress ip = ip(request, req);
        String subject = optionalString(request, req, "subject", "a subject, e.g. alice");
        List<String> roles = roles(request, req);
        Map<String, Object> claims = claims(request, req);
        Map<String, List<String>> headers = headers(request, req);
        String country = country(request, req);
        long asn = asn(request, req);
        Instant at = at(request, req);
        String exp = path + ".expect";
        int status = status(expect, exp);
        String rule = optionalString(expect, exp, "rule", "the name of the deciding rule");
        if (problems.size() != before || name == null || target == null || ip == null) {
            return null;
        }
        Identity identity = identity(subject, roles, claims);
        return new PolicyCase(name, node.line(), method == null ? "GET" : method, target, host, ip, identity,
                headers, country, asn, at, status, rule);
    }

    private static Identity identity(@Nullable String subject, @Nullable List<String> roles,
            @Nullable Map<String, Object> claims) {
        if (subject == null && roles == null && claims == null) {
            return Identity.ANONYMOUS;
        }
        String who = subject;
        if (who == null && claims != null && claims.get("sub") instanceof String sub && !sub.isEmpty()) {
            who = sub;
        }
        if (who == null) {
            who = "test-user";
        }
        Set<String> roleSet = roles == null ? Set.of() : new LinkedHashSet<>(roles);
        if (claims == null) {
            return new Identity(who, roleSet, Map.of(), IdentitySource.FORWARDED, null);
        }
        Map<String, Object> all = new LinkedHashMap<>(claims);
        all.putIfAbsent("sub", who);
        return new Identity(who, roleSet, all, IdentitySource.JWT, null);
    }

    private @Nullable IpAddress ip(MapNode request, String path) {
        Entry entry = request.entries().get("ip");
        if (entry == null) {
            return IpAddress.parse(DEFAULT_IP);
        }
        if (entry.value() instanceof Scalar s && s.token() != JsonToken.VALUE_NULL) {
            IpAddress address = IpAddress.parseOrNull(s.text(), 0, s.text().length());
            if (address != null) {
                return address;
            }
        }
        invalid(entry.value(), path + ".ip", "is not an IP address", "an IPv4 or IPv6 address, e.g. 10.20.1.5");
        return null;
    }

    private @Nullable List<String> roles(MapNode request, String path) {
        Entry entry = request.entries().get("roles");
        if (entry == null) {
            return null;
        }
        if (entry.value() instanceof ListNode list) {
            List<String> roles = new ArrayList<>();
            for (int i = 0; i < list.items().size(); i++) {
                Node item = list.items().get(i);
                if (item instanceof Scalar s && s.token() != JsonToken.VALUE_NULL && !s.text().isBlank()) {
                    roles.add(s.text());
                } else {
                    invalid(item, path + ".roles[" + i + "]", "is not a role", "a role name, e.g. admin");
                }
            }
            return roles;
        }
        invalid(entry.value(), path + ".roles", "is not a list of roles", "a list, e.g. [admin]");
        return null;
    }

    private @Nullable Map<String, Object> claims(MapNode request, String path) {
        Entry entry = request.entries().get("jwt_claims");
        if (entry == null) {
            return null;
        }
        if (entry.value() instanceof MapNode map) {
            @SuppressWarnings("unchecked")
            Map<String, Object> claims = (Map<String, Object>) plain(map);
            return claims;
        }
        invalid(entry.value(), path + ".jwt_claims", "is not a mapping of claims",
                "a mapping, e.g. {org: {tenant: acme}, groups: [eng]}");
        return null;
    }

    /** A claim value as the JWT resolver builds it: immutable maps and lists, Long or Double numbers. */
    private static @Nullable Object plain(Node node) {
        if (node instanceof MapNode map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.entries().forEach((key, entry) -> {
                Object value = plain(entry.value());
                if (value != null) {
                    out.put(key, value);
                }
            });
            return Collections.unmodifiableMap(out);
        }
        if (node instanceof ListNode list) {
            List<Object> out = new ArrayList<>();
            for (Node item : list.items()) {
                Object value = plain(item);
                if (value != null) {
                    out.add(value);
                }
            }
            return Collections.unmodifiableList(out);
        }
        Scalar s = (Scalar) node;
        return switch (s.token()) {
            case VALUE_NULL -> null;
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NUMBER_INT -> parseLong(s.text());
            case VALUE_NUMBER_FLOAT -> Double.valueOf(s.text());
            default -> s.text();
        };
    }

    private static Object parseLong(String text) {
        try {
            return Long.valueOf(text);
        } catch (NumberFormatException e) {
            return text;
        }
    }

    private Map<String, List<String>> headers(MapNode request, String path) {
        Entry entry = request.entries().get("headers");
        if (entry == null) {
            return Map.of();
        }
        if (!(entry.value() instanceof MapNode map)) {
            invalid(entry.value(), path + ".headers", "is not a mapping of headers",
                    "a mapping of name to value, e.g. {X-Debug: \"1\"}");
            return Map.of();
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Entry header : map.entries().values()) {
            String at = path + ".headers." + header.key();
            if (header.value() instanceof Scalar s && s.token() != JsonToken.VALUE_NULL) {
                headers.put(header.key(), List.of(s.text()));
            } else if (header.value() instanceof ListNode list) {
                List<String> values = new ArrayList<>();
                for (Node item : list.items()) {
                    if (item instanceof Scalar s && s.token() != JsonToken.VALUE_NULL) {
                        values.add(s.text());
                    } else {
                        invalid(item, at, "is not a header value", "a string, e.g. \"1\"");
                    }
                }
                headers.put(header.key(), values);
            } else {
                invalid(header.value(), at, "is not a header value", "a string or a list of strings, e.g. \"1\"");
            }
        }
        return headers;
    }

    private String country(MapNode request, String path) {
        Entry entry = request.entries().get("country");
        if (entry == null) {
            return GeoLookup.UNKNOWN_COUNTRY;
        }
        if (entry.value() instanceof Scalar s && s.text().length() == 2 && Character.isLetter(s.text().charAt(0))
                && Character.isLetter(s.text().charAt(1)) && s.text().chars().allMatch(c -> c < 128)) {
            return s.text().toUpperCase(Locale.ROOT);
        }
        invalid(entry.value(), path + ".country", "is not a country code", "ISO 3166 alpha-2, e.g. DE");
        return GeoLookup.UNKNOWN_COUNTRY;
    }

    private long asn(MapNode request, String path) {
        Entry entry = request.entries().get("asn");
        if (entry == null) {
            return GeoLookup.UNKNOWN_ASN;
        }
        if (entry.value() instanceof Scalar s) {
            String text = s.text().regionMatches(true, 0, "AS", 0, 2) ? s.text().substring(2) : s.text();
            try {
                long asn = Long.parseLong(text);
                if (asn >= 0 && asn <= 4_294_967_295L) {
                    return asn;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        invalid(entry.value(), path + ".asn", "is not an AS number", "a number 0..4294967295, e.g. 3320 or AS3320");
        return GeoLookup.UNKNOWN_ASN;
    }

    private @Nullable Instant at(MapNode request, String path) {
        Entry entry = request.entries().get("at");
        if (entry == null) {
            return null;
        }
        if (entry.value() instanceof Scalar s) {
            try {
                return OffsetDateTime.parse(s.text()).toInstant();
            } catch (DateTimeParseException e) {
                // reported below
            }
        }
        invalid(entry.value(), path + ".at", "is not an ISO-8601 time", "a date, time and offset, e.g. "
                + "2025-03-14T09:30:00Z or 2025-03-14T10:30:00+01:00");
        return null;
    }

    private int status(MapNode expect, String path) {
        Entry entry = expect.entries().get("status");
        if (entry == null) {
            problem(expect.line(), expect.column(), path + ".status",
                    "required key is missing (expected: the status, e.g. 200 for \"would be proxied\")");
            return 0;
        }
        if (entry.value() instanceof Scalar s && s.token() == JsonToken.VALUE_NUMBER_INT) {
            try {
                int status = Integer.parseInt(s.text());
                if (STATUSES.contains(status)) {
                    return status;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        invalid(entry.value(), path + ".status", "is not a status the gateway decides",
                "200 (would be proxied), 400, 401, 403, 404, 405 or 429");
        return 0;
    }

    private @Nullable MapNode mapping(Node node, String path, List<String> keys) {
        if (!(node instanceof MapNode map)) {
            invalid(node, path.isEmpty() ? "(root)" : path, "is not a mapping", "a mapping with keys "
                    + String.join(", ", keys));
            return null;
        }
        for (Entry entry : map.entries().values()) {
            if (!keys.contains(entry.key())) {
                problem(entry.line(), entry.column(), path.isEmpty() ? entry.key() : path + "." + entry.key(),
                        "unknown key \"" + entry.key() + "\" (expected one of: " + String.join(", ", keys) + ")");
            }
        }
        return map;
    }

    private @Nullable MapNode requiredMapping(MapNode parent, String path, String key, List<String> keys,
            String expected) {
        Entry entry = parent.entries().get(key);
        if (entry == null) {
            problem(parent.line(), parent.column(), path + "." + key, "required key is missing (expected: "
                    + expected + ")");
            return null;
        }
        return mapping(entry.value(), path + "." + key, keys);
    }

    private @Nullable String requiredString(MapNode parent, String path, String key, String expected) {
        if (!parent.entries().containsKey(key)) {
            problem(parent.line(), parent.column(), path + "." + key, "required key is missing (expected: "
                    + expected + ")");
            return null;
        }
        return optionalString(parent, path, key, expected);
    }

    private @Nullable String optionalString(MapNode parent, String path, String key, String expected) {
        Entry entry = parent.entries().get(key);
        if (entry == null) {
            return null;
        }
        if (entry.value() instanceof Scalar s && s.token() != JsonToken.VALUE_NULL && !s.text().isBlank()) {
            return s.text();
        }
        invalid(entry.value(), path + "." + key, "is not a valid " + key, expected);
        return null;
    }

    private static String oneLine(@Nullable String text) {
        return text == null ? "" : text.replaceAll("\\s+", " ").trim();
    }

    private void invalid(Node node, String path, String what, String expected) {
        String shown = node instanceof Scalar s ? "\"" + s.text() + "\""
                : node instanceof ListNode list ? (list.items().isEmpty() ? "[]" : "a list") : "a mapping";
        problem(node, path, shown + " " + what + " (expected: " + expected + ")");
    }

    private void problem(Node node, String path, String message) {
        problem(node.line(), node.column(), path, message);
    }

    private void problem(int line, int column, String path, String message) {
        problems.add(new ConfigProblem(file, line, column, path, message));
    }

    private Node node(YAMLParser parser, @Nullable JsonToken token, String path) throws IOException {
        JsonLocation at = parser.currentTokenLocation();
        int line = Math.max(1, at.getLineNr());
        int column = Math.max(1, at.getColumnNr());
        if (token == JsonToken.START_OBJECT) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            JsonToken next;
            while ((next = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonLocation keyAt = parser.currentTokenLocation();
                Node value = node(parser, parser.nextToken(), path + "." + key);
                Entry entry = new Entry(key, Math.max(1, keyAt.getLineNr()), Math.max(1, keyAt.getColumnNr()), value);
                if (entries.putIfAbsent(key, entry) != null) {
                    problem(entry.line(), entry.column(), path.isEmpty() ? key : path + "." + key,
                            "duplicate key \"" + key + "\" (expected: each key once)");
                }
            }
            if (next != JsonToken.END_OBJECT) {
                throw new IOException("unexpected end of input inside a mapping");
            }
            return new MapNode(line, column, entries);
        }
        if (token == JsonToken.START_ARRAY) {
            List<Node> items = new ArrayList<>();
            JsonToken next;
            while ((next = parser.nextToken()) != JsonToken.END_ARRAY && next != null) {
                items.add(node(parser, next, path + "[" + items.size() + "]"));
            }
            if (next == null) {
                throw new IOException("unexpected end of input inside a list");
            }
            return new ListNode(line, column, items);
        }
        JsonToken kind = token == null ? JsonToken.VALUE_NULL : token;
        return new Scalar(line, column, kind, kind == JsonToken.VALUE_NULL ? "null" : parser.getText());
    }
}
