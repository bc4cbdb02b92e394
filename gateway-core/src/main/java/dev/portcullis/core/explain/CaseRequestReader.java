package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.explain.CaseNode.Entry;
import dev.portcullis.core.explain.CaseNode.ListNode;
import dev.portcullis.core.explain.CaseNode.MapNode;
import dev.portcullis.core.explain.CaseNode.Scalar;
import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.IpAddress;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads the {@code request:} mapping of one case into the simulated request it describes, resolved as
 * {@link PolicyCases} documents (identity, client address, country, ASN, time), reporting each invalid key.
 */
final class CaseRequestReader {

    /** The keys of a {@code request:} mapping. */
    static final List<String> KEYS = List.of("method", "path", "ip", "roles", "subject", "headers", "host",
            "country", "asn", "at", "jwt_claims");

    /**
     * A case's request, resolved.
     *
     * @param method the method, GET when not given
     * @param target the request target
     * @param host the Host header, or null
     * @param ip the client address the rules see
     * @param identity the simulated identity
     * @param headers the request headers
     * @param country the client's country
     * @param asn the client's ASN
     * @param at the time of the request, or null for the time the test runs
     */
    record Request(String method, String target, @Nullable String host, IpAddress ip, Identity identity,
            Map<String, List<String>> headers, String country, long asn, @Nullable Instant at) {}

    private final CaseProblems problems;
    /** The key path of the mapping read, e.g. {@code cases[0].request}. */
    private final String path;

    private CaseRequestReader(CaseProblems problems, String path) {
        this.problems = problems;
        this.path = path;
    }

    /** The request that {@code request}, at {@code path}, describes, or null when it has problems (all reported). */
    static @Nullable Request read(MapNode request, String path, CaseProblems problems) {
        return new CaseRequestReader(problems, path).read(request);
    }

    private @Nullable Request read(MapNode request) {
        int before = problems.count();
        String method = problems.optionalString(request, path, "method", "a method, e.g. GET");
        String target = problems.requiredString(request, path, "path", "a request path, e.g. /api/orders");
        String host = problems.optionalString(request, path, "host", "a host, e.g. api.example.com");
        IpAddress ip = ip(request);
        String subject = problems.optionalString(request, path, "subject", "a subject, e.g. alice");
        List<String> roles = roles(request);
        Map<String, Object> claims = CaseClaims.read(request, path, problems);
        Map<String, List<String>> headers = headers(request);
        String country = country(request);
        long asn = asn(request);
        Instant at = at(request);
        if (problems.count() != before || target == null || ip == null) {
            return null;
        }
        return new Request(method == null ? "GET" : method, target, host, ip, identity(subject, roles, claims),
                headers, country, asn, at);
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

    private @Nullable IpAddress ip(MapNode request) {
        Entry entry = request.entries().get("ip");
        if (entry == null) {
            return IpAddress.parse(PolicyCases.DEFAULT_IP);
        }
        if (entry.value() instanceof Scalar s && s.token() != JsonToken.VALUE_NULL) {
            IpAddress address = IpAddress.parseOrNull(s.text(), 0, s.text().length());
            if (address != null) {
                return address;
            }
        }
        problems.invalid(entry.value(), path + ".ip", "is not an IP address",
                "an IPv4 or IPv6 address, e.g. 10.20.1.5");
        return null;
    }

    private @Nullable List<String> roles(MapNode request) {
        Entry entry = request.entries().get("roles");
        if (entry == null) {
            return null;
        }
        if (entry.value() instanceof ListNode list) {
            List<String> roles = new ArrayList<>();
            for (int i = 0; i < list.items().size(); i++) {
                CaseNode item = list.items().get(i);
                if (item instanceof Scalar s && s.token() != JsonToken.VALUE_NULL && !s.text().isBlank()) {
                    roles.add(s.text());
                } else {
                    problems.invalid(item, path + ".roles[" + i + "]", "is not a role", "a role name, e.g. admin");
                }
            }
            return roles;
        }
        problems.invalid(entry.value(), path + ".roles", "is not a list of roles", "a list, e.g. [admin]");
        return null;
    }

    private Map<String, List<String>> headers(MapNode request) {
        Entry entry = request.entries().get("headers");
        if (entry == null) {
            return Map.of();
        }
        if (!(entry.value() instanceof MapNode map)) {
            problems.invalid(entry.value(), path + ".headers", "is not a mapping of headers",
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
                for (CaseNode item : list.items()) {
                    if (item instanceof Scalar s && s.token() != JsonToken.VALUE_NULL) {
                        values.add(s.text());
                    } else {
                        problems.invalid(item, at, "is not a header value", "a string, e.g. \"1\"");
                    }
                }
                headers.put(header.key(), values);
            } else {
                problems.invalid(header.value(), at, "is not a header value",
                        "a string or a list of strings, e.g. \"1\"");
            }
        }
        return headers;
    }

    private String country(MapNode request) {
        Entry entry = request.entries().get("country");
        if (entry == null) {
            return GeoLookup.UNKNOWN_COUNTRY;
        }
        if (entry.value() instanceof Scalar s && s.text().length() == 2 && Character.isLetter(s.text().charAt(0))
                && Character.isLetter(s.text().charAt(1)) && s.text().chars().allMatch(c -> c < 128)) {
            return s.text().toUpperCase(Locale.ROOT);
        }
        problems.invalid(entry.value(), path + ".country", "is not a country code", "ISO 3166 alpha-2, e.g. DE");
        return GeoLookup.UNKNOWN_COUNTRY;
    }

    private long asn(MapNode request) {
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
        problems.invalid(entry.value(), path + ".asn", "is not an AS number",
                "a number 0..4294967295, e.g. 3320 or AS3320");
        return GeoLookup.UNKNOWN_ASN;
    }

    private @Nullable Instant at(MapNode request) {
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
        problems.invalid(entry.value(), path + ".at", "is not an ISO-8601 time", "a date, time and offset, e.g. "
                + "2025-03-14T09:30:00Z or 2025-03-14T10:30:00+01:00");
        return null;
    }
}
