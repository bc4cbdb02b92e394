package dev.portcullis.core.config;

import dev.portcullis.core.http.ClientHeaderNames;
import dev.portcullis.core.http.HeaderValues;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.policy.HeaderMatcher;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Checks and compiles the identity headers: those a trusted authenticating proxy sets ({@code identity.forwarded})
 * and those the gateway sets for the upstream ({@code identity.upstream_headers}).
 */
final class IdentityHeadersCompiler {

    private static final String SAME_HEADER_AS = " is the same header as ";

    /** Headers that carry framing, routing, credentials or the gateway's own forwarding information. */
    private static final Set<String> RESERVED_HEADERS = reserved("host", "content-length", "transfer-encoding",
            "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "authorization", "proxy-authorization",
            "cookie", "x-request-id");

    private final Problems problems;

    IdentityHeadersCompiler(Problems problems) {
        this.problems = problems;
    }

    /** {@code identity.forwarded}; null when not configured, or unusable (reported). */
    @Nullable ForwardedIdentity forwarded(@Nullable ForwardedConfig forwarded) {
        if (forwarded == null) {
            return null;
        }
        String userHeader = headerName(forwarded.userHeader(), "identity.forwarded.user_header", "X-Forwarded-User");
        String rolesHeader =
                headerName(forwarded.rolesHeader(), "identity.forwarded.roles_header", "X-Forwarded-Groups");
        if (userHeader != null && rolesHeader != null && userHeader.equalsIgnoreCase(rolesHeader)) {
            problems.add("identity.forwarded.roles_header", ConfigValues.quote(rolesHeader) + SAME_HEADER_AS
                    + "user_header (expected: a different header)");
        }
        CidrSet proxies = forwardedProxies(forwarded.trustedProxies());
        return userHeader == null || proxies == null ? null : new ForwardedIdentity(proxies, userHeader, rolesHeader);
    }

    /**
     * {@code identity.forwarded.trusted_proxies}: the authenticating proxy's own addresses, apart from
     * {@code clients.trusted_proxies} so that a load balancer trusted for client addresses cannot name users.
     * A {@code /0} is an error, a range wider than a /16 (IPv4) or /48 (IPv6) a warning; null when missing (the
     * binder reported it) or unusable (reported).
     */
    private @Nullable CidrSet forwardedProxies(@Nullable List<String> texts) {
        if (texts == null) {
            return null;
        }
        String path = "identity.forwarded.trusted_proxies";
        if (texts.isEmpty()) {
            problems.add(path, "empty list (expected: the authenticating proxy's address, e.g. [\"10.0.0.7/32\"])");
            return null;
        }
        return CidrLists.parse(texts, path, problems, (text, cidr, itemPath) -> {
            boolean v4 = cidr.network().isIPv4();
            if (cidr.prefixLength() == 0) {
                problems.add(itemPath, ConfigValues.quote(text) + " would believe identity headers from every "
                        + (v4 ? "IPv4" : "IPv6") + " address (expected: the authenticating proxy's address, e.g. "
                        + (v4 ? "10.0.0.7/32" : "2001:db8::7/128") + "; a /0 is not allowed)");
                return false;
            }
            int widest = v4 ? 16 : 48;
            if (cidr.prefixLength() < widest) {
                problems.warn(itemPath, ConfigValues.quote(text) + " is wider than a /" + widest + ": every address"
                        + " in it may name any user (expected: the authenticating proxy's own address, e.g. "
                        + (v4 ? "10.0.0.7/32" : "2001:db8::7/128") + ")");
            }
            return true;
        });
    }

    /** {@code identity.upstream_headers}; null when unusable (reported). */
    @Nullable UpstreamIdentityHeaders upstreamHeaders(UpstreamHeadersConfig headers) {
        String subject = headerName(headers.subject(), "identity.upstream_headers.subject", "X-Auth-Subject");
        String roles = headerName(headers.roles(), "identity.upstream_headers.roles", "X-Auth-Roles");
        if (subject == null || roles == null) {
            return null;
        }
        if (subject.equalsIgnoreCase(roles)) {
            problems.add("identity.upstream_headers.roles", ConfigValues.quote(roles) + SAME_HEADER_AS
                    + "subject (expected: a different header)");
            return null;
        }
        return new UpstreamIdentityHeaders(subject, roles);
    }

    /**
     * An upstream header that is also a forwarded-identity header would be stripped before it is read. Checked on the
     * forwarded section as written, so that a problem elsewhere in it (a {@code /0} proxy) does not hide this one; a
     * written name equal to a valid upstream header name is itself valid.
     */
    void distinctIdentityHeaders(@Nullable ForwardedConfig forwarded, @Nullable UpstreamIdentityHeaders upstream) {
        if (forwarded == null || upstream == null) {
            return;
        }
        for (String[] pair : new String[][] {
                {"subject", upstream.subject()}, {"roles", upstream.roles()}}) {
            String name = fold(pair[1]);
            if (forwarded.userHeader() != null && name.equals(fold(forwarded.userHeader()))
                    || forwarded.rolesHeader() != null && name.equals(fold(forwarded.rolesHeader()))) {
                problems.add("identity.upstream_headers." + pair[0], ConfigValues.quote(pair[1])
                        + " is also a forwarded-identity header (expected: a header distinct from"
                        + " identity.forwarded.user_header and roles_header)");
            }
        }
    }

    /** {@code name} if it is a valid header name; null when it is not (reported) or was not written. */
    private @Nullable String headerName(@Nullable String name, String path, String example) {
        if (name == null) {
            return null;
        }
        if (!HeaderMatcher.isValidName(name)) {
            problems.add(path, ConfigValues.quote(name)
                    + " is not a valid header name (expected: an HTTP token, e.g. " + example + ")");
            return null;
        }
        String folded = fold(name);
        // a method or URL override or a hop-by-hop header is removed from every request before the policy runs: as
        // a forwarded header it would never be read, as an upstream header it would be sent under that meaning
        if (RESERVED_HEADERS.contains(folded) || ClientHeaderNames.isOverride(name)
                || ClientHeaderNames.isFixedHopByHop(name)
                || folded.startsWith("x-forwarded-") && !folded.equals("x-forwarded-user")
                && !folded.equals("x-forwarded-groups") && !folded.equals("x-forwarded-email")
                && !folded.equals("x-forwarded-preferred-username")) {
            problems.add(path, ConfigValues.quote(name) + " is a header the gateway itself reads, sets or removes"
                    + " (expected: a header of its own, e.g. " + example + ")");
            return null;
        }
        return name;
    }

    /** Header names as the gateway compares them: case-insensitive, {@code _} equal to {@code -}. */
    private static String fold(String name) {
        return name.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static Set<String> reserved(String... names) {
        Set<String> all = new HashSet<>(List.of(names));
        all.addAll(HeaderValues.CLIENT_ADDRESS_CLAIMS);
        return Set.copyOf(all);
    }
}
