package dev.portcullis.core.policy;

import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static dev.portcullis.core.policy.TestRequests.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReferrerMatcherTest {

    private static final String APP = "https://app.example.com/**";
    private static final String SUBDOMAINS = "https://*.example.com/**";

    static ReferrerMatcher referrers(String... patterns) {
        return ReferrerMatcher.of(List.of(patterns));
    }

    static AccessRequest withReferer(String referer) {
        return get("/assets/logo.png").header("Referer", referer).build();
    }

    static Arguments row(List<String> patterns, String referer, boolean expected, String explanation) {
        return Arguments.of(patterns, referer, expected, explanation);
    }

    static Stream<Arguments> decisionTable() {
        List<String> hotlinking = List.of("none", APP);
        List<String> subdomains = List.of(SUBDOMAINS);
        String failApp = " matches none of [none, https://app.example.com/**]";
        String failSub = " matches none of [https://*.example.com/**]";
        return Stream.of(
                row(hotlinking, "https://app.example.com/x", true,
                        "referer https://app.example.com/x matches https://app.example.com/**"),
                row(hotlinking, "https://app.example.com", true,
                        "referer https://app.example.com/ matches https://app.example.com/**"),
                row(hotlinking, "https://app.example.com/a/b/c?token=secret#top", true,
                        "referer https://app.example.com/a/b/c matches https://app.example.com/**"),
                row(hotlinking, "https://app.example.com?q=1", true,
                        "referer https://app.example.com/ matches https://app.example.com/**"),
                // scheme and host are case-insensitive, the default port is no port
                row(hotlinking, "HTTPS://App.Example.COM/Page", true,
                        "referer https://app.example.com/Page matches https://app.example.com/**"),
                row(hotlinking, "https://app.example.com:443/x", true,
                        "referer https://app.example.com/x matches https://app.example.com/**"),
                row(hotlinking, "https://app.example.com./x", true,
                        "referer https://app.example.com/x matches https://app.example.com/**"),
                row(hotlinking, "https://app.example.com:8443/x", false,
                        "referer https://app.example.com:8443/x" + failApp),
                row(hotlinking, "http://app.example.com/x", false, "referer http://app.example.com/x" + failApp),
                row(hotlinking, "https://evil.example/x", false, "referer https://evil.example/x" + failApp),
                row(hotlinking, "https://app.example.com.evil.example/x", false,
                        "referer https://app.example.com.evil.example/x" + failApp),
                // user info is how "app.example.com" could be smuggled in front of another host: not parsed
                row(hotlinking, "https://app.example.com@evil.example/x", false,
                        "referer \"https://app.example.com@evil.example/x\" (not an absolute http(s) URL)" + failApp),
                // a Referer that does not parse matches nothing, not even none
                row(hotlinking, "", false, "referer \"\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "app.example.com/x", false,
                        "referer \"app.example.com/x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "/x", false, "referer \"/x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "ftp://app.example.com/x", false,
                        "referer \"ftp://app.example.com/x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "android-app://com.example/", false,
                        "referer \"android-app://com.example/\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "https:///x", false, "referer \"https:///x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "https://app.example.com:0/x", false,
                        "referer \"https://app.example.com:0/x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "https://app.example.com:65536/x", false,
                        "referer \"https://app.example.com:65536/x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "https://app..example.com/x", false,
                        "referer \"https://app..example.com/x\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "https://app.example.com/a b", false,
                        "referer \"https://app.example.com/a b\" (not an absolute http(s) URL)" + failApp),
                row(hotlinking, "https://app example.com/?secret=1", false,
                        "referer \"https://app example.com/\" (not an absolute http(s) URL)" + failApp),
                // * is one host label: not the bare domain, not two labels
                row(subdomains, "https://a.example.com/x", true,
                        "referer https://a.example.com/x matches " + SUBDOMAINS),
                row(subdomains, "https://A-1.Example.com/", true,
                        "referer https://a-1.example.com/ matches " + SUBDOMAINS),
                row(subdomains, "https://example.com/x", false, "referer https://example.com/x" + failSub),
                row(subdomains, "https://a.b.example.com/x", false, "referer https://a.b.example.com/x" + failSub),
                row(subdomains, "https://a.example.org/x", false, "referer https://a.example.org/x" + failSub),
                row(List.of("https://app-*.example.com/**"), "https://app-eu.example.com/", true,
                        "referer https://app-eu.example.com/ matches https://app-*.example.com/**"),
                row(List.of("https://app-*.example.com/**"), "https://app.example.com/", false,
                        "referer https://app.example.com/ matches none of [https://app-*.example.com/**]"),
                // paths: * within a segment, ** any number of segments, case-sensitive, one trailing / ignored
                row(List.of("https://app.example.com/docs/*"), "https://app.example.com/docs/intro", true,
                        "referer https://app.example.com/docs/intro matches https://app.example.com/docs/*"),
                row(List.of("https://app.example.com/docs/*"), "https://app.example.com/docs/intro/", true,
                        "referer https://app.example.com/docs/intro/ matches https://app.example.com/docs/*"),
                row(List.of("https://app.example.com/docs/*"), "https://app.example.com/docs/a/b", false,
                        "referer https://app.example.com/docs/a/b matches none of [https://app.example.com/docs/*]"),
                row(List.of("https://app.example.com/docs/*"), "https://app.example.com/Docs/intro", false,
                        "referer https://app.example.com/Docs/intro matches none of [https://app.example.com/docs/*]"),
                row(List.of("https://app.example.com/docs/**"), "https://app.example.com/docs", true,
                        "referer https://app.example.com/docs matches https://app.example.com/docs/**"),
                row(List.of("https://app.example.com/a/**/z*.html"), "https://app.example.com/a/b/c/zoo.html", true,
                        "referer https://app.example.com/a/b/c/zoo.html matches https://app.example.com/a/**/z*.html"),
                row(List.of("https://app.example.com/"), "https://app.example.com", true,
                        "referer https://app.example.com/ matches https://app.example.com/"),
                row(List.of("https://app.example.com/"), "https://app.example.com/x", false,
                        "referer https://app.example.com/x matches none of [https://app.example.com/]"),
                // ports and schemes
                row(List.of("http://localhost:3000/**"), "http://LOCALHOST:3000/app", true,
                        "referer http://localhost:3000/app matches http://localhost:3000/**"),
                row(List.of("http://localhost:3000/**"), "http://localhost/app", false,
                        "referer http://localhost/app matches none of [http://localhost:3000/**]"),
                row(List.of("http://app.example.com:80/**"), "http://app.example.com/", true,
                        "referer http://app.example.com/ matches http://app.example.com:80/**"),
                row(List.of("*://app.example.com/**"), "http://app.example.com:80/", true,
                        "referer http://app.example.com/ matches *://app.example.com/**"),
                row(List.of("*://app.example.com/**"), "https://app.example.com/", true,
                        "referer https://app.example.com/ matches *://app.example.com/**"),
                row(List.of("*://app.example.com/**"), "https://app.example.com:80/", false,
                        "referer https://app.example.com:80/ matches none of [*://app.example.com/**]"),
                row(List.of("http://192.0.2.10/**"), "http://192.0.2.10:80/x", true,
                        "referer http://192.0.2.10/x matches http://192.0.2.10/**"),
                row(List.of("http://[2001:db8::1]:8080/**"), "http://[2001:DB8::1]:8080/x", true,
                        "referer http://[2001:db8::1]:8080/x matches http://[2001:db8::1]:8080/**"),
                row(List.of("http://[2001:db8::1]:8080/**"), "http://[2001:db8::2]:8080/x", false,
                        "referer http://[2001:db8::2]:8080/x matches none of [http://[2001:db8::1]:8080/**]"));
    }

    @ParameterizedTest(name = "{0} with Referer \"{1}\": {2}")
    @MethodSource("decisionTable")
    void decidesOnTheReferer(List<String> patterns, String referer, boolean expected, String explanation) {
        ReferrerMatcher matcher = ReferrerMatcher.of(patterns);
        AccessRequest request = withReferer(referer);

        assertThat(matcher.matches(request)).isEqualTo(expected);
        assertThat(expected ? matcher.explainMatch(request) : matcher.explainFailure(request)).isEqualTo(explanation);
    }

    @Test
    void aMissingRefererMatchesOnlyNone() {
        AccessRequest request = get("/assets/logo.png").build();

        assertThat(referrers("none", APP).matches(request)).isTrue();
        assertThat(referrers("none", APP).explainMatch(request)).isEqualTo("referer (absent) matches none");
        assertThat(referrers(APP).matches(request)).isFalse();
        assertThat(referrers(APP).explainFailure(request))
                .isEqualTo("referer (absent) matches none of [https://app.example.com/**]");
    }

    @Test
    void readsTheFirstRefererValue() {
        AccessRequest request = get("/").header("Referer", "https://evil.example/")
                .header("Referer", "https://app.example.com/").build();

        assertThat(referrers(APP).matches(request)).isFalse();
    }

    @Test
    void doesNotParseARefererOf65535CharactersOrMore() {
        String longPath = "https://app.example.com/" + "a".repeat(0xFFFF);

        assertThat(referrers(APP).matches(withReferer(longPath))).isFalse();
        assertThat(referrers(APP).explainFailure(withReferer(longPath)))
                .isEqualTo("referer \"" + longPath.substring(0, 100) + "...\" (not an absolute http(s) URL)"
                        + " matches none of [https://app.example.com/**]");
        assertThat(referrers(APP).matches(withReferer(longPath.substring(0, 0xFFFE)))).isTrue();
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "None", "app.example.com/**", "ftp://app.example.com/**", "//app.example.com/**",
        "https:app.example.com/**"})
    void rejectsPatternsThatAreNotHttpUrls(String pattern) {
        assertThatThrownBy(() -> referrers("none", pattern))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + pattern + "\" is not a valid referrer pattern (expected: none, or a glob over "
                        + "scheme://host/path with scheme http, https or *, e.g. https://app.example.com/**)");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"https:///**", "https://**.example.com/**", "https://app..example.com/**",
        "https://.example.com/**", "https://app.example.com./**", "https://app_ex%41mple.com/**",
        "https://user@app.example.com/**", "https://[2001:db8::zz]/**", "https://[2001:db8::1/**"})
    void rejectsInvalidHosts(String pattern) {
        assertThatThrownBy(() -> referrers(pattern))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + pattern + "\" is not a valid referrer pattern (expected: a host of non-empty labels "
                        + "of letters, digits, - and _, with * within a label, e.g. https://*.example.com/**)");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"https://app.example.com:0/**", "https://app.example.com:65536/**",
        "https://app.example.com:/**", "https://app.example.com:https/**", "https://app.example.com:000443/**"})
    void rejectsInvalidPorts(String pattern) {
        assertThatThrownBy(() -> referrers(pattern))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + pattern + "\" is not a valid referrer pattern (expected: a port from 1 to 65535 "
                        + "after the host, e.g. https://app.example.com:8443/**)");
    }

    @Test
    void rejectsPatternsWithoutAPathOrWithAQuery() {
        assertThatThrownBy(() -> referrers("https://app.example.com"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"https://app.example.com\" is not a valid referrer pattern "
                        + "(expected: a path after the host, e.g. https://app.example.com/**)");
        assertThatThrownBy(() -> referrers("https://app.example.com/?x=1"))
                .hasMessage("\"https://app.example.com/?x=1\" is not a valid referrer pattern "
                        + "(expected: no query or fragment, which referer matching ignores)");
        assertThatThrownBy(() -> referrers("https://app.example.com/a b"))
                .hasMessage("\"https://app.example.com/a b\" is not a valid referrer pattern "
                        + "(expected: no whitespace, control or non-ASCII characters (percent-encode them))");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"https://app.example.com//x", "https://app.example.com/a**/b",
        "https://app.example.com/a//"})
    void rejectsInvalidPaths(String pattern) {
        assertThatThrownBy(() -> referrers(pattern))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + pattern + "\" is not a valid referrer pattern (expected: a path of non-empty "
                        + "segments, with * within a segment and ** as a whole segment, "
                        + "e.g. https://app.example.com/docs/**)");
    }

    @Test
    void rejectsAnEmptyList() {
        assertThatThrownBy(() -> ReferrerMatcher.of(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("[] is not a valid referrers condition "
                        + "(expected: at least one pattern, e.g. none or https://app.example.com/**)");
    }

    @Test
    void describesItselfAsThePolicyWritesIt() {
        ReferrerMatcher matcher = referrers("none", "HTTPS://App.example.com/Docs/**");

        assertThat(matcher).hasToString("referrers [none, HTTPS://App.example.com/Docs/**]");
        assertThat(matcher.patterns()).containsExactly("none", "HTTPS://App.example.com/Docs/**");
        assertThat(matcher.matches(withReferer("https://app.EXAMPLE.com/Docs/x"))).isTrue();
        assertThat(matcher.matches(withReferer("https://app.example.com/docs/x"))).isFalse();
        assertThat(matcher.failsForWantOfIdentity(withReferer("https://evil.example/"))).isFalse();
    }

    @Test
    void matchingAllocatesNothing() {
        ReferrerMatcher matcher = referrers("none", "https://*.cdn.example.net/**", "https://app-*.example.com/a/**/z*",
                APP);
        AccessRequest direct = get("/").build();
        AccessRequest app = withReferer("https://App.Example.com:443/a/b/c?q=1#f");
        AccessRequest glob = withReferer("https://app-eu.example.com/a/b/c/zoo");
        AccessRequest other = withReferer("https://evil.example/a/b/c");
        AccessRequest invalid = withReferer("not a url");

        assertThat(matcher.matches(glob)).isTrue();
        assertThat(bytesPerCall(() -> matcher.matches(direct))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> matcher.matches(app))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> matcher.matches(glob))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> matcher.matches(other))).isLessThan(1.0);
        assertThat(bytesPerCall(() -> matcher.matches(invalid))).isLessThan(1.0);
    }
}
