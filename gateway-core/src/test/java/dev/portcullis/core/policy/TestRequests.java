package dev.portcullis.core.policy;

import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** A readable builder of {@link AccessRequest}s and matchers for policy tests. */
final class TestRequests {

    private TestRequests() {
    }

    static Req get(String path) {
        return new Req("GET", path, "example.com", "192.0.2.1", Map.of());
    }

    static Req request(String method, String path) {
        return new Req(method, path, "example.com", "192.0.2.1", Map.of());
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

    /** An immutable request description; {@link #toString()} names it in parameterized test output. */
    record Req(String method, String path, String host, String ip, Map<String, List<String>> headers) {

        Req host(String newHost) {
            return new Req(method, path, newHost, ip, headers);
        }

        Req ip(String newIp) {
            return new Req(method, path, host, newIp, headers);
        }

        Req header(String name, String value) {
            Map<String, List<String>> copy = new LinkedHashMap<>(headers);
            List<String> values = new ArrayList<>(copy.getOrDefault(name, List.of()));
            values.add(value);
            copy.put(name, values);
            return new Req(method, path, host, ip, copy);
        }

        AccessRequest build() {
            IpAddress address = IpAddress.parse(ip);
            return new AccessRequest(method, path, host, address, address, RequestHeaders.of(headers));
        }

        @Override
        public String toString() {
            return method + " " + path + " host=" + host + " ip=" + ip + (headers.isEmpty() ? "" : " " + headers);
        }
    }
}
