package dev.portcullis.core.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ClientIpResolverTest {

    private static final ClientIpResolver RESOLVER = new ClientIpResolver(CidrSet.of(List.of(
            Cidr.parse("10.0.0.0/8"), Cidr.parse("127.0.0.1"), Cidr.parse("2001:db8:ffff::/48"))));

    private static final String PROXY = "10.0.0.1";
    private static final List<String> NONE = List.of();

    static Stream<Arguments> walk() {
        return Stream.of(
                // peer, X-Forwarded-For lines, Forwarded lines, expected client
                arguments("203.0.113.5", List.of("1.2.3.4"), NONE, "203.0.113.5"),
                arguments("203.0.113.5", NONE, List.of("for=1.2.3.4"), "203.0.113.5"),
                arguments("::ffff:203.0.113.5", List.of("1.2.3.4"), NONE, "203.0.113.5"),
                arguments(PROXY, NONE, NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("1.2.3.4, 10.0.0.2"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("6.6.6.6, 1.2.3.4, 10.0.0.2"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("10.0.0.3, 10.0.0.2"), NONE, "10.0.0.3"),
                arguments(PROXY, List.of("127.0.0.1"), NONE, "127.0.0.1"),
                arguments(PROXY, List.of("1.2.3.4, ::ffff:10.0.0.2"), NONE, "1.2.3.4"),
                // garbage stops the walk at the last valid address seen
                arguments(PROXY, List.of("1.2.3.4, garbage, 10.0.0.2"), NONE, "10.0.0.2"),
                arguments(PROXY, List.of("1.2.3.4, garbage"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4, example.com"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4, unknown"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4,,10.0.0.2"), NONE, "10.0.0.2"),
                arguments(PROXY, List.of("1.2.3.4,"), NONE, PROXY),
                arguments(PROXY, List.of(""), NONE, PROXY),
                arguments(PROXY, List.of(" "), NONE, PROXY),
                arguments(PROXY, List.of("01.2.3.4"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4 5.6.7.8"), NONE, PROXY),
                // ports and brackets
                arguments(PROXY, List.of("1.2.3.4:8080"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("1.2.3.4:8080, 10.0.0.2:1234"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("[2001:db8::1]:443"), NONE, PROXY), // SPEC 3.3: a port only on IPv4
                arguments(PROXY, List.of("[2001:db8::1]"), NONE, "2001:db8::1"),
                arguments(PROXY, List.of("2001:db8::1"), NONE, "2001:db8::1"),
                arguments(PROXY, List.of("[::ffff:1.2.3.4]:80"), NONE, PROXY),
                arguments(PROXY, List.of("[::ffff:1.2.3.4]"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("[1.2.3.4]"), NONE, PROXY),
                arguments(PROXY, List.of("[2001:db8::1"), NONE, PROXY),
                arguments(PROXY, List.of("[2001:db8::1]443"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4:"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4:65536"), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4:http"), NONE, PROXY),
                arguments(PROXY, List.of("2001:db8::1:443"), NONE, "2001:db8::1:443"),
                // whitespace around entries
                arguments(PROXY, List.of("  1.2.3.4  ,\t10.0.0.2 "), NONE, "1.2.3.4"),
                // several header lines are one list, in order
                arguments(PROXY, List.of("6.6.6.6, 1.2.3.4", "10.0.0.2"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("1.2.3.4", "5.6.7.8"), NONE, "5.6.7.8"),
                arguments(PROXY, List.of("1.2.3.4", "10.0.0.2, 10.0.0.3"), NONE, "1.2.3.4"),
                arguments(PROXY, List.of("1.2.3.4", ""), NONE, PROXY),
                arguments(PROXY, List.of("1.2.3.4", "garbage", "10.0.0.2"), NONE, "10.0.0.2"),
                // IPv6 trusted proxies
                arguments("2001:db8:ffff::1", List.of("2001:db8::5, 2001:db8:ffff::2"), NONE, "2001:db8::5"),
                // Forwarded only without X-Forwarded-For
                arguments(PROXY, List.of("5.6.7.8"), List.of("for=1.2.3.4"), "5.6.7.8"),
                arguments(PROXY, NONE, List.of("for=1.2.3.4"), "1.2.3.4"),
                arguments(PROXY, NONE, List.of("for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60"),
                arguments(PROXY, NONE, List.of("proto=http; For=192.0.2.60"), "192.0.2.60"),
                arguments(PROXY, NONE, List.of("for=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17"),
                arguments(PROXY, NONE, List.of("for=\"[2001:db8:cafe::17]\""), "2001:db8:cafe::17"),
                arguments(PROXY, NONE, List.of("for=\"1.2.3.4:80\", for=10.0.0.2"), "1.2.3.4"),
                arguments(PROXY, NONE, List.of("for=6.6.6.6, for=1.2.3.4 ;proto=https, for=10.0.0.2"), "1.2.3.4"),
                arguments(PROXY, NONE, List.of("for=1.2.3.4", "for=10.0.0.2"), "1.2.3.4"),
                arguments(PROXY, NONE, List.of("for=10.0.0.3, for=10.0.0.2"), "10.0.0.3"),
                arguments(PROXY, NONE, List.of("for=1.2.3.4, for=unknown, for=10.0.0.2"), "10.0.0.2"),
                arguments(PROXY, NONE, List.of("for=1.2.3.4, for=_hidden"), PROXY),
                arguments(PROXY, NONE, List.of("for=1.2.3.4, proto=https"), PROXY),
                arguments(PROXY, NONE, List.of("for=\"1.2.3.4"), PROXY),
                arguments(PROXY, NONE, List.of("for=\"1.2.3\\.4\""), PROXY),
                arguments(PROXY, NONE, List.of("for=1.2.3.4 junk"), PROXY),
                arguments(PROXY, NONE, List.of("for=1.2.3.4;"), PROXY),
                arguments(PROXY, NONE, List.of("for"), PROXY),
                arguments(PROXY, NONE, List.of(""), PROXY),
                arguments(PROXY, NONE, List.of("for=1.2.3.4", "garbage"), PROXY),
                arguments(PROXY, NONE, List.of("for=1.2.3.4;by=\"a,b\", for=10.0.0.2"), "1.2.3.4"));
    }

    @ParameterizedTest(name = "peer {0}, XFF {1}, Forwarded {2} -> {3}")
    @MethodSource
    void walk(String peer, List<String> xForwardedFor, List<String> forwarded, String expected) {
        IpAddress client = RESOLVER.resolve(IpAddress.parse(peer), xForwardedFor, forwarded);

        assertThat(client).isEqualTo(IpAddress.parse(expected));
    }

    @Test
    void trustsPeersInsideTheTrustedNetworksOnly() {
        assertThat(RESOLVER.isTrusted(IpAddress.parse("10.255.255.255"))).isTrue();
        assertThat(RESOLVER.isTrusted(IpAddress.parse("::ffff:127.0.0.1"))).isTrue();
        assertThat(RESOLVER.isTrusted(IpAddress.parse("127.0.0.2"))).isFalse();
        assertThat(RESOLVER.isTrusted(IpAddress.parse("::1"))).isFalse();
        assertThat(new ClientIpResolver(CidrSet.EMPTY).resolve(IpAddress.parse("10.0.0.1"), List.of("1.2.3.4"), NONE))
                .isEqualTo(IpAddress.parse("10.0.0.1"));
    }
}
