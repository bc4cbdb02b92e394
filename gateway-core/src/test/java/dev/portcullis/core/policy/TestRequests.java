package dev.portcullis.core.policy;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** A readable builder of {@link AccessRequest}s and matchers for policy tests. */
final class TestRequests {

    private TestRequests() {
    }

    static Req get(String path) {
        return new Req("GET", path, "example.com", "192.0.2.1", Map.of(), Identity.ANONYMOUS, null);
    }

    static Req request(String method, String path) {
        return new Req(method, path, "example.com", "192.0.2.1", Map.of(), Identity.ANONYMOUS, null);
    }

    /** A JWT identity with these roles and claims (besides {@code sub}). */
    static Identity jwt(String subject, Set<String> roles, Map<String, Object> claims) {
        Map<String, Object> all = new HashMap<>(claims);
        all.put("sub", subject);
        return new Identity(subject, roles, all, IdentitySource.JWT, null);
    }

    /** An identity from trusted forwarded headers: roles, no claims. */
    static Identity forwarded(String subject, String... roles) {
        return new Identity(subject, Set.of(roles), Map.of(), IdentitySource.FORWARDED, null);
    }

    static RequestMatcher paths(String... globs) {
        return PathMatcher.of(Stream.of(globs).map(PathGlob::compile).toList());
    }

    static RequestMatcher methods(String... methods) {
        return MethodMatcher.of(List.of(methods));
    }

    static RequestMatcher hosts(String... patterns) {
        return HostMatcher.of(Stream.of(patterns).map(HostPattern::compile).toList());
    }

    static RequestMatcher ip(String... cidrs) {
        return IpMatcher.of(CidrSet.of(Stream.of(cidrs).map(Cidr::parse).toList()), List.of(cidrs));
    }

    static RequestMatcher header(String name, String... values) {
        return HeaderMatcher.of(name, List.of(values));
    }

    static RequestMatcher authenticated(boolean authenticated) {
        return AuthenticatedMatcher.of(authenticated);
    }

    static RequestMatcher roles(String... roles) {
        return RoleMatcher.any(List.of(roles));
    }

    static RequestMatcher allRoles(String... roles) {
        return RoleMatcher.all(List.of(roles));
    }

    static RequestMatcher claim(String path, String... values) {
        return ClaimMatcher.of(ClaimPath.compile(path), List.of(values));
    }

    /** An immutable request description; {@link #toString()} names it in parameterized test output. */
    record Req(String method, String path, String host, String ip, Map<String, List<String>> headers,
            Identity identity, @Nullable RejectReason tokenRejection) {

        Req host(String newHost) {
            return new Req(method, path, newHost, ip, headers, identity, tokenRejection);
        }

        Req ip(String newIp) {
            return new Req(method, path, host, newIp, headers, identity, tokenRejection);
        }

        Req header(String name, String value) {
            Map<String, List<String>> copy = new LinkedHashMap<>(headers);
            List<String> values = new ArrayList<>(copy.getOrDefault(name, List.of()));
            values.add(value);
            copy.put(name, values);
            return new Req(method, path, host, ip, copy, identity, tokenRejection);
        }

        /** The request as coming from {@code newIdentity}. */
        Req as(Identity newIdentity) {
            return new Req(method, path, host, ip, headers, newIdentity, tokenRejection);
        }

        /** The request as presenting a token that was rejected for {@code reason}: anonymous. */
        Req rejected(RejectReason reason) {
            return new Req(method, path, host, ip, headers, Identity.ANONYMOUS, reason);
        }

        AccessRequest build() {
            IpAddress address = IpAddress.parse(ip);
            return new AccessRequest(method, path, host, address, address, RequestHeaders.of(headers), identity,
                    tokenRejection);
        }

        @Override
        public String toString() {
            return method + " " + path + " host=" + host + " ip=" + ip + (headers.isEmpty() ? "" : " " + headers)
                    + (identity.isAnonymous() ? "" : " as " + identity.source().code() + ":" + identity.subject()
                            + " roles=" + new TreeSet<>(identity.roles()))
                    + (tokenRejection == null ? "" : " token rejected: " + tokenRejection.code());
        }
    }
}
