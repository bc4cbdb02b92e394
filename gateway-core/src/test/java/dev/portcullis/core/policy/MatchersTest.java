package dev.portcullis.core.policy;

import static dev.portcullis.core.policy.TestRequests.get;
import static dev.portcullis.core.policy.TestRequests.header;
import static dev.portcullis.core.policy.TestRequests.hosts;
import static dev.portcullis.core.policy.TestRequests.ip;
import static dev.portcullis.core.policy.TestRequests.methods;
import static dev.portcullis.core.policy.TestRequests.paths;
import static dev.portcullis.core.policy.TestRequests.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.net.CidrSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MatchersTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"GET", "DELETE", "PURGE", "M-SEARCH", "X_1", "!#$%&'*+-.^_`|~"})
    void acceptsUpperCaseTokensAsMethods(String method) {
        assertThat(MethodMatcher.checkMethod(method)).isEqualTo(method);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "get", "Get", "GET ", "G ET", "GET/1", "GE:T", "GÉT", "GET\t"})
    void rejectsOtherMethods(String method) {
        assertThatThrownBy(() -> MethodMatcher.checkMethod(method))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + method + "\" is not a valid method (expected: an upper-case token, e.g. GET)");
        assertThatThrownBy(() -> MethodMatcher.of(List.of("GET", method))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void matchesMethodsCaseSensitively() {
        RequestMatcher matcher = methods("GET", "HEAD", "GET");

        assertThat(matcher.matches(get("/").build())).isTrue();
        assertThat(matcher.matches(request("get", "/").build())).isFalse();
        assertThat(matcher.explainMatch(get("/").build())).isEqualTo("method GET in [GET, HEAD]");
        assertThat(matcher.explainFailure(request("POST", "/").build())).isEqualTo("method POST not in [GET, HEAD]");
        assertThat(matcher).hasToString("methods [GET, HEAD]");
    }

    @Test
    void explainsPathsHostsAndIps() {
        RequestMatcher paths = paths("/admin/**", "/internal/*");
        assertThat(paths.explainMatch(get("/admin/x").build())).isEqualTo("path /admin/x matches /admin/**");
        assertThat(paths.explainFailure(get("/x").build()))
                .isEqualTo("path /x matches none of [/admin/**, /internal/*]");

        RequestMatcher hosts = hosts("*.example.com");
        assertThat(hosts.explainMatch(get("/").host("a.example.com").build()))
                .isEqualTo("host a.example.com matches *.example.com");
        assertThat(hosts.explainFailure(get("/").host("").build()))
                .isEqualTo("host (none) matches none of [*.example.com]");

        RequestMatcher ips = ip("203.0.113.0/24", "2001:db8:bad::/48");
        assertThat(ips.explainMatch(get("/").ip("::ffff:203.0.113.9").build()))
                .isEqualTo("ip 203.0.113.9 in [203.0.113.0/24, 2001:db8:bad::/48]");
        assertThat(ips.explainFailure(get("/").ip("198.51.100.7").build()))
                .isEqualTo("ip 198.51.100.7 not in [203.0.113.0/24, 2001:db8:bad::/48]");
    }

    @Test
    void shortensLongListsInExplanations() {
        RequestMatcher matcher = ip("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7");

        assertThat(matcher.explainFailure(get("/").build()))
                .isEqualTo("ip 192.0.2.1 not in [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, ... 2 more]");
    }

    @Test
    void matchesHeadersByPresenceOrExactValue() {
        RequestMatcher present = header("X-Debug");
        RequestMatcher valued = header("X-Env", "staging", "dev");

        assertThat(present.matches(get("/").header("x-debug", "").build())).isTrue();
        assertThat(present.matches(get("/").build())).isFalse();
        assertThat(valued.matches(get("/").header("X-ENV", "dev").build())).isTrue();
        assertThat(valued.matches(get("/").header("X-Env", "prod").header("X-Env", "staging").build())).isTrue();
        assertThat(valued.matches(get("/").header("X-Env", "Staging").build())).isFalse();
        assertThat(valued.matches(get("/").header("X-Env", "staging, dev").build())).isFalse();
        assertThat(valued.matches(get("/").header("X-Other", "dev").build())).isFalse();

        assertThat(present.explainMatch(get("/").build())).isEqualTo("header X-Debug present");
        assertThat(present.explainFailure(get("/").build())).isEqualTo("header X-Debug absent");
        assertThat(valued.explainMatch(get("/").build())).isEqualTo("header X-Env has a value in [staging, dev]");
        assertThat(valued.explainFailure(get("/").build())).isEqualTo("header X-Env absent");
        assertThat(valued.explainFailure(get("/").header("X-Env", "secret-value").build()))
                .isEqualTo("header X-Env has no value in [staging, dev]")
                .doesNotContain("secret-value");
    }

    @Test
    void rejectsInvalidHeaderNames() {
        assertThatThrownBy(() -> HeaderMatcher.of("X Env", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"X Env\" is not a valid header name (expected: an HTTP token, e.g. X-Env)");
        assertThatThrownBy(() -> HeaderMatcher.of("", List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HeaderMatcher.of("X-Env:", List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void composesWithAllAnyAndNot() {
        RequestMatcher all = AllOf.of(List.of(paths("/admin/**"), methods("GET")));
        RequestMatcher any = AnyOf.of(List.of(methods("PURGE"), paths("/cache/*")));
        RequestMatcher not = Not.of(ip("10.0.0.0/8"));

        assertThat(all.matches(get("/admin/x").build())).isTrue();
        assertThat(all.matches(request("POST", "/admin/x").build())).isFalse();
        assertThat(all.explainMatch(get("/admin/x").build()))
                .isEqualTo("path /admin/x matches /admin/** and method GET in [GET]");
        assertThat(all.explainFailure(request("POST", "/admin/x").build())).isEqualTo("method POST not in [GET]");

        assertThat(any.matches(request("PURGE", "/x").build())).isTrue();
        assertThat(any.matches(get("/cache/x").build())).isTrue();
        assertThat(any.matches(get("/x").build())).isFalse();
        assertThat(any.explainMatch(get("/cache/x").build())).isEqualTo("path /cache/x matches /cache/*");
        assertThat(any.explainFailure(get("/x").build()))
                .isEqualTo("none of: method GET not in [PURGE]; path /x matches none of [/cache/*]");

        assertThat(not.matches(get("/").ip("192.0.2.1").build())).isTrue();
        assertThat(not.matches(get("/").ip("10.1.1.1").build())).isFalse();
        assertThat(not.explainMatch(get("/").build())).isEqualTo("ip 192.0.2.1 not in [10.0.0.0/8]");
        assertThat(not.explainFailure(get("/").ip("10.1.1.1").build())).isEqualTo("ip 10.1.1.1 in [10.0.0.0/8]");
        assertThat(Not.of(not).matches(get("/").ip("10.1.1.1").build())).isTrue();
        assertThat(not).hasToString("not(ip [10.0.0.0/8])");
    }

    @Test
    void simplifiesTrivialCompositions() {
        RequestMatcher single = methods("GET");

        assertThat(AllOf.of(List.of())).isSameAs(RequestMatcher.always());
        assertThat(AllOf.of(List.of(single))).isSameAs(single);
        assertThat(AnyOf.of(List.of(single))).isSameAs(single);
        assertThat(RequestMatcher.always().matches(get("/").build())).isTrue();
        assertThat(RequestMatcher.always().explainMatch(get("/").build())).isEqualTo("any request");
        assertThat(((AllOf) AllOf.of(List.of(single, paths("/a")))).matchers()).hasSize(2);
    }

    @Test
    void rejectsEmptyLists() {
        assertThatThrownBy(() -> AnyOf.of(List.of()))
                .hasMessage("[] is not a valid any condition (expected: at least one condition)");
        assertThatThrownBy(() -> PathMatcher.of(List.of()))
                .hasMessage("[] is not a valid paths condition (expected: at least one glob)");
        assertThatThrownBy(() -> MethodMatcher.of(List.of()))
                .hasMessage("[] is not a valid methods condition (expected: at least one method)");
        assertThatThrownBy(() -> HostMatcher.of(List.of()))
                .hasMessage("[] is not a valid hosts condition (expected: at least one host)");
        assertThatThrownBy(() -> IpMatcher.of(CidrSet.EMPTY, List.of()))
                .hasMessage("[] is not a valid ip condition (expected: at least one CIDR)");
    }

    @Test
    void requestHeadersMergeNamesCaseInsensitively() {
        RequestHeaders headers = RequestHeaders.of(Map.of("Accept", List.of("a"), "X-Empty", List.of()));

        assertThat(headers.first("accept")).isEqualTo("a");
        assertThat(headers.first("X-Missing")).isNull();
        assertThat(headers.containsAnySpelling("ACCEPT")).isTrue();
        assertThat(headers.containsAnySpelling("X-Empty")).isFalse();
        assertThat(headers.first("X-Empty")).isNull();
        assertThat(headers.containsValueAnySpelling("accept", "a")).isTrue();
        assertThat(headers.containsValueAnySpelling("accept", "A")).isFalse();
        assertThat(get("/").header("X-A", "1").header("x-a", "2").build().headers()
                .containsValueAnySpelling("X-A", "2")).isTrue();
    }

    @Test
    void requestHeadersReadUnderscoresAsDashesOnlyInTheAnySpellingLookups() {
        RequestHeaders headers = RequestHeaders.of(Map.of("X_Tenant", List.of("acme"), "x_forwarded_user", List.of("eve")));

        assertThat(headers.firstAnySpelling("X-Tenant")).isEqualTo("acme");
        assertThat(headers.containsAnySpelling("x-tenant")).isTrue();
        assertThat(headers.containsValueAnySpelling("X-TENANT", "acme")).isTrue();
        assertThat(headers.firstAnySpelling("X_Tenant")).isEqualTo("acme");
        assertThat(headers.first("X-Tenant")).isNull();
        assertThat(headers.first("X-Forwarded-User")).as("identity headers: the exact name").isNull();
        assertThat(headers.first("X_Forwarded_User")).isEqualTo("eve");
    }
}
